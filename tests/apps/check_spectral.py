#!/usr/bin/python3
"""Open burgers1d / ns2d datasets written by `pdestream generate` with h5py and check the
PDEBench layout, the physics a Python user would rely on, and that files written with
different rank layouts hold the same data.

    /usr/bin/python3 check_spectral.py burgers1d FILE.h5 [MORE.h5 ...]
    /usr/bin/python3 check_spectral.py ns2d FILE.h5 [MORE.h5 ...]
"""
import sys

import h5py
import numpy as np


def check(solver, path):
    with h5py.File(path, "r") as f:
        attr = f.attrs["solver"]
        attr = attr.decode() if isinstance(attr, bytes) else str(attr)
        assert attr == solver, f"{path}: solver attribute {attr!r}, expected {solver!r}"
        t = f["tensor"]
        assert t.dtype == np.float32, f"{path}: tensor dtype {t.dtype}"
        data = t[:].astype(np.float64)
        assert np.all(np.isfinite(data)), f"{path}: non-finite values"
        x = f["x-coordinate"][:]
        tc = f["t-coordinate"][:]
        names = [s.decode() if isinstance(s, bytes) else str(s) for s in f["params"].attrs["param_names"]]
        params = f["params"][:]
        assert names == ["ic_seed", "nu"], names
        n = data.shape[0]
        assert params.shape == (n, 2), params.shape
        # Every sample has its own random initial field.
        assert len(np.unique(np.floor(params[:, 0]))) == n, params[:, 0]
        assert np.all((params[:, 0] >= 0) & (params[:, 0] <= 1e9))
        # Periodic grid: x = i / nx, the end point 1 is not stored.
        nx = data.shape[2]
        assert np.allclose(x, np.arange(nx) / nx, atol=1e-7), x[:3]
        assert tc[0] == 0 and np.all(np.diff(tc) > 0)
        if solver == "burgers1d":
            assert data.ndim == 3, f"{path}: tensor rank {data.ndim}, expected 3 [N, Nt, Nx]"
            # Burgers conserves the mean (zero; the subsampled grid sees aliases of modes
            # k = nx, 2 nx, ... of size ~1e-4) and dissipates the energy frame by frame.
            assert np.abs(data.mean(axis=2)).max() < 1e-3
            energy = (data ** 2).mean(axis=2)
            assert np.all(np.diff(energy, axis=1) < 0), energy
            assert np.all(energy[:, 0] > 1e-3), energy[:, 0]
        else:
            assert data.ndim == 4 and data.shape[3] == nx, f"{path}: tensor shape {data.shape}"
            y = f["y-coordinate"][:]
            assert np.allclose(y, np.arange(nx) / nx, atol=1e-7)
            # Vorticity of a periodic velocity field has zero mean, and the forcing has none.
            assert np.abs(data.mean(axis=(2, 3))).max() < 1e-5
            # The forcing 0.1 (sin + cos) 2 pi (x + y) has the Fourier coefficient
            # f = 0.05 - 0.05i on mode (1, 1): over a short run that mode changes by about
            # f t (viscous decay and nonlinear transfer are small at nu = 1e-3, |u| ~ 0.05).
            f_11 = 0.05 - 0.05j
            change = (np.fft.fft2(data[:, -1]) - np.fft.fft2(data[:, 0]))[:, 1, 1] / nx ** 2
            along = (np.conj(f_11) * change).real / abs(f_11) ** 2 / tc[-1]
            assert np.all((along > 0.7) & (along < 1.3)), along
        return data, params


solver = sys.argv[1]
results = [check(solver, p) for p in sys.argv[2:]]
for path, (data, params) in zip(sys.argv[3:], results[1:]):
    assert np.array_equal(params, results[0][1]), f"{path}: params differ from {sys.argv[2]}"
    diff = np.abs(data - results[0][0]).max()
    assert diff < 1e-6, f"{path}: tensor differs from {sys.argv[2]} by {diff}"
print(f"checked {len(results)} {solver} file(s): layout, physics, rank-layout independence")
