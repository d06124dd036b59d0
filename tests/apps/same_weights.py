#!/usr/bin/env python3
"""Whether two .safetensors files hold the same tensors (names, dtypes, shapes, bytes),
whatever their metadata says; with --atol, the same up to that absolute difference (what
R trainer ranks against 1 rank give: the same to rounding).

    same_weights.py A.safetensors B.safetensors [--atol 1e-5] [--ignore NAME ...]
    # exit 0: same, 1: different; --ignore leaves out tensors that cannot change an output
    # (CAPE's PrmEmb_Pre.0.CNN_2.bias, which its LayerNorm cancels: Adam moves it by
    # rounding noise, differently on different rank counts)
"""
import json
import struct
import sys

import numpy as np


def tensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    return {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items()}


a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
ignored = [sys.argv[i + 1] for i, arg in enumerate(sys.argv) if arg == "--ignore"]
for name in ignored:
    a.pop(name, None)
    b.pop(name, None)
atol = float(sys.argv[sys.argv.index("--atol") + 1]) if "--atol" in sys.argv else None
if atol is None:
    same = a == b
    print(f"{sys.argv[1]} vs {sys.argv[2]}: {len(a)} tensors, {'the same' if same else 'different'}")
else:
    same = a.keys() == b.keys() and all(a[k][:2] == b[k][:2] for k in a)
    diff = max((float(np.abs(np.frombuffer(a[k][2], np.float32) - np.frombuffer(b[k][2], np.float32)).max())
                for k in a if a[k][0] == "F32"), default=0.0) if same else float("inf")
    same = same and diff <= atol
    print(f"{sys.argv[1]} vs {sys.argv[2]}: {len(a)} tensors, max difference {diff:.3g} "
          f"({'within' if same else 'beyond'} {atol:g})")
sys.exit(0 if same else 1)
