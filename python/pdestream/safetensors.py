"""The .safetensors container, read and written without the `safetensors` package.

Layout: 8-byte little-endian header length, a JSON header (tensor name -> dtype, shape,
data_offsets; "__metadata__" -> string map), then the raw little-endian tensor bytes.
pdestream pads the header with spaces to a multiple of 8 and checks that the tensors tile
the data region without gaps, so the writer below does the same.
"""

import json
import struct
from collections import OrderedDict

import numpy as np
import torch

_NUMPY = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "F16": np.float16,
          "I32": np.int32, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "BOOL": np.bool_}
_CODE = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def read_safetensors(path):
    """(OrderedDict name -> torch.Tensor in file order, metadata dict of strings)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: not a safetensors file ({len(blob)} bytes)")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} does not fit the file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    metadata = dict(header.pop("__metadata__", {}) or {})
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    tensors = OrderedDict()
    for name, info in entries:
        begin, end = info["data_offsets"]
        dtype = _NUMPY.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {info['dtype']}")
        arr = np.frombuffer(data[begin:end], dtype=np.dtype(dtype).newbyteorder("<"))
        arr = arr.astype(np.dtype(dtype).newbyteorder("="), copy=True).reshape(info["shape"])
        tensors[name] = torch.from_numpy(arr)
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Write name -> tensor (float32, float64 or int64; other float types become float32)
    in the given order, with string metadata."""
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        code = _CODE.get(t.dtype)
        if code is None:
            t, code = t.to(torch.float32), "F32"
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
