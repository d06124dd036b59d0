#!/usr/bin/python3
"""Parse a .safetensors file written by test_safetensors with numpy only (no torch, no
safetensors package) and check the names, shapes and values the C++ side wrote.

    /usr/bin/python3 check_safetensors.py FILE
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "F16": "<f2", "U8": "u1"}


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = arr
    return meta, out


meta, t = load(sys.argv[1])
assert meta == {"format": "pt"}, meta
assert sorted(t) == ["empty", "fc0.bias", "fc0.weight", "step"], sorted(t)
w = t["fc0.weight"]
assert w.shape == (2, 3, 4) and w.dtype == np.float32
assert np.array_equal(w.ravel(), 0.5 * np.arange(24, dtype=np.float32) - 3.0)
assert np.array_equal(t["fc0.bias"], np.array([1.5, -2.25, 1e-300]))
assert t["step"].shape == () and int(t["step"]) == 123456789012345
assert t["empty"].shape == (0, 5)
print("numpy parsed", len(t), "tensors: names, shapes and values match")
