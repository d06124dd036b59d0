#!/usr/bin/python3
"""The Python companion (python/pdestream) against the real `pdestream` binary.

    /usr/bin/python3 tests/python/test_companion.py BIN_DIR WORK_DIR

For every model family: generate a tiny dataset and train a tiny model with BIN_DIR/pdestream,
let `pdestream evaluate --out` write its predictions, and compare them with load_model()'s
(through predict_trajectory, which assembles inputs as evaluate does). Then save_model: every
loaded model saved again must give pdestream the same predictions, and a model built and
trained in Python must be evaluated by pdestream exactly as Python predicts it. open_dataset
is checked against h5py. Exit status 0 when everything matches.
"""

import copy
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import pdestream  # noqa: E402
from pdestream.models import FNO  # noqa: E402

torch.set_num_threads(1)
CONFIGS = os.path.join(HERE, "..", "..", "configs")
# Float32 rounding: libtorch and Python's torch run the same kernels, so most families match
# bit for bit; this bound only allows the last-ulp differences of a different op grouping.
RTOL = 1e-6

FAILURES = []
RESULTS = []


def env():
    e = dict(os.environ)
    e.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
    return e


def run(*args):
    cmd = [PDS] + [str(a) for a in args]
    p = subprocess.run(cmd, cwd=WORK, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-3000:]}")
    return p.stdout


def generate(name, config, *sets, samples=4):
    out = os.path.join(WORK, name + ".h5")
    if not os.path.exists(out):
        args = ["generate", "--config", os.path.join(CONFIGS, config), "--samples", samples, "--out", out,
                "--set", f"output.dir={WORK}/gen_{name}"]
        for s in sets:
            args += ["--set", s]
        run(*args)
    return out


def train(name, toml):
    run_dir = os.path.join(WORK, name)
    shutil.rmtree(run_dir, ignore_errors=True)
    cfg = os.path.join(WORK, name + ".toml")
    with open(cfg, "w") as f:
        f.write(toml + f'\n[output]\ndir = "{run_dir}"\n')
    run("train", "--config", cfg)
    return run_dir


def evaluate(run_dir, data, out, *extra):
    run("evaluate", "--run", run_dir, "--data", data, "--out", out, "--samples", 2, *extra)
    with h5py.File(out, "r") as f:
        t = np.asarray(f["tensor"][...], dtype=np.float32)
        dim = sum(1 for a in "xyz" if f"{a}-coordinate" in f)
    if t.ndim == dim + 2:
        t = t[..., None]
    return np.moveaxis(t, -1, 2)  # [N, T, C, *spatial]


def python_predictions(model, data_path, n, noise_samples=1):
    d = pdestream.open_dataset(data_path)
    preds = []
    for i in range(n):
        p, _ = pdestream.predict_trajectory(model, d.frames(i), d.times, d.params[i], d.param_names, traj_id=i,
                                            noise_samples=noise_samples, coordinates=d.coordinates)
        preds.append(p.numpy())
    return np.stack(preds)


def record(label, ours, theirs, how):
    diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    scale = max(np.abs(theirs).max(), 1e-30)
    max_abs, max_rel = float(diff.max()), float(diff.max() / scale)
    ok = ours.shape == theirs.shape and np.all(np.isfinite(ours)) and max_rel <= RTOL
    RESULTS.append((label, max_abs, max_rel, ok, how))
    print(f"{'ok  ' if ok else 'FAIL'} {label:34s} max|diff| {max_abs:.3e}  max|diff|/max|ref| {max_rel:.3e}"
          f"  ({how}; {ours.size} values, max|ref| {scale:.3g})", flush=True)
    if not ok:
        FAILURES.append(label)


