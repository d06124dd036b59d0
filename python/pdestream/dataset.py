"""Datasets written by `pdestream generate` (PDEBench's layout, io/hdf5_dataset.cpp)."""

from dataclasses import dataclass, field

import h5py
import numpy as np


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [_text(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value]
    return str(value)


@dataclass
class Dataset:
    """A whole dataset in memory.

    fields       float32 [N, Nt, *spatial, C] (the channel axis is added when the file has none)
    times        float64 [Nt] (the file's float32 values; PDEBench's Nt + 1 cut to Nt)
    coordinates  per spatial axis, float64 arrays (x, y, z) as stored
    params       float64 [N, P]; param_names the P names
    channels     channel names; solver, config (merged TOML) and the root attributes as text
    """
    path: str
    fields: np.ndarray
    times: np.ndarray
    coordinates: list
    params: np.ndarray
    param_names: list
    channels: list
    solver: str = ""
    config: str = ""
    attrs: dict = field(default_factory=dict)

    @property
    def num_samples(self):
        return self.fields.shape[0]

    @property
    def dim(self):
        return len(self.coordinates)

    def param(self, name):
        """[N] values of one named parameter."""
        return self.params[:, self.param_names.index(name)]

    def field(self, name):
        """[N, Nt, *spatial] values of one named channel."""
        return self.fields[..., self.channels.index(name)]

    def frames(self, sample):
        """One trajectory channels-first, as pdestream's models see it: [Nt, C, *spatial]."""
        f = self.fields[sample]
        return np.ascontiguousarray(np.moveaxis(f, -1, 1))


def open_dataset(path):
    with h5py.File(path, "r") as f:
        tensor = np.asarray(f["tensor"][...], dtype=np.float32)
        coordinates = []
        for axis in ("x", "y", "z"):
            name = f"{axis}-coordinate"
            if name not in f:
                break
            coordinates.append(np.asarray(f[name][...], dtype=np.float64))
        dim = len(coordinates)
        if tensor.ndim == dim + 2:
            tensor = tensor[..., None]
        nt = tensor.shape[1]
        times = (np.asarray(f["t-coordinate"][...], dtype=np.float64)[:nt] if "t-coordinate" in f
                 else np.arange(nt, dtype=np.float64))
        attrs = {k: _text(v) for k, v in f.attrs.items()}
        if "params" in f:
            params = np.asarray(f["params"][...], dtype=np.float64).reshape(tensor.shape[0], -1)
            names = (_text(f["params"].attrs["param_names"]) if "param_names" in f["params"].attrs
                     else [f"p{i}" for i in range(params.shape[1])])
            if isinstance(names, str):
                names = [names]
        else:
            params, names = np.zeros((tensor.shape[0], 0)), []
    channels = attrs.get("channels")
    if channels is None:
        channels = ["u"] if tensor.shape[-1] == 1 else [f"c{i}" for i in range(tensor.shape[-1])]
    elif isinstance(channels, str):
        channels = [channels]

    def scalar(key):
        v = attrs.get(key, "")
        return v[0] if isinstance(v, list) and v else (v if isinstance(v, str) else "")

    return Dataset(path=path, fields=tensor, times=times, coordinates=coordinates, params=params,
                   param_names=list(names), channels=list(channels), solver=scalar("solver"),
                   config=scalar("config"), attrs=attrs)
