#!/usr/bin/env python3
"""Why PDE-Refiner does or does not beat the MSE U-Net (issue 14): one table of rollouts and
one of one-step error spectra, from trained runs of bench/pde_refiner.sh, through the Python
companion (python/pdestream), which predicts what `pdestream evaluate` predicts.

Rollouts (every test trajectory from its first frame, the task's stride, the mean
correlation curve's high-correlation time as `pdestream evaluate` computes it):
  mse                 the MSE U-Net (EMA weights: model.safetensors)
  mse raw             the same run's raw weights (checkpoint.pt), without the EMA
  refiner             PDE-Refiner, the K + 1 passes, one noise sample (evaluate's seeds)
  refiner raw         the same with the raw weights
  refiner initial     only the first pass (j = K): the one-step prediction the refinement starts from
  refiner no noise    the K + 1 passes without the ancestral noise (the deterministic path)

One step from every true test frame: the relative L2 error and, per band of wavenumbers, the
error's energy over the truth's energy (|FFT(pred - truth)|^2 / |FFT(truth)|^2, summed over the
band), for the MSE U-Net and for PDE-Refiner after each pass (the x0 estimate of pass j).
The paper's argument (Lippe et al. 2023, Fig. 3): MSE training leaves the high, low-amplitude
bands unlearned (ratio near 1) and the refinement passes learn them.

  python3 bench/pde_refiner_diagnose.py --test runs/bench-pde-refiner/test.h5 \\
      --mse runs/bench-pde-refiner/mse --refiner runs/bench-pde-refiner/refiner
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from pdestream import load_model, open_dataset  # noqa: E402
from pdestream.models import splitmix64  # noqa: E402
from pdestream.tasks import condition_vector  # noqa: E402


def with_raw_weights(run):
    """The run's model with the raw (not averaged) weights of its checkpoint.pt."""
    model = load_model(run)
    ckpt = torch.jit.load(os.path.join(run, "checkpoint.pt"))
    raw = {n[len("model."):]: p for n, p in ckpt.named_parameters() if n.startswith("model.")}
    raw.update({n[len("model."):]: b for n, b in ckpt.named_buffers() if n.startswith("model.")})
    state = model.model.state_dict()
    missing = [k for k in state if k not in raw]
    if missing:
        raise KeyError(f"{run}/checkpoint.pt: no raw tensor(s) {missing[:3]}")
    model.model.load_state_dict({k: raw[k].to(v.dtype) for k, v in state.items()})
    return model


def load_test(path, task):
    ds = open_dataset(path)
    stride = int(task.get("stride", 1))
    frames = torch.stack([torch.as_tensor(ds.frames(i), dtype=torch.float32)[::stride]
                          for i in range(ds.num_samples)])  # [N, T, C, X]
    names = list(ds.param_names)
    params = [ds.params[i] for i in range(ds.num_samples)]
    dt = float(ds.times[stride] - ds.times[0])
    return frames, names, params, dt


def conditions(model, names, params):
    rows = [condition_vector(model, p, names) for p in params]
    return None if rows[0] is None else torch.stack(rows)


def correlation(pred, truth):
    """Pearson correlation per trajectory and step: [N, T, C, X] -> [N, T] (evaluate's)."""
    p, y = pred.flatten(2).double(), truth.flatten(2).double()
    p, y = p - p.mean(2, True), y - y.mean(2, True)
    return (p * y).sum(2) / ((p * p).sum(2) * (y * y).sum(2)).sqrt().clamp_min(1e-300)


def high_steps(curve, threshold):
    for t, c in enumerate(curve):
        if not c >= threshold:
            return t
    return len(curve)


@torch.no_grad()
def rollout(step, frames, cond):
    """step(x [N, C, X], cond) -> next frame; from frame 0 over the whole trajectory."""
    x, out = frames[:, 0], []
    for _ in range(frames.shape[1] - 1):
        x = step(x, cond)
        out.append(x)
    return torch.stack(out, 1)