def check_names(run_dir):
    """Every tensor of the file is the model's (strict) or a normaliser's: none ignored."""
    tensors, _ = pdestream.read_safetensors(os.path.join(run_dir, "model.safetensors"))
    m = pdestream.load_model(run_dir)
    own = set(m.model.state_dict().keys())
    rest = {k for k in tensors if k not in own}
    assert all(k.split(".")[0] in ("input_normalizer", "target_normalizer") for k in rest), rest
    m.model.load_state_dict({k: tensors[k] for k in own}, strict=True)
    return m


def case(label, run_dir, data, noise_samples=1, roundtrip=True):
    """pdestream evaluate vs load_model on the first 2 trajectories of `data`; then the same
    model saved again by save_model must evaluate to the same predictions."""
    extra = ["--noise-samples", noise_samples] if noise_samples > 1 else []
    theirs = evaluate(run_dir, data, os.path.join(run_dir, "pred.h5"), *extra)
    model = check_names(run_dir)
    ours = python_predictions(model, data, theirs.shape[0], noise_samples)
    how = "evaluate --out vs load_model" + (f", {noise_samples} seeded noise samples" if noise_samples > 1 else "")
    record(label, ours, theirs, how)
    # The comparison must see the weights: scaling them by 1 + 1e-3 has to move the prediction.
    perturbed = copy.deepcopy(model)
    with torch.no_grad():
        for p in perturbed.model.parameters():
            p.mul_(1 + 1e-3)
    moved = np.abs(python_predictions(perturbed, data, theirs.shape[0], noise_samples) - ours).max()
    moved /= max(np.abs(ours).max(), 1e-30)
    print(f"     {'':34s} weights x (1 + 1e-3) move the prediction by {moved:.2e} (relative): the check sees them")
    if not moved > 1e-6:
        FAILURES.append(f"{label}: the prediction does not depend on the weights ({moved:.3g})")
    if roundtrip:
        rt = run_dir + "_resaved"
        shutil.rmtree(rt, ignore_errors=True)
        os.makedirs(rt)
        pdestream.save_model(model, os.path.join(rt, "model.safetensors"))
        again = evaluate(rt, data, os.path.join(rt, "pred.h5"), *extra)
        record(label + " (save_model)", again, theirs, "evaluate of the re-saved file vs the original")
    return model


# ------------------------------------------------------------------------------------- cases

TRAIN = """
[training]
max_steps = {steps}
epochs = 100
batch_size = 4
lr = 3e-3
schedule = "none"
threads = 1
seed = 1
{extra}
"""


def data_section(path, fraction=0.25):
    return f'[data]\npath = "{path}"\nvalidation_fraction = {fraction}\n'


def training(steps=3, **extra):
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in extra.items())
    return TRAIN.format(steps=steps, extra=lines)


def test_fno_mlp_unet_heat2d():
    heat = generate("heat", "heat2d.toml", "solver.nx=18", "solver.ny=18", "solver.outputs=4",
                    "solver.steps_per_output=2", samples=5)
    r = train("fno2d_field", data_section(heat) + """
[model]
name = "fno"
width = 8
modes = 4
layers = 2
projection = 16
[task]
kind = "field_at_time"
coordinates = true
""" + training())
    case("fno 2D field_at_time", r, heat)
    r = train("fno2d_ar_cond", data_section(heat) + """
[model]
name = "fno"
width = 8
modes = [4, 3]
layers = 3
padding = 3
[task]
kind = "autoregressive"
history = 2
condition = ["alpha", "t_init"]
condition_transform = ["log_minmax", "none"]
""" + training())
    case("fno 2D autoregressive+cond+pad", r, heat)
    r = train("mlp_field", data_section(heat) + """
[model]
name = "mlp"
hidden = [16, 16]
activation = "gelu"
[task]
kind = "field_at_time"
""" + training())
    case("mlp field_at_time", r, heat)
    r = train("mlp_pointwise", data_section(heat) + """
[model]
name = "mlp"
hidden = [16, 16]
activation = "tanh"
[task]
kind = "pointwise"
points = 64
condition = ["alpha", "t_left"]
condition_transform = ["minmax", "none"]
""" + training())
    case("mlp pointwise", r, heat)
    r = train("unet2d_film", data_section(heat) + """
[model]
name = "unet"
width = 8
levels = 2
[task]
kind = "autoregressive"
history = 1
condition = ["alpha"]
""" + training())
    case("unet 2D (FiLM, replicate pad)", r, heat)


