#!/usr/bin/env bash
# The shipped CAPE-family configs run as their headers say, at a small size: generate (256
# cells, a short horizon), train one epoch at 128 cells (reduce_x = 2) and every 5th frame,
# evaluate. Burgers' configs train with the MSE loss and the evaluation reports nRMSE and RMSE
# by nu; diffusion-reaction conditions on log nu and log rho, reported by each.
#   cape_configs.sh EXPECT_SH PDESTREAM CONFIG_DIR PYTHON
set -euo pipefail
expect=$1 pds=$2 cfgs=$3 py=$4
small=(--set solver.nx=256 --set solver.t_final=0.5 --samples 8)
fit=(--set task.reduce_x=2 --set task.history=3 --set task.unroll=2 --set training.epochs=1
  --set training.batch_size=4 --set training.threads=1)
for name in burgers_fv_cape burgers_fv_fno diffreact_cape; do
  data=${name%_*}_small.h5
  [[ -f $data ]] || bash "$expect" ok "wrote $data: 8 samples x 51 frames of 256" "$pds" generate \
    --config "$cfgs/$name.toml" "${small[@]}" --out "$data" --set output.dir="gen_$name"
  model=${name##*_}
  extra=()
  [[ $model == cape ]] && extra=(--set training.block_warmup_steps=2)
  bash "$expect" ok "^\[train\] $model .* on 49 examples from 7 trajectories.*done: step 13," "$pds" train \
    --config "$cfgs/$name.toml" --set data.path="$data" "${fit[@]}" "${extra[@]}" --set output.dir="cfg_$name"
  bash "$expect" ok "$model / autoregressive on 1 trajectories.*nRMSE [0-9.e+-]+, RMSE [0-9.e+-]+" "$pds" evaluate \
    --run "cfg_$name"
done
# What each run trained with and how it reports, from the files a user reads.
"$py" - <<'PY'
import json, tomllib
for name, loss, cond in (("burgers_fv_cape", "mse", ["nu"]), ("burgers_fv_fno", "mse", None),
                         ("diffreact_cape", "rel_l2", ["nu", "rho"])):
    cfg = tomllib.load(open(f"cfg_{name}/config.toml", "rb"))
    assert cfg["training"].get("loss", "rel_l2") == loss, (name, cfg["training"])
    assert cfg["task"].get("condition") == cond, (name, cfg["task"])
    assert cfg["task"]["reduce_x"] == 2 and cfg["task"]["reduce_t"] == 5, cfg["task"]
    e = json.load(open(f"cfg_{name}/evaluation.json"))
    for key in ("nrmse", "rmse"):
        assert e[key] > 0 and e[key] == e[key], (name, key, e[key])
    params = ["nu"] if name.startswith("burgers") else ["nu", "rho"]
    for p in params:
        groups = e["by_parameter"][p]
        assert all(g["rmse"] > 0 for g in groups), (name, p, groups)
    print(name, "loss", loss, "nRMSE %.3g RMSE %.3g" % (e["nrmse"], e["rmse"]))
PY
