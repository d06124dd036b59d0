#!/usr/bin/python3
"""Check that an HDF5 file written by pdestream has PDEBench's layout, as h5py sees it.

Run with Debian's /usr/bin/python3 (python3-h5py, python3-numpy):

    check_pdebench_layout.py FILE --samples 3 --times 0 0.1 0.2 0.3 --shape 8 6 \
        --channels u v --params nu amp --solver heat2d

Values must follow the analytic function shared with test_hdf5_pdebench_python.cpp:

    value(s, t, x, y, z, c) = (s + 1) * (x + 2 y^2 + 3 z) + 3 t + 0.5 c
    params[s, p]            = (s + 1) + 0.5 p

Exits 0 when everything matches, 1 with one message per failed check otherwise.
"""
import argparse
import sys

import h5py
import numpy as np

AXES = ["x-coordinate", "y-coordinate", "z-coordinate"]
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def as_str(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.shape == ():
        return as_str(v[()])
    return str(v)


def as_str_list(v):
    return [as_str(x) for x in np.atleast_1d(v).tolist()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--samples", type=int, required=True)
    ap.add_argument("--times", type=float, nargs="+", required=True)
    ap.add_argument("--shape", type=int, nargs="+", required=True)
    ap.add_argument("--lower", type=float, nargs="+")
    ap.add_argument("--upper", type=float, nargs="+")
    ap.add_argument("--channels", nargs="+", required=True)
    ap.add_argument("--params", nargs="*", default=[])
    ap.add_argument("--solver", default=None)
    a = ap.parse_args()

    dim = len(a.shape)
    C = len(a.channels)
    N = a.samples
    Nt = len(a.times)
    with h5py.File(a.file, "r") as f:
        # tensor
        if not check("tensor" in f, "no 'tensor' dataset"):
            return
        t = f["tensor"]
        expect = (N, Nt) + tuple(a.shape) + ((C,) if C > 1 else ())
        check(t.shape == expect, f"tensor shape {t.shape}, expected {expect}")
        check(t.dtype == np.float32, f"tensor dtype {t.dtype}, expected float32")

        # coordinates
        coords = []
        for ax in range(3):
            name = AXES[ax]
            if ax < dim:
                if not check(name in f, f"missing '{name}'"):
                    return
                c = f[name]
                check(c.dtype == np.float32, f"{name} dtype {c.dtype}, expected float32")
                check(c.shape == (a.shape[ax],), f"{name} shape {c.shape}, expected ({a.shape[ax]},)")
                c = c[...].astype(np.float64)
                check(np.all(np.diff(c) > 0), f"{name} is not increasing")
                if a.lower:
                    check(abs(c[0] - a.lower[ax]) < 1e-6, f"{name}[0] = {c[0]}, expected {a.lower[ax]}")
                if a.upper:
                    check(abs(c[-1] - a.upper[ax]) < 1e-6, f"{name}[-1] = {c[-1]}, expected {a.upper[ax]}")
                coords.append(c)
            else:
                check(name not in f, f"unexpected '{name}' for a {dim}-D grid")
                coords.append(np.zeros(1))
        tc = f["t-coordinate"] if "t-coordinate" in f else None
        if check(tc is not None, "missing 't-coordinate'"):
            check(tc.dtype == np.float32, f"t-coordinate dtype {tc.dtype}, expected float32")
            check(tc.shape == (Nt,), f"t-coordinate shape {tc.shape}, expected ({Nt},)")
            check(np.allclose(tc[...], a.times, atol=1e-6), f"t-coordinate {tc[...]}, expected {a.times}")

        # params
        P = len(a.params)
        if P:
            if check("params" in f, "missing 'params'"):
                p = f["params"]
                check(p.dtype == np.float64, f"params dtype {p.dtype}, expected float64")
                check(p.shape == (N, P), f"params shape {p.shape}, expected ({N}, {P})")
                names = as_str_list(p.attrs.get("param_names", []))
                check(names == a.params, f"param_names {names}, expected {a.params}")
                want = np.array([[(s + 1) + 0.5 * q for q in range(P)] for s in range(N)])
                check(p.shape == want.shape and np.allclose(p[...], want),
                      f"params values {p[...]}, expected {want}")

        # root attributes
        ch = as_str_list(f.attrs.get("channels", []))
        check(ch == a.channels, f"channels attribute {ch}, expected {a.channels}")
        check(as_str(f.attrs.get("pdestream_version", "")) == "0.1.0", "pdestream_version != 0.1.0")
        check("config" in f.attrs, "missing 'config' attribute")
        if a.solver is not None:
            check(as_str(f.attrs.get("solver", "")) == a.solver, f"solver attribute != {a.solver}")

        # values: broadcast coordinates in 'ij' order (x slowest), channel last
        X, Y, Z = np.meshgrid(*coords, indexing="ij")
        X, Y, Z = (g.reshape(tuple(a.shape)) for g in (X, Y, Z))
        for s in range(N):
            for ti, tv in enumerate(a.times):
                frame = t[s, ti].astype(np.float64)
                for c in range(C):
                    want = (s + 1) * (X + 2 * Y * Y + 3 * Z) + 3 * tv + 0.5 * c
                    got = frame[..., c] if C > 1 else frame
                    if not check(np.allclose(got, want, rtol=1e-5, atol=1e-5),
                                 f"tensor[{s}, {ti}] channel {c}: max error "
                                 f"{np.max(np.abs(got - want))}"):
                        return


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # h5py errors, missing keys, ...
        failures.append(f"{type(e).__name__}: {e}")
    if failures:
        for msg in failures:
            print(f"check_pdebench_layout: {msg}", file=sys.stderr)
        sys.exit(1)
    print("check_pdebench_layout: OK")
