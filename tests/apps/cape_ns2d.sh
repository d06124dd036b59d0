#!/usr/bin/env bash
# A 2D CAPE on ns2d with the viscosity as its parameter (a short run): nu drawn log-uniformly,
# CAPE (2D block: parameters through sigmoid(log nu), output x (1 + LN(y))) around a 2D FNO
# with the cape objective, on 1 and 2 trainer ranks (the same weights, but the bias the
# LayerNorm cancels), the loss falling, the block's 2D tensors in the model file, and the
# evaluation by nu.
#   cape_ns2d.sh EXPECT_SH PDESTREAM CFG PYTHON SCRIPTS_DIR MPIEXEC...
set -euo pipefail
expect=$1 pds=$2 cfg=$3 py=$4 scripts=$5
shift 5
mpi=("$@")
bash "$expect" ok 'wrote ns_nu.h5: 8 samples x 9 frames of 16x16' "${mpi[@]}" "$pds" generate --config "$cfg" \
  --set solver.nx=16 --set solver.solve_nx=16 --set solver.t_final=2 --set solver.outputs=8 --set solver.dt=0.01 \
  --set 'parameters.nu={range=[1e-3, 1e-1], scale="log"}' --samples 8 --out ns_nu.h5 --set output.dir=ns_nu_gen
train=(train --config "$cfg" --set data.path=ns_nu.h5 --set data.validation_fraction=0.25
  --set task.history=3 --set task.horizon=0 --set task.unroll=2 --set 'task.condition=["nu"]'
  --set model.name=cape --set model.width=8 --set model.modes=2 --set 'model.base={name="fno", width=8, modes=4}'
  --set training.objective=cape --set training.curriculum=tanh --set training.block_warmup_steps=2
  --set training.epochs=6 --set training.batch_size=6 --set training.schedule=none --set training.lr=3e-3
  --set training.threads=1)
bash "$expect" ok 'cape .* on 30 examples from 6 trajectories.*done: step 30,' "$pds" "${train[@]}" --set output.dir=cape_ns
bash "$expect" ok '2 trainer rank.*done: step 30,' "${mpi[@]}" "$pds" "${train[@]}" --set output.dir=cape_ns2
"$py" "$scripts/same_weights.py" cape_ns/model.safetensors cape_ns2/model.safetensors --atol 1e-5 \
  --ignore PrmEmb_Pre.0.CNN_2.bias
bash "$expect" ok 'cape / autoregressive on 2 trajectories.*by nu: ' "$pds" evaluate --run cape_ns
"$py" - <<'PY'
import json, struct
raw = open("cape_ns/model.safetensors", "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__")
options = json.loads(meta["model"])
assert options["dim"] == 2 and options["cond_dim"] == 1 and options["base"]["dim"] == 2, options
# The block's stem and depthwise convolutions are 2D kernels (k x k), the spectral weights 2D.
stem = [k for k in header if k.startswith("PrmEmb_Pre.0.") and k.endswith("weight") and len(header[k]["shape"]) == 4]
assert stem, sorted(header)
events = [json.loads(line) for line in open("cape_ns/metrics.jsonl")]
losses = [e["loss"] for e in events if e.get("event") == "epoch"]
print("epoch losses", ["%.3g" % v for v in losses], "2D tensors", len(stem))
assert len(losses) >= 2 and losses[-1] < 0.8 * losses[0], losses
PY