def test_burgers_1d():
    burgers = generate("burgers", "burgers_fno.toml", "solver.nx=64", "solver.solve_nx=256", "solver.outputs=4")
    r = train("fno1d_op", data_section(burgers) + """
[model]
name = "fno"
width = 8
modes = 6
layers = 2
projection = 16
padding = 4
[task]
kind = "operator"
""" + training())
    case("fno 1D operator", r, burgers)
    r = train("unet1d_ar", data_section(burgers) + """
[model]
name = "unet"
width = 4
levels = 3
activation = "silu"
[task]
kind = "autoregressive"
history = 2
""" + training())
    case("unet 1D autoregressive", r, burgers)


def test_fno3d_deeponet_acoustic():
    acoustic = generate("acoustic", "acoustic_cube.toml", "solver.f_max=500", "solver.ppw=4",
                        "solver.duration=0.005", "solver.dt_out=1e-3", "output.paraview=false", samples=4)
    r = train("fno3d_ar", data_section(acoustic) + """
[model]
name = "fno"
width = 4
modes = 3
layers = 2
projection = 8
[task]
kind = "autoregressive"
history = 1
""" + training(steps=2))
    case("fno 3D autoregressive", r, acoustic)
    r = train("deeponet_pw", data_section(acoustic) + """
[model]
name = "deeponet"
branch_width = 16
branch_depth = 2
trunk_width = 16
trunk_depth = 2
latent = 8
activation = "sin"
fourier_features = [1.458, 0.729]
[task]
kind = "pointwise"
points = 200
condition = ["x0", "y0", "z0"]
condition_transform = ["minmax", "minmax", "minmax"]
""" + training(steps=3, normalize=False, loss="mse"))
    case("deeponet (sin, Fourier features)", r, acoustic)
    r = train("deeponet_tanh", data_section(acoustic) + """
[model]
name = "deeponet"
branch_width = 8
branch_depth = 1
trunk_width = 8
trunk_depth = 2
latent = 4
activation = "tanh"
modified = false
[task]
kind = "pointwise"
points = 200
condition = ["x0", "y0", "z0"]
""" + training(steps=2))
    case("deeponet (tanh, plain MLPs)", r, acoustic)


