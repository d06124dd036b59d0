#!/usr/bin/env bash
# CAPE + FNO on 1D advection: online over a continuous beta range against offline on
# PDEBench's five values, at an equal simulation count and an equal number of steps (issue 13).
#   online:  configs/advection_cape_online.toml, mpirun -np 2 (1 trainer + 1 simulation rank),
#            225 training simulations with beta log-uniform in [0.1, 7] + 25 held out, a FIRO
#            buffer drawing each example EPOCHS times (2700-example window over the stream);
#   offline: the same config with online.enabled = false, 250 generated simulations with beta in
#            {0.2, 0.4, 0.7, 2.0, 4.0} (10% held out), EPOCHS epochs.
# Both: 128 cells, frames every 0.05 to t = 2 (41), history 10, unroll 5, the same model,
# objective, schedule (lr halved every 610 steps) and batch. Evaluated (nRMSE of the rollout from
# 10 frames) at the five training values, at PDEBench's unseen {0.1, 1.0, 7.0}, and at beta
# log-uniform in [0.1, 7]: UNSEEN new simulations each (sampler seed 7).
#   bash bench/cape_online.sh [BIN_DIR=build/bin] [EPOCHS=20] [UNSEEN=60]
set -euo pipefail
BIN=${1:-build/bin}
EPOCHS=${2:-20}
UNSEEN=${3:-60}
OUT=${OUT:-runs/bench-cape-online}
CFG=configs/advection_cape_online.toml
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mpi=(mpiexec --bind-to none -n 2)
mkdir -p "$OUT"
five='{values=[0.2, 0.4, 0.7, 2.0, 4.0]}'
gen() {  # gen FILE SAMPLES SEED [--set ...]
  local file=$1 samples=$2 seed=$3
  shift 3
  [[ -f "$OUT/$file" ]] || "${mpi[@]}" "$BIN/pdestream" generate --config "$CFG" --samples "$samples" \
    --set sampler.seed="$seed" --out "$OUT/$file" --set output.dir="$OUT/gen_${file%.h5}" "$@" | tail -1
}
gen train.h5 250 2023 --set "parameters.beta=$five"
gen test_seen.h5 "$UNSEEN" 7 --set "parameters.beta=$five"
gen test_unseen.h5 "$UNSEEN" 7 --set 'parameters.beta={values=[0.1, 1.0, 7.0]}'
gen test_range.h5 "$UNSEEN" 7
declare -A secs steps
SECONDS=0
rm -rf "${OUT:?}/offline"
"$BIN/pdestream" train --config "$CFG" --set online.enabled=false --set data.path="$OUT/train.h5" \
  --set training.epochs="$EPOCHS" --set output.dir="$OUT/offline" > "$OUT/offline.log"
secs[offline]=$SECONDS
tail -1 "$OUT/offline.log"
SECONDS=0
rm -rf "${OUT:?}/online"
"${mpi[@]}" "$BIN/pdestream" train --config "$CFG" --set online.pseudo_epochs="$EPOCHS" \
  --set output.dir="$OUT/online" > "$OUT/online.log"
secs[online]=$SECONDS
tail -3 "$OUT/online.log" | head -1
for run in offline online; do
  steps[$run]=$(grep -o 'done[^:]*: step [0-9]*\|[0-9]* steps, validation' "$OUT/$run.log" | grep -o '[0-9]*' | tail -1)
  for set in seen unseen range; do
    "$BIN/pdestream" evaluate --run "$OUT/$run" --data "$OUT/test_$set.h5" > "$OUT/$run.$set.txt"
    cp "$OUT/$run/evaluation.json" "$OUT/$run.$set.json"
  done
done
echo
echo "Advection, CAPE + FNO width 20 at 128 cells; 250 simulations each; nRMSE of the 31-frame rollout from 10 frames,"
echo "on $UNSEEN new trajectories per test set"
echo
echo "| training | beta of the training simulations | steps | train s | seen | 0.2 | 0.4 | 0.7 | 2.0 | 4.0 | unseen | 0.1 | 1.0 | 7.0 | log-uniform [0.1, 7] |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for run in offline online; do
  /usr/bin/python3 - "$OUT" "$run" "${steps[$run]}" "${secs[$run]}" <<'PY'
import json, sys
out, run, steps, secs = sys.argv[1:5]
what = {"offline": "{0.2, 0.4, 0.7, 2.0, 4.0}", "online": "log-uniform in [0.1, 7]"}[run]
row = [run, what, steps, secs]
for part, values in (("seen", [0.2, 0.4, 0.7, 2.0, 4.0]), ("unseen", [0.1, 1.0, 7.0]), ("range", [])):
    e = json.load(open(f"{out}/{run}.{part}.json"))
    by = {round(b["value"], 6): b["nrmse"] for b in e["by_parameter"]["beta"] if "value" in b}
    row.append("%.4f" % e["nrmse"])
    row += ["%.4f" % by[v] if v in by else "-" for v in values]
print("| " + " | ".join(row) + " |")
PY
done
