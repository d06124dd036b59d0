#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (fuzz/corpus/<target>/) and the valid HDF5 files that
the structure-aware hdf5_dataset target edits (fuzz/hdf5/), with numpy and h5py.

    python3 fuzz/make_corpus.py          # (re)write every seed
    python3 fuzz/make_corpus.py --check  # exit 1 if a seed is missing

Each seed is a small valid input (or, for matrix_market, the truncated file issue 16 found
by hand), so the fuzzers start from what the readers accept and mutate from there.
"""
import json
import pathlib
import struct
import sys

import h5py
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "corpus"
FILES = {}


def seed(target, name, data):
    FILES[(target, name)] = data if isinstance(data, bytes) else data.encode()


# ---------------------------------------------------------------- config
OVERRIDES = {
    "heat2d_fno.toml": ["training.epochs=2", "model.width=8"],
    "heat2d_fno_online.toml": ["online.buffer=firo", "simulation.samples=4"],
    "ks_refiner.toml": ["model.hidden=8"],
    "acoustic_cube_deeponet_online.toml": ["solver.ppw=6"],
    "advection_cape.toml": [],
    "burgers_fv.toml": ["solver.nx=32"],
    "ns2d_fno.toml": [],
}
for name, overrides in OVERRIDES.items():
    text = (ROOT / "configs" / name).read_text()
    seed("config", name.replace(".toml", ""), text + "\0" + "\n".join(overrides))

# ---------------------------------------------------------------- safetensors


def safetensors(tensors, metadata):
    header, blobs, at = {}, b"", 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(raw)]}
        blobs += raw
        at += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blobs


seed("safetensors", "fno_like", safetensors(
    {"lifting.weight": ("F32", [4, 2], np.arange(8, dtype="<f4").tobytes()),
     "lifting.bias": ("F32", [4], np.ones(4, dtype="<f4").tobytes()),
     "steps": ("I64", [], np.array(3, dtype="<i8").tobytes())},
    {"model": json.dumps({"name": "mlp", "hidden": [4]}), "pdestream_version": "0.1.0"}))
seed("safetensors", "dtypes", safetensors(
    {"a": ("F64", [2, 1], np.zeros(2, dtype="<f8").tobytes()),
     "b": ("BF16", [3], b"\0" * 6), "c": ("BOOL", [2], b"\1\0"), "d": ("U8", [0], b"")}, {}))

# ---------------------------------------------------------------- Matrix Market
seed("matrix_market", "spd4", "%%MatrixMarket matrix coordinate real general\n% 1D Laplacian\n4 4 10\n"
     "1 1 2\n1 2 -1\n2 1 -1\n2 2 2\n2 3 -1\n3 2 -1\n3 3 2\n3 4 -1\n4 3 -1\n4 4 2\n")
seed("matrix_market", "sym4", "%%MatrixMarket matrix coordinate real symmetric\n4 4 7\n"
     "1 1 4\n2 1 1\n2 2 4\n3 2 1\n3 3 4\n4 3 1\n4 4 4\n")
seed("matrix_market", "vector4", "%%MatrixMarket matrix array real general\n4 1\n1\n2\n3\n4\n")
seed("matrix_market", "truncated", "%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 4\n2 2 1\n")

# ---------------------------------------------------------------- PETSc binary (big-endian)
MAT_CLASSID, VEC_CLASSID = 1211216, 1211214


def petsc_mat(dense):
    n = len(dense)
    rows = [[(j, v) for j, v in enumerate(r) if v != 0] for r in dense]
    out = struct.pack(">4i", MAT_CLASSID, n, n, sum(len(r) for r in rows))
    out += struct.pack(">%di" % n, *[len(r) for r in rows])
    out += b"".join(struct.pack(">i", j) for r in rows for j, _ in r)
    out += b"".join(struct.pack(">d", v) for r in rows for _, v in r)
    return out


def petsc_vec(values):
    return struct.pack(">2i", VEC_CLASSID, len(values)) + struct.pack(">%dd" % len(values), *values)


LAPLACE = [[2, -1, 0, 0], [-1, 2, -1, 0], [0, -1, 2, -1], [0, 0, -1, 2]]
seed("petsc_binary", "mat4", petsc_mat(LAPLACE))
seed("petsc_binary", "mat4_rhs", petsc_mat(LAPLACE) + petsc_vec([1.0, 0.0, 0.0, 1.0]))
seed("petsc_binary", "vec4", petsc_vec([1.0, 2.0, 3.0, 4.0]))

# ---------------------------------------------------------------- .npy masks


def npy(array):
    import io
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


mask = np.zeros((4, 5), dtype=np.uint8)
mask[1:3, 2] = 1
seed("npy", "mask2d", npy(mask))
seed("npy", "mask3d_bool", npy(np.ones((2, 3, 4), dtype=bool)))

# ---------------------------------------------------------------- protocol


def fnv1a(raw):
    h, mask64 = 1469598103934665603, (1 << 64) - 1
    full = len(raw) - len(raw) % 8
    for i in range(0, full, 8):
        h = ((h ^ int.from_bytes(raw[i:i + 8], "little")) * 1099511628211) & mask64
    for b in raw[full:]:
        h = ((h ^ b) * 1099511628211) & mask64
    return h


def data_message(lo, hi, channels, params, values):
    payload = struct.pack("<%dd" % len(values), *values)
    header = struct.pack("<4qd3q3q2qQq", 7, 3, 1, 2, 0.5, *lo, *hi, channels, len(values), fnv1a(payload),
                         len(params))
    return header + struct.pack("<%dd" % len(params), *params) + payload


seed("protocol", "data", b"\0" + data_message([0, 0, 0], [2, 3, 1], 1, [0.3, 1.5], [float(i) for i in range(6)]))
seed("protocol", "data_2ch", b"\4" + data_message([1, 0, 0], [2, 1, 1], 2, [], [1.0, -1.0]))
reason = b"diverged: NaN at step 4"
seed("protocol", "end", b"\1" + struct.pack("<4q2dq", 7, 12, 2, 1, 0.25, 3.5, len(reason)) + reason)
seed("protocol", "result", b"\2" + struct.pack("<4qq", 7, 3, 0, 40, 0))
seed("protocol", "work", b"\3" + struct.pack("<6d", 7, 3, 0, 1, 0.25, 2.0))

# ---------------------------------------------------------------- resume
seed("resume_state", "state", json.dumps({"step": 120, "coordinator": {
    "position": 9, "done": [0, 1, 2, 4, 5], "redrawn": [3], "skipped": [], "failures": 1,
    "failure_reasons": {"NaN in the solution": 1}}}, indent=1))
# resume_buffer decisions (fuzz/targets.cpp): mode, present bits, count, then tensors.
seed("resume_buffer", "two_samples", bytes([0, 15, 3, 6, 11, 4, 4, 11, 5, 4, 2, 2, 4, 0, 2, 2, 4, 0]))
seed("resume_buffer", "empty", bytes([0, 3, 1, 0]))
seed("resume_buffer", "with_cond", bytes([0, 31, 2, 3, 5, 4, 4, 2, 1, 3, 1, 2, 1, 3, 1, 2, 1, 2, 0]))

# ---------------------------------------------------------------- HDF5 bases and edit lists


def dataset(path, tensor, coords, t, params=None, param_names=None, channels=None, solver=None):
    with h5py.File(path, "w", track_order=False) as f:
        f.create_dataset("tensor", data=tensor.astype("f4"))
        for axis, c in zip("xyz", coords):
            f.create_dataset(axis + "-coordinate", data=np.asarray(c, dtype="f4"))
        if t is not None:
            f.create_dataset("t-coordinate", data=np.asarray(t, dtype="f4"))
        if params is not None:
            d = f.create_dataset("params", data=np.asarray(params, dtype="f8"))
            d.attrs["param_names"] = param_names
        if channels is not None:
            f.attrs["channels"] = channels
        if solver is not None:
            f.attrs["solver"] = solver
            f.attrs["config"] = '[solver]\nname = "%s"\n' % solver


HDF5 = HERE / "hdf5"
BASES = {
    # PDEBench's 1D layout: Nt + 1 time values, two parameters.
    "base_1d.h5": lambda p: dataset(p, np.random.default_rng(0).random((3, 4, 8)), [np.linspace(0, 1, 8)],
                                    np.linspace(0, 0.4, 5), [[0.1, 1.0], [0.2, 2.0], [0.3, 3.0]], ["nu", "beta"]),
    "base_2d.h5": lambda p: dataset(p, np.random.default_rng(1).random((2, 3, 4, 5, 2)),
                                    [np.linspace(0, 1, 4), np.linspace(0, 2, 5)], [0.0, 0.1, 0.2],
                                    [[0.5], [0.7]], ["kappa"], ["u", "v"], "heat2d"),
    "base_3d.h5": lambda p: dataset(p, np.random.default_rng(2).random((1, 2, 4, 3, 2)),
                                    [np.linspace(0, 1, 4), np.linspace(0, 1, 3), np.linspace(0, 1, 2)], None),
}
seed("hdf5_dataset", "base0", bytes([0]))
seed("hdf5_dataset", "base1", bytes([1]))
seed("hdf5_dataset", "base2", bytes([2]))
seed("hdf5_dataset", "base0_new_tensor", bytes([0, 0, 0, 3, 2, 4, 8, 0, 0]))
seed("hdf5_dataset", "base1_channels", bytes([1, 3, 0, 0, 1, 3, 0, 0, 0]))


def main():
    check = "--check" in sys.argv
    missing = [f"{t}/{n}" for (t, n) in FILES if not (CORPUS / t / n).exists()]
    missing += [n for n in BASES if not (HDF5 / n).exists()]
    if check:
        for m in missing:
            print("missing:", m)
        return 1 if missing else 0
    for (t, n), data in FILES.items():
        (CORPUS / t).mkdir(parents=True, exist_ok=True)
        (CORPUS / t / n).write_bytes(data)
    HDF5.mkdir(exist_ok=True)
    for n, make in BASES.items():
        make(HDF5 / n)
    print(f"make_corpus: {len(FILES)} seeds in {CORPUS}, {len(BASES)} HDF5 files in {HDF5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
