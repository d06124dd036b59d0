"""model.safetensors <-> a PyTorch module with pdestream's pre- and post-processing inside.

A file written by `pdestream train` holds the model's tensors under their module names,
the normalisers' statistics under `input_normalizer.` / `target_normalizer.` (float64
mean, var, count), and string metadata: "model" (architecture options, JSON), "task"
(task options with the bound condition ranges, JSON), "input_normalizer" /
"target_normalizer" ({"channels", "eps"}), "cond_normalizer", "config" (the run's TOML),
"data", "format".
"""

import json
import math
from collections import OrderedDict

import torch
import torch.nn as nn

from .models import FIELD_MODELS, build_model
from .safetensors import read_safetensors, write_safetensors


class Normalizer(nn.Module):
    """surrogates/normalizer.cpp: per-channel unit Gaussian, channels on axis 1."""

    def __init__(self, channels=1, eps=1e-5):
        super().__init__()
        self.channels, self.eps = int(channels), float(eps)
        self.register_buffer("mean", torch.zeros(self.channels, dtype=torch.float64))
        self.register_buffer("var", torch.ones(self.channels, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))

    def options_json(self):
        return OrderedDict(channels=self.channels, eps=self.eps)

    @torch.no_grad()
    def update(self, batch):
        """Merge a batch [B, C, ...] (or [B, C * N]) into the running statistics (float64)."""
        x = batch.reshape(batch.shape[0], self.channels, -1).to(torch.float64)
        n_b = float(x.shape[0] * x.shape[2])
        if n_b == 0:
            return
        per = x.transpose(0, 1).reshape(self.channels, -1)
        mean_b, var_b = per.mean(1), per.var(1, unbiased=False)
        n_a = float(self.count)
        n = n_a + n_b
        delta = mean_b - self.mean
        m2 = self.var * n_a + var_b * n_b + delta * delta * (n_a * n_b / n)
        self.mean.add_(delta * (n_b / n))
        self.var.copy_(m2 / n)
        self.count.fill_(n)

    def _stats(self, x):
        c = self.channels
        mean = self.mean.to(x.dtype).view(1, c, 1)
        # The scale is formed in float64 and rounded once, as libtorch does.
        scale = (self.var.sqrt() + self.eps).to(x.dtype).view(1, c, 1)
        return mean, scale

    def encode(self, x):
        mean, scale = self._stats(x)
        return ((x.reshape(x.shape[0], self.channels, -1) - mean) / scale).reshape(x.shape)

    def decode(self, x):
        mean, scale = self._stats(x)
        return (x.reshape(x.shape[0], self.channels, -1) * scale + mean).reshape(x.shape)


class Condition:
    """surrogates/condition.cpp: raw parameter values -> the conditioning vector (float32).

    Computed per value in float64 with the same operations ((log v - log lo) / (log hi -
    log lo)) and rounded once, so the vector equals pdestream's bit for bit."""

    def __init__(self, task):
        self.names = list(task.get("condition", []))
        self.transforms = list(task.get("condition_transform", ["none"] * len(self.names)))
        self.ranges = [tuple(r) for r in task.get("condition_range", [[0.0, 0.0]] * len(self.names))]

    def __len__(self):
        return len(self.names)

    def _one(self, v, i):
        t = self.transforms[i]
        lo, hi = self.ranges[i]
        v = float(v)
        if t in ("log", "log_minmax"):
            v, lo, hi = math.log(v), math.log(lo), math.log(hi)
        if t in ("minmax", "log_minmax"):
            v = (v - lo) / (hi - lo)
        return v

    def vector(self, params):
        """params: a dict name -> value (or [B] values), or rows [B, P] in the condition's order."""
        if isinstance(params, dict):
            cols = [params[n] for n in self.names]
            rows = [list(r) for r in zip(*[c if hasattr(c, "__len__") else [c] for c in cols])]
        else:
            p = torch.as_tensor(params, dtype=torch.float64)
            rows = (p.view(1, -1) if p.dim() == 1 else p).tolist()
        out = [[self._one(v, i) for i, v in enumerate(r)] for r in rows]
        return torch.tensor(out, dtype=torch.float64).to(torch.float32)

    def normalizer_json(self):
        """The metadata "cond_normalizer" (for readers that do not rebuild the task)."""
        if not self.names:
            return None
        logs, scale, shift = [], [], []
        for i, t in enumerate(self.transforms):
            log = t in ("log", "log_minmax")
            logs.append(log)
            if t in ("minmax", "log_minmax"):
                lo, hi = self.ranges[i]
                lo, hi = (math.log(lo), math.log(hi)) if log else (lo, hi)
                scale.append(1.0 / (hi - lo))
                shift.append(-lo / (hi - lo))
            else:
                scale.append(1.0)
                shift.append(0.0)
        return OrderedDict(names=self.names, log=logs, scale=scale, shift=shift)


