#!/usr/bin/python3
"""Read a model .safetensors with numpy only and compare every tensor's name, shape and
values with a text dump written by the C++ test (name ndim shape... values...).

    /usr/bin/python3 check_model_file.py MODEL.safetensors EXPECTED.txt
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}

with open(sys.argv[1], "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
header.pop("__metadata__", None)
data = raw[8 + n:]
found = {}
for name, info in header.items():
    b, e = info["data_offsets"]
    found[name] = np.frombuffer(data[b:e], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])

expected = {}
for line in open(sys.argv[2]):
    parts = line.split()
    name, ndim = parts[0], int(parts[1])
    shape = tuple(int(s) for s in parts[2:2 + ndim])
    values = np.array([float(v) for v in parts[2 + ndim:]]).reshape(shape)
    expected[name] = values

assert sorted(found) == sorted(expected), (sorted(found), sorted(expected))
for name, want in expected.items():
    got = found[name]
    assert got.shape == want.shape, f"{name}: shape {got.shape}, expected {want.shape}"
    assert np.allclose(got.astype(np.float64), want, rtol=1e-6, atol=1e-7), f"{name}: values differ"
print(f"numpy read {len(found)} tensors with the expected names, shapes and values")
