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
source "$(dirname "$0")/fno_common.sh"
generate_once "$BIN" configs/burgers_fno.toml "$OUT/burgers.h5" "$OUT"
train_fno "$BIN" configs/burgers_fno.toml "$OUT/burgers.h5" "$OUT" "$EPOCHS"
"$BIN/pdestream" evaluate --run "$OUT/train" | tee "$OUT/evaluate.txt"
mean=$(/usr/bin/python3 -c "import json; print('%.4f' % json.load(open('$OUT/train/evaluation.json'))['mean'])")
echo
echo "| benchmark | samples (train/test) | epochs | generate s | train s | test rel. L2 (ours) | published FNO |"
echo "|---|---|---:|---:|---:|---:|---:|"
printf "| Burgers s=256, nu=0.1 | 1000/100 | %s | %s | %s | %s | 0.0149 |\n" "$EPOCHS" "$gen_s" "$train_s" "$mean"
