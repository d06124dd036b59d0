#!/usr/bin/python3
"""Open the 1D datasets that `pdestream generate` writes for advection1d, burgers1d_fv and
diffreact1d with h5py, as a PDEBench user would: PDEBench's layout (tensor [N, Nt, Nx]
float32, x-coordinate at the cell centres, t-coordinate every dt_out), the sampled
parameters by name, the physics every such file must satisfy (a conserved mean for the
conservation laws, [0, 1] for diffusion-reaction), and the same data from every file given
(written with different rank layouts).

    /usr/bin/python3 check_pdebench1d.py SOLVER NX NT T_FINAL FILE.h5 [MORE.h5 ...]
"""
import sys

import h5py
import numpy as np

solver, nx, nt, t_final = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
names_of = {"advection1d": ["ic_seed", "beta"], "burgers1d_fv": ["ic_seed", "nu"],
            "diffreact1d": ["ic_seed", "nu", "rho"]}
allowed = {"beta": {0.2, 0.4, 0.7, 2.0, 4.0}, "nu": None, "rho": {1.0, 2.0, 5.0, 10.0}}


def load(path):
    with h5py.File(path, "r") as f:
        t = f["tensor"]
        assert t.dtype == np.float32 and t.ndim == 3, (path, t.dtype, t.shape)
        n, nt_, nx_ = t.shape
        assert (nt_, nx_) == (nt, nx), (path, t.shape)
        x, tc = f["x-coordinate"][:], f["t-coordinate"][:]
        assert np.allclose(x, (np.arange(nx) + 0.5) / nx), "x-coordinate: expected the cell centres"
        assert np.allclose(tc, np.linspace(0, t_final, nt)), tc
        names = [s.decode() if isinstance(s, bytes) else str(s) for s in f["params"].attrs["param_names"]]
        assert names == names_of[solver], names
        params = f["params"][:]
        assert params.shape == (n, len(names))
        for j, name in enumerate(names[1:], 1):
            if allowed.get(name):
                assert set(params[:, j]) <= allowed[name], (name, set(params[:, j]))
        data = t[:].astype(np.float64)
    assert np.all(np.isfinite(data))
    if solver == "diffreact1d":
        assert data.min() >= -1e-6 and data.max() <= 1 + 1e-6, (data.min(), data.max())
        assert np.allclose(data[:, 0].min(axis=1), 0, atol=1e-6) and np.allclose(data[:, 0].max(axis=1), 1, atol=1e-6)
    else:
        mean = data.mean(axis=2)  # conservative schemes: the mean is constant in time
        drift = np.abs(mean - mean[:, :1]).max()
        assert drift < 1e-5, f"{path}: the mean drifts by {drift}"
    # Not a constant field: the random initial condition varies over x.
    assert np.all(data[:, 0].std(axis=1) > 1e-3)
    return data, params


first, first_params = load(sys.argv[5])
for path in sys.argv[6:]:
    data, params = load(path)
    assert np.array_equal(params, first_params), path
    diff = np.abs(data - first).max()
    assert diff == 0, f"{path} differs from {sys.argv[5]} by {diff}"
print(f"{solver}: {len(sys.argv) - 5} file(s), {first.shape[0]} trajectories of {nt} x {nx}, PDEBench layout, "
      f"identical across rank layouts")
