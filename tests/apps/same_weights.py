#!/usr/bin/env python3
"""Whether two .safetensors files hold the same tensors (names, dtypes, shapes, bytes),
whatever their metadata says.

    same_weights.py A.safetensors B.safetensors   # exit 0: same, 1: different
"""
import json
import struct
import sys


def tensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    return {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items()}


a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
same = a == b
print(f"{sys.argv[1]} vs {sys.argv[2]}: {len(a)} tensors, {'the same' if same else 'different'}")
sys.exit(0 if same else 1)