def seeded(model, n):
    model.set_noise_seeds([splitmix64(splitmix64(i) ^ 0) for i in range(n)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--test", required=True, help="test trajectories (HDF5 from pdestream generate)")
    ap.add_argument("--mse", required=True, help="run directory of the MSE U-Net")
    ap.add_argument("--refiner", required=True, help="run directory of PDE-Refiner")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bands", default="1,8,16,24,32,48,85", help="band edges in wavenumber index (rfft bins)")
    ap.add_argument("--steps", type=int, default=0, help="roll out at most this many steps (0: the whole trajectory)")
    ap.add_argument("--json", help="also write the tables' numbers to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    mse, refiner = load_model(args.mse), load_model(args.refiner)
    if refiner.kind != "pde_refiner" or refiner.input_normalizer is not None:
        sys.exit(f"{args.refiner}: expected a pde_refiner run trained without normalisers, "
                 f"got {refiner.kind}{' with normalisers' if refiner.input_normalizer is not None else ''}")
    frames, names, params, dt = load_test(args.test, refiner.task)
    if args.steps > 0:
        frames = frames[:, :args.steps + 1]
    report = {"rollouts": {}, "one_step": {}, "bands": [], "dt": dt}
    n = frames.shape[0]
    cond_mse, cond_ref = conditions(mse, names, params), conditions(refiner, names, params)
    truth = frames[:, 1:]
    print(f"{n} test trajectories x {frames.shape[1] - 1} steps of {dt:g} time units; "
          f"PDE-Refiner K = {refiner.model.opts['num_refinement_steps']}, "
          f"min noise std {refiner.model.opts['min_noise_std']:g}")
    print()

    variants = [("mse", lambda: mse, None)]
    if os.path.exists(os.path.join(args.mse, "checkpoint.pt")):
        variants.append(("mse raw", lambda: with_raw_weights(args.mse), None))
    variants += [("refiner", lambda: refiner, dict(noise=True)),
                 ("refiner initial", lambda: refiner, dict(noise=True, last_pass=refiner.model.opts["num_refinement_steps"])),
                 ("refiner no noise", lambda: refiner, dict(noise=False))]
    if os.path.exists(os.path.join(args.refiner, "checkpoint.pt")):
        variants.append(("refiner raw", lambda: with_raw_weights(args.refiner), dict(noise=True)))

    print("| variant | corr > 0.8 (time) | > 0.9 | mean per trajectory > 0.8 | first-step rel. L2 | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, get, how in variants:
        model = get()
        start = time.time()
        if how is None:
            pred = rollout(lambda x, c: model(x, cond=c), frames, cond_mse)
        else:
            seeded(model, n)
            pred = rollout(lambda x, c: model.model(x, c, estimates=True, **how)[-1], frames, cond_ref)
            model.set_noise_seeds([])
        corr = correlation(pred, truth)
        curve = corr.mean(0).tolist()
        per = [high_steps(corr[i].tolist(), 0.8) * dt for i in range(n)]
        rel = ((pred[:, 0] - truth[:, 0]).flatten(1).norm(dim=1) / truth[:, 0].flatten(1).norm(dim=1)).mean()
        print(f"| {name} | {high_steps(curve, 0.8) * dt:.1f} | {high_steps(curve, 0.9) * dt:.1f} | "
              f"{sum(per) / n:.1f} | {rel:.4f} | {time.time() - start:.0f} |", flush=True)
        report["rollouts"][name] = {"steps_0.8": high_steps(curve, 0.8), "steps_0.9": high_steps(curve, 0.9),
                                    "mean_time_per_trajectory": sum(per) / n, "first_step_rel_l2": float(rel)}
    print()

    # One step from every true frame.
    edges = [int(b) for b in args.bands.split(",")]
    bands = list(zip(edges[:-1], edges[1:]))
    report["bands"] = bands
    x_all = frames[:, :-1].flatten(0, 1)
    y_all = frames[:, 1:].flatten(0, 1)
    steps = frames.shape[1] - 1
    c_mse = None if cond_mse is None else cond_mse.repeat_interleave(steps, 0)
    c_ref = None if cond_ref is None else cond_ref.repeat_interleave(steps, 0)
    spec_true = torch.fft.rfft(y_all.double(), dim=-1).abs().pow(2).flatten(0, -2).sum(0)

    def row(label, pred):
        e = torch.fft.rfft((pred - y_all).double(), dim=-1).abs().pow(2).flatten(0, -2).sum(0)
        rel = ((pred - y_all).flatten(1).norm(dim=1) / y_all.flatten(1).norm(dim=1)).mean()
        ratios = [(e[a:b].sum() / spec_true[a:b].sum()).item() for a, b in bands]
        print(f"| {label} | {rel:.5f} | " + " | ".join(f"{r:.2e}" for r in ratios) + " |", flush=True)
        report["one_step"][label] = {"rel_l2": float(rel), "band_error_over_truth": ratios}

    print("One step from every true test frame: relative L2, and error energy / truth energy per band of k")
    print("(k: wavenumber index, 2 pi k / L)")
    print()
    print("| prediction | rel. L2 | " + " | ".join(f"k {a}-{b - 1}" for a, b in bands) + " |")
    print("|---|---:|" + "---:|" * len(bands))
    print("| (truth's share of energy) | - | " +
          " | ".join(f"{(spec_true[a:b].sum() / spec_true.sum()).item():.2e}" for a, b in bands) + " |")
    chunk = 2048
    with torch.no_grad():
        pred = torch.cat([mse(x_all[i:i + chunk], cond=None if c_mse is None else c_mse[i:i + chunk])
                          for i in range(0, x_all.shape[0], chunk)])
        row("MSE U-Net", pred)
        k = refiner.model.opts["num_refinement_steps"]
        parts = [[] for _ in range(k + 1)]
        for i in range(0, x_all.shape[0], chunk):
            est = refiner.model(x_all[i:i + chunk], None if c_ref is None else c_ref[i:i + chunk], estimates=True)
            for j, e in enumerate(est):
                parts[j].append(e)
        for j, p in enumerate(parts):
            label = "PDE-Refiner, initial (pass j = K)" if j == 0 else f"PDE-Refiner after refinement {j}"
            row(label, torch.cat(p))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