class PdestreamModel(nn.Module):
    """A pdestream model with its normalisers: forward(x) takes the task's raw input (as
    `pdestream evaluate` assembles it, in physical units) and returns physical output.

    model              the family module (FNO, MLP, ...); its state_dict keys are the file's
    input_normalizer   Normalizer or None (runs with [training] normalize = false)
    target_normalizer  Normalizer or None
    task               the task options (dict); condition = Condition(task)

    forward(x, params=None, cond=None): `params` are the raw values of the task's condition
    parameters (a dict by name or rows [B, P] in the condition's order), transformed here;
    `cond` is an already transformed conditioning vector [B, P] (e.g. DeepONet's sensors).
    """

    def __init__(self, model, task=None, input_normalizer=None, target_normalizer=None, metadata=None):
        super().__init__()
        self.model = model
        self.input_normalizer = input_normalizer
        self.target_normalizer = target_normalizer
        self.task = dict(task or {})
        self.condition = Condition(self.task)
        self.metadata = dict(metadata or {})

    @property
    def kind(self):
        return self.model.kind

    @property
    def layout(self):
        return "field" if self.model.kind in FIELD_MODELS else "vector"

    def set_noise_seeds(self, seeds):
        if hasattr(self.model, "set_noise_seeds"):
            self.model.set_noise_seeds(seeds)

    def forward(self, x, params=None, cond=None):
        if params is not None:
            if cond is not None:
                raise ValueError("give params (raw values) or cond (transformed), not both")
            cond = self.condition.vector(params)
            if cond.shape[0] == 1 and x.shape[0] > 1:
                cond = cond.expand(x.shape[0], -1)
        if self.input_normalizer is not None:
            x = self.input_normalizer.encode(x)
        y = self.model(x, cond) if cond is not None else self.model(x)
        if self.target_normalizer is not None:
            y = self.target_normalizer.decode(y)
        return y

    def file_tensors(self):
        """name -> tensor as pdestream stores them: the model's parameters, then its
        (persistent) buffers, then the normalisers' statistics."""
        out = OrderedDict()
        keep = set(self.model.state_dict().keys())
        for name, p in self.model.named_parameters():
            out[name] = p
        for name, b in self.model.named_buffers():
            if name in keep:
                out[name] = b
        for prefix in ("input_normalizer", "target_normalizer"):
            norm = getattr(self, prefix)
            if norm is not None:
                for name in ("mean", "var", "count"):
                    out[f"{prefix}.{name}"] = getattr(norm, name)
        return out


def _normalizer(tensors, metadata, prefix, path):
    opts = json.loads(metadata[prefix])
    n = Normalizer(opts["channels"], opts["eps"])
    for name in ("mean", "var", "count"):
        key = f"{prefix}.{name}"
        if key not in tensors:
            raise KeyError(f"{path}: missing tensor {key!r}")
        getattr(n, name).copy_(tensors[key].to(torch.float64).reshape(getattr(n, name).shape))
    return n


def load_model(path):
    """The model of a `model.safetensors` (or a run directory holding one), in eval mode."""
    import os
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    tensors, metadata = read_safetensors(path)
    for key in ("model", "task"):
        if key not in metadata:
            raise KeyError(f"{path}: no {key!r} in the metadata (expected a model.safetensors written by pdestream train)")
    model = build_model(json.loads(metadata["model"]))
    own = model.state_dict()
    state = OrderedDict((k, tensors[k].to(v.dtype)) for k, v in own.items() if k in tensors)
    missing = [k for k in own if k not in tensors]
    if missing:
        raise KeyError(f"{path}: missing tensor(s) the model expects: {', '.join(missing[:5])}")
    model.load_state_dict(state, strict=True)
    inp = tgt = None
    if "input_normalizer" in metadata:
        inp = _normalizer(tensors, metadata, "input_normalizer", path)
        tgt = _normalizer(tensors, metadata, "target_normalizer", path)
    module = PdestreamModel(model, json.loads(metadata["task"]), inp, tgt, metadata)
    module.eval()
    return module


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def save_model(module, path, task=None, config=None, metadata=None):
    """Write `module` (a PdestreamModel, or a bare family module with `task` given) as a
    model.safetensors that `pdestream evaluate --run DIR` (DIR/model.safetensors) loads.

    task      task options (dict: "kind" and its keys, the condition with its ranges);
              defaults to the PdestreamModel's
    config    the TOML text stored as "config" (evaluate reads [solver] receivers from it
              for pointwise models); defaults to the loaded file's
    metadata  extra string metadata
    A path that is a directory gets model.safetensors inside it."""
    import os
    if not isinstance(module, PdestreamModel):
        if task is None:
            raise ValueError("save_model: a bare model needs task=... (the task options)")
        module = PdestreamModel(module, task)
    task = dict(task if task is not None else module.task)
    if "kind" not in task:
        raise ValueError("save_model: the task options need a 'kind'")
    meta = OrderedDict()
    for key in ("config", "data"):
        if key in module.metadata:
            meta[key] = module.metadata[key]
    if config is not None:
        meta["config"] = config
    meta["format"] = "pt"
    meta["model"] = _dumps(module.model.options_json())
    meta["task"] = _dumps(task)
    cond = Condition(task).normalizer_json()
    if cond is not None:
        meta["cond_normalizer"] = _dumps(cond)
    if (module.input_normalizer is None) != (module.target_normalizer is None):
        raise ValueError("save_model: pdestream stores both normalisers or neither")
    if module.input_normalizer is not None:
        meta["input_normalizer"] = _dumps(module.input_normalizer.options_json())
        meta["target_normalizer"] = _dumps(module.target_normalizer.options_json())
    meta.update(metadata or {})
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    elif os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    write_safetensors(path, module.file_tensors(), meta)
    return path
