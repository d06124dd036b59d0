#!/usr/bin/env bash
# The shipped KS configs (PDE-Refiner and its two baselines, and PDE-Refiner online) run as
# their headers say, at a small size: 8 training trajectories of 140 frames and 2 test
# trajectories of 640, a U-Net of hidden 8 with two levels, a few steps. Checks what a user
# reads: the rollout steps 4 frames (159 steps of 0.8 over 640 frames), the high-correlation
# time per trajectory and of the mean curve, --noise-samples' standard deviation in HDF5
# (h5py) and ParaView and its statistics, the same on 1 and 2 ranks, and the errors.
#   ks_refiner.sh EXPECT_SH PDESTREAM CONFIG_DIR PYTHON MPIEXEC...
set -euo pipefail
expect=$1 pds=$2 cfgs=$3 py=$4
shift 4
mpi=("$@")
[[ -f ks_r_train.h5 ]] || bash "$expect" ok 'wrote ks_r_train.h5: 8 samples x 140 frames of 256' "$pds" generate \
  --config "$cfgs/ks_refiner.toml" --samples 8 --out ks_r_train.h5 --set output.dir=ks_r_gen
[[ -f ks_r_test.h5 ]] || bash "$expect" ok 'wrote ks_r_test.h5: 2 samples x 640 frames of 256' "$pds" generate \
  --config "$cfgs/ks_refiner.toml" --samples 2 --set solver.t_final=127.8 --set sampler.seed=7 --out ks_r_test.h5 \
  --set output.dir=ks_r_gen_test
small=(--set data.path=ks_r_train.h5 --set data.validation_fraction=0.25 --set training.max_steps=4
  --set training.batch_size=8 --set training.threads=1)
unet=(--set model.hidden=8 --set 'model.ch_mults=[1, 2]')
refiner=(--set model.base.hidden=8 --set 'model.base.ch_mults=[1, 2]')
# 6 training trajectories x (140 - 4) strided examples; the pushforward's span is 9 frames.
bash "$expect" ok 'unet_modern .* on 816 examples from 6 trajectories.*done: step 4,' "$pds" train \
  --config "$cfgs/ks_unet_mse.toml" "${small[@]}" "${unet[@]}" --set output.dir=ks_r_mse
bash "$expect" ok 'unet_modern .* on 792 examples from 6 trajectories.*done: step 4,' "$pds" train \
  --config "$cfgs/ks_unet_pushforward.toml" "${small[@]}" "${unet[@]}" --set output.dir=ks_r_pf
bash "$expect" ok 'pde_refiner .* on 816 examples from 6 trajectories.*done: step 4,' "$pds" train \
  --config "$cfgs/ks_refiner.toml" "${small[@]}" "${refiner[@]}" --set output.dir=ks_r_ref
for run in ks_r_mse ks_r_pf; do
  bash "$expect" ok 'unet_modern / autoregressive on 2 trajectories.*> 0.8 for [0-9]+ of 159 frames.*high-correlation time' \
    "$pds" evaluate --run "$run" --data ks_r_test.h5
done
bash "$expect" ok 'pde_refiner / autoregressive on 2 trajectories.*uncertainty from 3 samples: spread vs error correlation' \
  "$pds" evaluate --run ks_r_ref --data ks_r_test.h5 --noise-samples 3 --out ks_r_pred.h5 --paraview ks_r_pv \
  --paraview-samples 1
cp ks_r_ref/evaluation.json ks_r_ref_np1.json
bash "$expect" ok 'pde_refiner / autoregressive on 2 trajectories' "${mpi[@]}" "$pds" evaluate --run ks_r_ref \
  --data ks_r_test.h5 --noise-samples 3
bash "$expect" fail 'noise-samples 3: expected a stochastic model \(pde_refiner\), got unet_modern' "$pds" evaluate \
  --run ks_r_mse --data ks_r_test.h5 --noise-samples 3
