#!/usr/bin/env bash
# Online against offline training at equal wall time (the online-training paper's
# comparison), for heat2d -> FNO and heat2d -> MLP, on this machine's cores.
#   bash bench/online_vs_offline.sh [BIN_DIR=build/bin] [WALL_S=240]
# online:  mpirun -np 3 (1 trainer, 2 simulation groups), reservoir buffer, new simulations
#          for 85% of WALL_S (online.time_budget), then the buffer drains.
# offline: the same config with online.enabled = false: `pdestream generate` on 2 ranks
#          writes a quarter as many simulations as the online job saw, then one trainer
#          rank trains on them until the online job's wall time is used up
#          (training.max_steps from its step rate). 1 torch thread, like the online
#          trainer: 2 threads gain nothing for these models here and collapse when anything
#          else runs (OpenMP's spinning waits; see "Training throughput" in the README).
# Both are evaluated on the online job's held-out simulations (validation.h5).
set -euo pipefail
BIN=${1:-build/bin}
WALL=${2:-240}
OUT=runs/bench-online-offline
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
now() { date +%s.%N; }
json() { /usr/bin/python3 -c "import json, sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
rows=()
for MODEL in fno mlp; do
  CFG=$OUT/heat2d_${MODEL}_online.toml
  if [[ $MODEL == fno ]]; then
    cp configs/heat2d_fno_online.toml "$CFG"
  else
    # The online-training paper's fully connected baseline: (params, t) -> field.
    sed -e '/^\[model\]/,/^\[task\]/c [model]\nname = "mlp"\nhidden = [256, 256, 256]\n\n[task]' \
      configs/heat2d_fno_online.toml >"$CFG"
  fi
  D=$OUT/$MODEL
  rm -rf "$D"
  mkdir -p "$D"
  t0=$(now)
  mpiexec --bind-to none -n 3 "$BIN/pdestream" train --config "$CFG" --set simulation.samples=100000 \
    --set online.time_budget=$(/usr/bin/python3 -c "print($WALL * 0.85)") --set output.dir="$D/online" | tail -3
  t1=$(now)
  on_wall=$(/usr/bin/python3 -c "print($t1 - $t0)")
  on_sims=$(json "$D/online/online_summary.json" "['sims_done']")
  on_steps=$(json "$D/online/online_summary.json" "['steps']")
  "$BIN/pdestream" evaluate --run "$D/online" --data "$D/online/validation.h5" >/dev/null
  on_err=$(json "$D/online/evaluation.json" "['mean']")

  K=$(( on_sims / 4 > 8 ? on_sims / 4 : 8 ))
  t2=$(now)
  mpiexec --bind-to none -n 2 "$BIN/pdestream" generate --config "$CFG" --samples $K --out "$D/offline.h5" \
    --set output.dir="$D/generate" | tail -1
  t3=$(now)
  left=$(/usr/bin/python3 -c "print(max($on_wall - ($t3 - $t2), 1.0))")
  steps=$(/usr/bin/python3 -c "print(max(int($on_steps * $left / $on_wall), 1))")
  t4=$(now)
  "$BIN/pdestream" train --config "$CFG" --set online.enabled=false --set data.path="$D/offline.h5" \
    --set data.validation_fraction=0 --set training.epochs=1000000 --set training.max_steps=$steps \
    --set training.threads=1 --set training.validate_every=0 --set output.dir="$D/offline" | tail -1
  t5=$(now)
  off_wall=$(/usr/bin/python3 -c "print($t5 - $t4 + $t3 - $t2)")
  off_steps=$(grep -c '"event":"step"' "$D/offline/metrics.jsonl" || true)
  "$BIN/pdestream" evaluate --run "$D/offline" --data "$D/online/validation.h5" >/dev/null
  off_err=$(json "$D/offline/evaluation.json" "['mean']")
  rows+=("$(printf '| %s | online | %.0f | %s | %s | %.4f |' $MODEL $on_wall $on_sims $on_steps $on_err)")
  rows+=("$(printf '| %s | offline | %.0f | %s | %s | %.4f |' $MODEL $off_wall $K $steps $off_err)")
done
echo
echo "heat2d 32², 21 frames, field_at_time; validation: the online job's held-out simulations; $(nproc) cores"
echo
echo "| model | training | wall s | unique simulations | steps (batch 16) | validation rel. L2 |"
echo "|---|---|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
