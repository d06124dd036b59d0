#!/usr/bin/python3
"""Open what `pdestream simulate acoustic3d --hdf5` wrote, as a Python user would: the HDF5
field with h5py (PDEBench layout [1, Nt, Nx, Ny, Nz] float32, coordinates, the source position
among the params) and receivers.csv with numpy. The receiver series must equal the stored
field interpolated (trilinear) at the receiver, at every stored frame, to float32 rounding;
a second run's files (another rank count) must hold the same numbers.

    /usr/bin/python3 check_acoustic.py FIELD.h5 RECEIVERS.csv RX,RY,RZ [FIELD2.h5 RECEIVERS2.csv]
"""
import sys

import h5py
import numpy as np


def load(h5, csv):
    with h5py.File(h5, "r") as f:
        solver = f.attrs["solver"]
        solver = solver.decode() if isinstance(solver, bytes) else str(solver)
        assert solver == "acoustic3d", solver
        p = f["tensor"][:].astype(np.float64)
        t = f["t-coordinate"][:]
        xs = [f[f"{a}-coordinate"][:] for a in "xyz"]
        names = [s.decode() if isinstance(s, bytes) else str(s) for s in f["params"].attrs["param_names"]]
        params = f["params"][:]
    assert p.ndim == 5 and p.shape[0] == 1 and p.shape[1] == len(t), p.shape
    assert names == ["x0", "y0", "z0"], names
    assert np.all(np.isfinite(p))
    with open(csv) as f:
        header = f.readline().strip().split(",")
    rows = np.loadtxt(csv, delimiter=",", skiprows=1, ndmin=2)
    assert header[0] == "t" and rows.shape[1] == len(header), (header, rows.shape)
    assert np.all(np.diff(rows[:, 0]) > 0)
    return p[0], t, xs, params[0], header, rows


def trilinear(frame, xs, point):
    idx, w = [], []
    for a in range(3):
        h = xs[a][1] - xs[a][0]
        i = min(int(np.floor(point[a] / h)), len(xs[a]) - 2)
        idx.append(i)
        w.append(point[a] / h - i)
    v = 0.0
    for o in range(8):
        b = [(o >> a) & 1 for a in range(3)]
        weight = np.prod([w[a] if b[a] else 1 - w[a] for a in range(3)])
        v += weight * frame[idx[0] + b[0], idx[1] + b[1], idx[2] + b[2]]
    return v


def main():
    p, t, xs, params, header, rows = load(sys.argv[1], sys.argv[2])
    point = [float(v) for v in sys.argv[3].split(",")]
    peak = np.abs(p).max()
    worst = 0.0
    for k, tk in enumerate(t):
        r = np.argmin(np.abs(rows[:, 0] - tk))
        assert abs(rows[r, 0] - tk) < 1e-9, (rows[r, 0], tk)
        worst = max(worst, abs(rows[r, 1] - trilinear(p[k], xs, point)))
    assert worst < 1e-6 * peak, f"receiver vs stored field: {worst}"
    print(f"{sys.argv[1]}: {p.shape[0]} frames of {p.shape[1:]} points, source {params}, "
          f"{rows.shape[0]} receiver rows of {header[1:]}, receiver vs field within {worst:.1e}")
    if len(sys.argv) > 5:
        p2, _, _, params2, header2, rows2 = load(sys.argv[4], sys.argv[5])
        assert header2 == header and np.array_equal(rows2, rows), "receivers differ between runs"
        assert np.array_equal(p2, p) and np.array_equal(params2, params), "fields differ between runs"
        print(f"{sys.argv[4]}: identical")


if __name__ == "__main__":
    main()