bash "$expect" fail 'model pde_refiner trains with \[training\] objective = "pde_refiner", got "supervised"' "$pds" train \
  --config "$cfgs/ks_refiner.toml" "${small[@]}" "${refiner[@]}" --set training.objective=supervised \
  --set output.dir=ks_r_bad
"$py" - <<'PY'
import glob, json, h5py, numpy as np, tomllib
for run in ("ks_r_mse", "ks_r_pf", "ks_r_ref"):
    cfg = tomllib.load(open(f"{run}/config.toml", "rb"))
    assert cfg["task"]["stride"] == 4 and cfg["training"]["normalize"] is False, cfg
    e = json.load(open(f"{run}/evaluation.json"))
    assert len(e["correlation_per_step"]) == 159, len(e["correlation_per_step"])
    for thr in ("0.8", "0.9", "0.95"):
        h = e["high_correlation_time"][thr]
        per = h["time_per_trajectory"]
        assert len(per) == 2, h
        # Durations of whole model steps of 0.8; the mean curve's from its step count.
        assert all(abs(t / 0.8 - round(t / 0.8)) < 1e-4 for t in per), per
        assert abs(h["time"] - 0.8 * h["steps"]) < 1e-4, h
        assert abs(h["mean_time_per_trajectory"] - sum(per) / 2) < 1e-6, h
    print(run, "high-correlation time > 0.8:", e["high_correlation_time"]["0.8"]["time"])
# The model file has no normalisers (normalize = false) and the refiner's options.
import struct
raw = open("ks_r_ref/model.safetensors", "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
meta = json.loads(raw[8:8 + n])["__metadata__"]
assert "input_normalizer" not in meta, sorted(meta)
model = json.loads(meta["model"])
assert model["num_refinement_steps"] == 3 and model["min_noise_std"] == 4e-7 and model["base"]["name"] == "unet_modern"
# The prediction (the samples' mean) and the spread beside it, as h5py reads them.
with h5py.File("ks_r_pred.h5") as p, h5py.File("ks_r_pred_std.h5") as s, h5py.File("ks_r_test.h5") as t:
    pred, std = p["tensor"][...], s["tensor"][...]
    assert pred.shape == std.shape == (2, 159, 256), (pred.shape, std.shape)
    assert np.all(std >= 0) and std.max() > 0, std.max()
    assert np.allclose(p["t-coordinate"][...], t["t-coordinate"][...][4::4][:159]), "the strided times"
vti = sorted(glob.glob("ks_r_pv/*.vti"))
assert len(vti) == 159, len(vti)
text = open(vti[-1], "rb").read()
for name in (b'Name="u_pred"', b'Name="u_std"', b'Name="u_error"'):
    assert name in text, name
# The uncertainty figures, and 2 ranks give 1 rank's (the noise depends on the trajectory only).
u1 = json.load(open("ks_r_ref_np1.json"))["uncertainty"]
u2 = json.load(open("ks_r_ref/evaluation.json"))["uncertainty"]
for key in ("spread_error_correlation", "horizon_correlation", "horizon_mean_abs_difference"):
    assert abs(u1[key] - u2[key]) < 1e-9, (key, u1[key], u2[key])
assert np.allclose(u1["spread_per_step"], u2["spread_per_step"], rtol=1e-9, atol=0)
assert len(u1["spread_horizon"]) == 2 and len(u1["sample_correlation_per_step"]) == 159, u1.keys()
print("uncertainty:", {k: u1[k] for k in ("spread_error_correlation", "spread_horizon", "true_horizon")})
PY
# Online: ks1d simulations streamed into PDE-Refiner's training (1 trainer + 1 simulation rank).
bash "$expect" ok 'online done .*: 4 simulations \(0 failed\)' "${mpi[@]}" "$pds" train \
  --config "$cfgs/ks_refiner_online.toml" "${refiner[@]}" --set simulation.samples=4 --set online.validation_samples=1 \
  --set online.buffer_threshold=100 --set training.batch_size=16 --set output.dir=ks_r_online
bash "$expect" ok 'pde_refiner / autoregressive on 1 trajectories' "$pds" evaluate --run ks_r_online
