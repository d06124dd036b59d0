"""The task side of `pdestream evaluate` (surrogates/tasks.cpp, training/evaluation.cpp):
how a trajectory becomes model inputs and how predictions are assembled, so a Python
prediction can be compared with pdestream's own, frame for frame."""

import torch

from .models import splitmix64


def _resolution(task, frames, times, coordinates=None):
    rx, rt = int(task.get("reduce_x", 1)), int(task.get("reduce_t", 1))
    if rx == 1 and rt == 1:
        return frames, list(times), coordinates
    index = [slice(None, None, rt), slice(None)] + [slice(None, None, rx)] * (frames.dim() - 2)
    frames = frames[tuple(index)].contiguous()
    times = list(times)[::rt]
    if coordinates is not None:
        coordinates = [list(c)[::rx] for c in coordinates]
    return frames, times, coordinates


def _grid_coordinates(file_coordinates, reduce_x):
    """Grid::coordinates of the (reduced) grid: lower + i * spacing with the stored ends,
    as TrajectoryStore builds it (not the stored values themselves)."""
    out = []
    for c in file_coordinates:
        c = [float(v) for v in c]
        n = len(c)
        kept = (n + reduce_x - 1) // reduce_x
        lower, upper = c[0], c[-1]
        if reduce_x > 1:
            full_spacing = (upper - lower) / (n - 1)
            upper = lower + ((kept - 1) * reduce_x) * full_spacing
        spacing = (upper - lower) / (kept - 1)
        out.append([lower + i * spacing for i in range(kept)])
    return out


def _scale(values, lo, hi):
    v = torch.tensor(values, dtype=torch.float64)
    return (2.0 * (v - lo) / (hi - lo) - 1.0).to(torch.float32)


def condition_vector(model, params, param_names):
    """cond [P] of one trajectory (None without a condition)."""
    if not len(model.condition):
        return None
    by_name = dict(zip(param_names, [float(p) for p in params]))
    return model.condition.vector(by_name)[0]


def rollout(model, initial, steps, cond=None):
    """surrogates::rollout with the normalisers inside `model`: initial [B, k, C, *spatial]
    -> [B, steps, C, *spatial]."""
    b, k = initial.shape[0], initial.shape[1]
    out_shape = [b] + list(initial.shape[2:])
    window, predictions = initial, []
    for _ in range(steps):
        x = window.flatten(1, 2)
        if model.layout == "vector":
            x = x.reshape(b, -1)
        y = model(x, cond=cond).reshape(out_shape)
        predictions.append(y)
        window = torch.cat([window.narrow(1, 1, k - 1), y.unsqueeze(1)], 1)
    return torch.stack(predictions, 1)


