#!/usr/bin/env bash
# CAPE against its baselines on PDEBench's 1D advection (issue 13): the nRMSE of
#   FNO (width 36, the paper's baseline), FNO with beta as an input channel, CAPE + FNO (width 20)
# at the training values beta in {0.2, 0.4, 0.7, 2.0, 4.0} (held-out trajectories) and at
# unseen ones {0.1, 1.0, 7.0}. Data: advection1d at 1024 cells, frames every 0.01 to t = 2,
# trained at 128 cells and every 5th frame (41 frames), rolled out from the first 10 frames.
# Every model gets the same data, epochs, batch, schedule, curriculum and input noise.
#   bash bench/cape.sh [BIN_DIR=build/bin] [SAMPLES=250] [EPOCHS=20] [UNSEEN=60]
set -euo pipefail
BIN=${1:-build/bin}
SAMPLES=${2:-250}
EPOCHS=${3:-20}
UNSEEN=${4:-60}
OUT=${OUT:-runs/bench-cape}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
step=$(( EPOCHS / 4 > 0 ? EPOCHS / 4 : 1 ))
SECONDS=0
if [[ ! -f "$OUT/adv.h5" ]]; then
  mpiexec --bind-to none -n 2 "$BIN/pdestream" generate --config configs/advection_cape.toml --samples "$SAMPLES" \
    --out "$OUT/adv.h5" --set output.dir="$OUT/gen" | tail -1
  mpiexec --bind-to none -n 2 "$BIN/pdestream" generate --config configs/advection_cape.toml --samples "$UNSEEN" \
    --set 'parameters.beta={values=[0.1, 1.0, 7.0]}' --set sampler.seed=7 --out "$OUT/adv_unseen.h5" \
    --set output.dir="$OUT/gen_unseen" | tail -1
fi
gen_s=$SECONDS
common=(--set data.path="$OUT/adv.h5" --set training.epochs="$EPOCHS" --set training.step_epochs=$step)
declare -A train_s
run() {
  local name=$1 cfg=$2
  shift 2
  rm -rf "$OUT/$name"
  SECONDS=0
  "$BIN/pdestream" train --config "$cfg" "${common[@]}" --set output.dir="$OUT/$name" "$@" > "$OUT/$name.log"
  train_s[$name]=$SECONDS
  tail -2 "$OUT/$name.log"
  "$BIN/pdestream" evaluate --run "$OUT/$name" > "$OUT/$name.seen.txt"
  cp "$OUT/$name/evaluation.json" "$OUT/$name.seen.json"
  "$BIN/pdestream" evaluate --run "$OUT/$name" --data "$OUT/adv_unseen.h5" > "$OUT/$name.unseen.txt"
  cp "$OUT/$name/evaluation.json" "$OUT/$name.unseen.json"
}
run fno configs/advection_fno.toml
run fno_cond configs/advection_fno.toml --set 'task.condition=["beta"]'
run cape configs/advection_cape.toml
echo
echo "Advection, $SAMPLES trajectories (10% held out), $EPOCHS epochs, batch 50; nRMSE of the rollout from 10 frames"
echo "(31 predicted frames at 128 cells); data generated in ${gen_s} s on 2 ranks"
echo
echo "| model | parameters | train s | seen nRMSE | 0.2 | 0.4 | 0.7 | 2.0 | 4.0 | unseen nRMSE | 0.1 | 1.0 | 7.0 |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for name in fno fno_cond cape; do
  params=$(grep -o '([0-9]* parameters)' "$OUT/$name.log" | head -1 | tr -dc 0-9)
  /usr/bin/python3 - "$OUT" "$name" "$params" "${train_s[$name]}" <<'PY'
import json, sys
out, name, params, secs = sys.argv[1:5]
label = {"fno": "FNO width 36", "fno_cond": "FNO width 36 + beta channel", "cape": "CAPE + FNO width 20"}[name]
row = [label, params, secs]
for part, values in (("seen", [0.2, 0.4, 0.7, 2.0, 4.0]), ("unseen", [0.1, 1.0, 7.0])):
    e = json.load(open(f"{out}/{name}.{part}.json"))
    by = {round(b["value"], 6): b["nrmse"] for b in e["by_parameter"]["beta"] if "value" in b}
    row.append("%.4f" % e["nrmse"])
    row += ["%.4f" % by[v] if v in by else "-" for v in values]
print("| " + " | ".join(row) + " |")
PY
done