def test_ks_unet_modern_refiner():
    ks = generate("ks", "ks.toml", "solver.nx=64", "solver.t_final=4.0", "solver.burn_in=20")
    r = train("unet_modern_ar", data_section(ks) + """
[model]
name = "unet_modern"
hidden = 8
ch_mults = [1, 2, 2]
n_blocks = 1
difference_weight = 0.3
[task]
kind = "autoregressive"
history = 2
horizon = 6
condition = ["L"]
condition_transform = ["minmax"]
""" + training(steps=3))
    case("unet_modern 1D (+cond, difference)", r, ks)
    r = train("pde_refiner", data_section(ks) + """
[model]
name = "pde_refiner"
num_refinement_steps = 3
min_noise_std = 4e-7
difference_weight = 0.3
[model.base]
name = "unet_modern"
hidden = 8
ch_mults = [1, 2]
n_blocks = 1
[task]
kind = "autoregressive"
history = 1
stride = 2
horizon = 4
condition = ["L"]
condition_transform = ["minmax"]
condition_range = [[51.2, 53.76]]
""" + training(steps=3, objective="pde_refiner", normalize=False, ema_decay=0.9))
    model = case("pde_refiner (stride 2, 1 sample)", r, ks)
    case("pde_refiner (2 noise samples)", r, ks, noise_samples=2, roundtrip=False)
    # The deterministic path: one step with a given initial y and no ancestral noise, against
    # the refinement formulas written out over the denoiser (forward_with_time).
    refiner = model.model
    d = pdestream.open_dataset(ks)
    x = torch.as_tensor(d.frames(0)[:2])  # two frames as a batch of one-frame histories
    cond = model.condition.vector({"L": [d.param("L")[0]] * 2})
    y0 = torch.randn(x.shape, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        got = refiner(x, cond, y_init=y0, noise=False)
        y = y0.clone()
        K = refiner.opts["num_refinement_steps"]
        for j in range(K, -1, -1):
            v = refiner.model.forward_with_time(torch.cat([x, y], 1), torch.full([2], j * 1000.0 / K), cond)
            ab = refiner.alphas_cumprod[j]
            abp = refiner.alphas_cumprod[j - 1] if j else 1.0
            b = refiner.betas[j]
            x0 = ab ** 0.5 * y - (1 - ab) ** 0.5 * v
            y = abp ** 0.5 * b / (1 - ab) * x0 + (1 - b) ** 0.5 * (1 - abp) / (1 - ab) * y
        want = x + 0.3 * y
    record("pde_refiner deterministic path", got.numpy(), want.numpy(), "refinement loop vs the formulas")


def test_cape():
    adv = generate("adv", "advection.toml", "solver.nx=256", "solver.t_final=0.5", samples=4)
    r = train("cape1d", data_section(adv) + """
[model]
name = "cape"
width = 8
kernel = 5
modes = 6
[model.base]
name = "fno"
width = 8
modes = 6
layers = 2
projection = 16
[task]
kind = "autoregressive"
history = 3
unroll = 2
horizon = 8
reduce_x = 2
reduce_t = 5
condition = ["beta"]
""" + training(steps=3, objective="cape", curriculum="tanh", block_warmup_steps=1))
    case("cape 1D (FNO base, reduce_x/t)", r, adv)
    ns = generate("ns", "ns2d_fno.toml", "solver.nx=16", "solver.solve_nx=16", "solver.t_final=2",
                  "solver.outputs=8", "solver.dt=0.01", 'parameters.nu={range=[1e-3, 1e-1], scale="log"}')
    r = train("cape2d", data_section(ns) + """
[model]
name = "cape"
width = 8
modes = 2
[model.base]
name = "unet"
width = 4
levels = 2
[task]
kind = "autoregressive"
history = 3
condition = ["nu"]
""" + training(steps=3, objective="cape", block_warmup_steps=1))
    case("cape 2D (U-Net base)", r, ns)


def test_save_model_from_python():
    """An FNO built and trained in Python, saved, evaluated by pdestream."""
    burgers = generate("burgers", "burgers_fno.toml", "solver.nx=64", "solver.solve_nx=256", "solver.outputs=4")
    d = pdestream.open_dataset(burgers)
    x = torch.as_tensor(np.stack([d.frames(i)[0] for i in range(3)]))
    y = torch.as_tensor(np.stack([d.frames(i)[-1] for i in range(3)]))
    torch.manual_seed(0)
    net = FNO(dim=1, in_channels=1, out_channels=1, width=8, modes=5, layers=2, projection=16)
    inp, tgt = pdestream.Normalizer(1), pdestream.Normalizer(1)
    inp.update(x)
    tgt.update(y)
    model = pdestream.PdestreamModel(net, {"kind": "operator", "input_index": 0, "t_index": -1}, inp, tgt)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean() / (y ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    model.eval()
    run_dir = os.path.join(WORK, "python_fno")
    shutil.rmtree(run_dir, ignore_errors=True)
    pdestream.save_model(model, os.path.join(run_dir, "model.safetensors"))
    theirs = evaluate(run_dir, burgers, os.path.join(run_dir, "pred.h5"))
    ours = python_predictions(model, burgers, theirs.shape[0])
    record("save_model: FNO trained in Python", ours, theirs,
           f"5 Adam steps in Python (loss {losses[0]:.3g} -> {losses[-1]:.3g}), evaluate vs Python")
    # A bare module plus its task (no normalisers), conditioned: cond channels in the file's options.
    net = FNO(dim=1, in_channels=1, out_channels=1, width=4, modes=3, layers=1, projection=8, cond_dim=1)
    task = {"kind": "autoregressive", "history": 1, "horizon": 2, "unroll": 1, "condition": ["nu"],
            "condition_transform": ["none"]}
    run_dir = os.path.join(WORK, "python_fno_bare")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    pdestream.save_model(net, run_dir, task=task)
    theirs = evaluate(run_dir, burgers, os.path.join(run_dir, "pred.h5"))
    loaded = pdestream.load_model(run_dir)
    ours = python_predictions(loaded, burgers, theirs.shape[0])
    record("save_model: bare conditioned FNO", ours, theirs, "untrained module + task, evaluate vs load_model")


def test_open_dataset():
    path = generate("heat", "heat2d.toml", "solver.nx=18", "solver.ny=18", "solver.outputs=4",
                    "solver.steps_per_output=2", samples=5)
    d = pdestream.open_dataset(path)
    with h5py.File(path, "r") as f:
        assert np.array_equal(d.fields[..., 0], f["tensor"][...])
        assert np.array_equal(d.times, f["t-coordinate"][...].astype(np.float64))
        assert np.array_equal(d.coordinates[0], f["x-coordinate"][...]) and len(d.coordinates) == 2
        assert np.array_equal(d.coordinates[1], f["y-coordinate"][...])
        assert np.array_equal(d.params, f["params"][...])
        names = [n.decode() if isinstance(n, bytes) else n for n in f["params"].attrs["param_names"]]
        assert d.param_names == names, (d.param_names, names)
        assert np.array_equal(d.param("alpha"), f["params"][:, names.index("alpha")])
        assert d.channels == ["u"] and d.solver.startswith("heat2d") and "[solver]" in d.config, (d.channels, d.solver)
    assert d.frames(1).shape == (5, 1, 18, 18)
    # Several channels: the trailing channel axis (ns2d with velocity writes w, u, v).
    ns = generate("ns_vel", "ns2d_fno.toml", "solver.nx=16", "solver.solve_nx=16", "solver.t_final=0.5",
                  "solver.outputs=2", "solver.dt=0.01", "solver.velocity=true", samples=2)
    d = pdestream.open_dataset(ns)
    with h5py.File(ns, "r") as f:
        chans = [c.decode() if isinstance(c, bytes) else c for c in np.atleast_1d(f.attrs["channels"])]
        assert d.channels == chans and len(chans) > 1, (d.channels, chans)
        assert np.array_equal(d.field(chans[1]), f["tensor"][..., 1])
        assert np.array_equal(d.frames(0)[:, 2], f["tensor"][0, ..., 2])
    print(f"ok   open_dataset                       equal to h5py: tensor, t/x/y-coordinate, params and names, "
          f"channels {chans}, solver, config", flush=True)


def main():
    global PDS, WORK
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    PDS = os.path.join(os.path.abspath(sys.argv[1]), "pdestream")
    WORK = os.path.abspath(sys.argv[2])
    os.makedirs(WORK, exist_ok=True)
    start = time.time()
    tests = [test_open_dataset, test_fno_mlp_unet_heat2d, test_burgers_1d, test_fno3d_deeponet_acoustic,
             test_ks_unet_modern_refiner, test_cape, test_save_model_from_python]
    only = os.environ.get("PDS_TEST_ONLY")
    for t in tests:
        if only and only not in t.__name__:
            continue
        try:
            t()
        except Exception as e:  # report and go on: one broken family must not hide the others
            import traceback
            traceback.print_exc()
            FAILURES.append(f"{t.__name__}: {e}")
    print(f"\n{len(RESULTS)} comparisons, {len(FAILURES)} failure(s), {time.time() - start:.0f} s")
    for f in FAILURES:
        print("  FAILED:", str(f).splitlines()[0])
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
