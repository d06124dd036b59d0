#!/usr/bin/python3
"""Open datasets written by `pdestream generate` with h5py, as a Python user would, and
check the PDEBench layout, the physics of the boundary values, and that files written with
different rank layouts hold the same data.

    /usr/bin/python3 check_generated.py FILE.h5 [MORE.h5 ...]
"""
import sys

import h5py
import numpy as np


def check(path):
    with h5py.File(path, "r") as f:
        t = f["tensor"]
        assert t.dtype == np.float32, f"{path}: tensor dtype {t.dtype}, expected float32"
        assert t.ndim == 4, f"{path}: tensor rank {t.ndim}, expected 4 [N, Nt, Nx, Ny]"
        n, nt, nx, ny = t.shape
        x = f["x-coordinate"][:]
        y = f["y-coordinate"][:]
        tc = f["t-coordinate"][:]
        assert x.shape == (nx,) and y.shape == (ny,) and tc.shape == (nt,), (x.shape, y.shape, tc.shape)
        assert np.isclose(x[0], 0) and np.isclose(x[-1], 1) and np.isclose(y[-1], 1)
        assert tc[0] == 0 and np.all(np.diff(tc) > 0)
        params = f["params"][:]
        names = [s.decode() if isinstance(s, bytes) else str(s) for s in f["params"].attrs["param_names"]]
        assert params.shape == (n, len(names)), params.shape
        assert names == ["alpha", "t_init", "t_left", "t_right", "t_bottom", "t_top"], names
        data = t[:]
        assert np.all(np.isfinite(data))
        p = {k: params[:, i] for i, k in enumerate(names)}
        # Dirichlet sides (corners excluded) carry the sampled values at every frame.
        for side, sl in (("t_left", np.s_[:, :, 0, 1:-1]), ("t_right", np.s_[:, :, -1, 1:-1]),
                         ("t_bottom", np.s_[:, :, 1:-1, 0]), ("t_top", np.s_[:, :, 1:-1, -1])):
            want = np.broadcast_to(p[side][:, None, None], data[sl].shape)
            assert np.allclose(data[sl], want, atol=1e-6), f"{path}: {side} boundary differs"
        # The initial interior is t_init; later frames stay within the max principle bounds.
        assert np.allclose(data[:, 0, 1:-1, 1:-1], p["t_init"][:, None, None], atol=1e-6)
        lo = np.minimum.reduce([p[k] for k in ("t_init", "t_left", "t_right", "t_bottom", "t_top")])
        hi = np.maximum.reduce([p[k] for k in ("t_init", "t_left", "t_right", "t_bottom", "t_top")])
        assert np.all(data.min(axis=(1, 2, 3)) >= lo - 1e-5) and np.all(data.max(axis=(1, 2, 3)) <= hi + 1e-5)
        # Parameters lie in the configured ranges and differ between samples.
        assert np.all((p["alpha"] >= 0.1) & (p["alpha"] <= 1.0))
        assert len(np.unique(p["alpha"])) == n
        for key in ("solver", "config", "pdestream_version"):
            assert key in f.attrs, f"{path}: missing root attribute {key}"
        return data, params


results = [check(p) for p in sys.argv[1:]]
for path, (data, params) in zip(sys.argv[2:], results[1:]):
    assert np.array_equal(params, results[0][1]), f"{path}: params differ from {sys.argv[1]}"
    diff = np.abs(data - results[0][0]).max()
    assert diff < 1e-6, f"{path}: tensor differs from {sys.argv[1]} by {diff}"
print(f"checked {len(results)} file(s): layout, boundary values, max principle, rank-layout independence")
