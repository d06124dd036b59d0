#!/usr/bin/env bash
# FNO on the FNO paper's Burgers benchmark: s = 256, 1000 training and 100 test samples,
# nu = 0.1, operator u(0) -> u(1). Generates the data (2 ranks), trains FNO1d (width 64,
# 16 modes) and evaluates on the 100 held-out samples; prints a table with the published
# relative L2 next to ours.
#   bash bench/fno_burgers.sh [BIN_DIR=build/bin] [EPOCHS=500]
# Fewer epochs keep the paper's schedule shape (lr halved 5 times over the run).
set -euo pipefail
BIN=${1:-build/bin}
EPOCHS=${2:-500}
OUT=runs/bench-fno-burgers
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
CFG=configs/burgers_fno.toml
if [[ ! -f "$OUT/burgers.h5" ]]; then
  SECONDS=0
  mpiexec --bind-to none -n 2 "$BIN/pdestream" generate --config $CFG --out "$OUT/burgers.h5" \
    --set output.dir="$OUT/generate" | tail -1
  gen_s=$SECONDS
else
  gen_s="(reused)"
fi
STEP=$(( EPOCHS / 5 > 0 ? EPOCHS / 5 : 1 ))
rm -rf "$OUT/train"
SECONDS=0
"$BIN/pdestream" train --config $CFG --set data.path="$OUT/burgers.h5" --set training.epochs=$EPOCHS \
  --set training.step_epochs=$STEP --set output.dir="$OUT/train" | tail -2
train_s=$SECONDS
"$BIN/pdestream" evaluate --run "$OUT/train" | tee "$OUT/evaluate.txt"
mean=$(/usr/bin/python3 -c "import json; print('%.4f' % json.load(open('$OUT/train/evaluation.json'))['mean'])")
echo
echo "| benchmark | samples (train/test) | epochs | generate s | train s | test rel. L2 (ours) | published FNO |"
echo "|---|---|---:|---:|---:|---:|---:|"
printf "| Burgers s=256, nu=0.1 | 1000/100 | %s | %s | %s | %s | 0.0149 |\n" "$EPOCHS" "$gen_s" "$train_s" "$mean"