@torch.no_grad()
def predict_trajectory(model, frames, times, params=(), param_names=(), traj_id=0, noise_samples=1,
                       coordinates=None, chunk=1 << 16):
    """What `pdestream evaluate` predicts for one trajectory: [T, C, *spatial] float32.

    frames [Nt, C, *spatial] float32 at the file's resolution (Dataset.frames(i)), times
    [Nt], params in the data's order with their names, traj_id the trajectory's index in the
    evaluated file (it seeds PDE-Refiner's noise), coordinates the grid axes (pointwise
    tasks). Returns (prediction, predicted times)."""
    task = model.task
    kind = task["kind"]
    frames = torch.as_tensor(frames, dtype=torch.float32)
    full_coordinates = coordinates
    frames, times, _ = _resolution(task, frames, times)
    cond = condition_vector(model, params, param_names)
    spatial = list(frames.shape[2:])
    channels = frames.shape[1]

    if kind == "autoregressive":
        stride = int(task.get("stride", 1))
        if stride > 1:
            frames, times = frames[::stride].contiguous(), list(times)[::stride]
        k, horizon = int(task["history"]), int(task["horizon"])
        nt = frames.shape[0]
        steps = min(horizon, nt - k) if horizon > 0 else nt - k
        draws = max(1, noise_samples)
        model.set_noise_seeds([splitmix64(splitmix64(traj_id) ^ d) for d in range(draws)])
        initial = frames[:k].unsqueeze(0).expand([draws] + list(frames[:k].shape)).contiguous()
        c = cond.unsqueeze(0).expand(draws, -1) if cond is not None else None
        samples = rollout(model, initial, steps, c)
        model.set_noise_seeds([])
        return samples.mean(0), list(times)[k:k + steps]

    if kind == "pointwise":
        include_initial = bool(task.get("include_initial", True))
        first = 0 if include_initial else 1
        nframes = frames.shape[0] - first
        npts = 1
        for s in spatial:
            npts *= s
        grid = _grid_coordinates(full_coordinates, int(task.get("reduce_x", 1)))
        lower = [min(c) for c in grid]
        upper = [max(c) for c in grid]
        if "domain" in task:
            lower = [float(r[0]) for r in task["domain"]]
            upper = [float(r[1]) for r in task["domain"]]
        if "time_range" in task:
            t0, t1 = (float(v) for v in task["time_range"][0])
        else:
            t0, t1 = float(times[0]), float(times[-1])
        scaled = [_scale(grid[a], lower[a], upper[a]) for a in range(len(spatial))]
        p = torch.arange(nframes * npts, dtype=torch.int64)
        f, n = p.div(npts, rounding_mode="floor"), p.remainder(npts)
        rest, axis_index = n.clone(), [None] * len(spatial)
        for a in range(len(spatial) - 1, -1, -1):
            axis_index[a] = rest.remainder(spatial[a])
            rest = rest.div(spatial[a], rounding_mode="floor")
        coords = [scaled[a].index_select(0, axis_index[a]) for a in range(len(spatial))]
        t = torch.tensor([float(v) for v in times[first:]], dtype=torch.float64).index_select(0, f)
        coords.append((2.0 * (t - t0) / (t1 - t0) - 1.0).to(torch.float32))
        inputs = torch.stack(coords, 0)
        if task.get("branch", "condition") == "sensors" and cond is None:
            sensor = torch.linspace(0, float(npts - 1), int(task["sensors"]), dtype=torch.float64).round().long()
            cond = frames[0].reshape(channels, npts).index_select(1, sensor).reshape(-1)
        parts = []
        for start in range(0, inputs.shape[1], chunk):
            m = min(chunk, inputs.shape[1] - start)
            c = cond.unsqueeze(0) if cond is not None else None
            parts.append(model(inputs.narrow(1, start, m).unsqueeze(0), cond=c)[0])
        pts = torch.cat(parts, 1)
        pred = pts.reshape(channels, nframes, -1).permute(1, 0, 2).reshape([nframes, channels] + spatial)
        return pred.contiguous(), list(times)[first:]

    if kind == "field_at_time":
        include_initial = bool(task.get("include_initial", True))
        first = 0 if include_initial else 1
        inputs = []
        for frame in range(first, frames.shape[0]):
            values = torch.tensor([float(v) for v in params] + [float(times[frame])], dtype=torch.float64)
            values = values.to(torch.float32)
            if model.layout == "vector":
                inputs.append(values)
                continue
            x = values.view([-1] + [1] * len(spatial)).expand([values.shape[0]] + spatial)
            if task.get("coordinates", False):
                chans = [x]
                for a in range(len(spatial)):
                    v = [1] * (len(spatial) + 1)
                    v[1 + a] = spatial[a]
                    chans.append(torch.linspace(0.0, 1.0, spatial[a], dtype=torch.float32).view(v).expand([1] + spatial))
                x = torch.cat(chans, 0)
            inputs.append(x.contiguous())
        batch = torch.stack(inputs)
        pred_times = list(times)[first:]
    elif kind == "operator":
        nt = frames.shape[0]
        i = int(task.get("input_index", 0))
        t = int(task.get("t_index", -1))
        i, t = (i + nt if i < 0 else i), (t + nt if t < 0 else t)
        x = frames[i]
        batch = (x.reshape(-1) if model.layout == "vector" else x).unsqueeze(0)
        pred_times = [times[t]]
    else:
        raise ValueError(f"unknown task kind {kind!r}")
    c = cond.unsqueeze(0).expand(batch.shape[0], -1) if cond is not None else None
    pred = model(batch, cond=c)
    return pred.reshape([batch.shape[0], channels] + spatial), pred_times
