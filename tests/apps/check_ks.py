#!/usr/bin/python3
"""Open ks1d datasets written by `pdestream generate` with h5py: the PDEBench layout
([N, Nt, Nx] float32, coordinates, params with names), PDE-Refiner's setting (frames every
0.2 from 0 after the burn-in, L within 10% of 64, each its own seed), the physics a Python
user relies on (zero mean conserved, a chaotic state of order one), and that files written
with different rank layouts hold the same data, bit for bit.

    /usr/bin/python3 check_ks.py NX FRAMES FILE.h5 [MORE.h5 ...]
"""
import sys

import h5py
import numpy as np


def load(path, nx, frames):
    with h5py.File(path, "r") as f:
        attr = f.attrs["solver"]
        attr = attr.decode() if isinstance(attr, bytes) else str(attr)
        assert attr == "ks1d", f"{path}: solver {attr!r}"
        t = f["tensor"]
        assert t.dtype == np.float32 and t.ndim == 3, (t.dtype, t.shape)
        data = t[:].astype(np.float64)
        assert data.shape[1:] == (frames, nx), data.shape
        names = [s.decode() if isinstance(s, bytes) else str(s) for s in f["params"].attrs["param_names"]]
        assert names == ["ic_seed", "L", "nu"], names
        params = f["params"][:]
        tc = f["t-coordinate"][:]
        x = f["x-coordinate"][:]
    assert np.all(np.isfinite(data)), path
    assert np.allclose(tc, 0.2 * np.arange(frames)), tc[:3]
    assert np.allclose(x, 64.0 * np.arange(nx) / nx, atol=1e-5), x[:3]
    assert np.all((params[:, 1] >= 57.6) & (params[:, 1] <= 70.4)), params[:, 1]
    assert np.all(params[:, 2] == 1.0), params[:, 2]
    assert len(np.unique(np.floor(params[:, 0]))) == len(params), params[:, 0]
    # Sines over whole periods: zero mean, conserved (to float32 rounding of the stored values).
    assert np.abs(data.mean(axis=2)).max() < 1e-5, np.abs(data.mean(axis=2)).max()
    rms = np.sqrt((data ** 2).mean(axis=2))
    assert np.all(rms > 0.3) and np.all(rms < 3.0), (rms.min(), rms.max())
    return data, params


def main():
    nx, frames = int(sys.argv[1]), int(sys.argv[2])
    files = sys.argv[3:]
    first, params = load(files[0], nx, frames)
    for other in files[1:]:
        data, p = load(other, nx, frames)
        assert np.array_equal(first, data) and np.array_equal(params, p), f"{other} differs from {files[0]}"
    print(f"{len(files)} file(s): {first.shape[0]} trajectories x {frames} frames x {nx}, rms "
          f"{np.sqrt((first ** 2).mean()):.3f}, identical across rank layouts")


if __name__ == "__main__":
    main()
