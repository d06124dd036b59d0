#!/usr/bin/env bash
# Streaming throughput of the online job: simulations -> trainer, with 1, 2 and 3
# simulation groups of 1 rank and 1 trainer rank. heat2d at NxN with a deliberately small
# model (FNO width 4, 2 modes) so the trainer's receiving side, not its training, is what
# the table shows; FIFO buffer.
#   bash bench/streaming.sh [BIN_DIR=build/bin] [N=128] [SAMPLES_PER_GROUP=24]
# Columns: simulations/s and output steps/s received, MB/s received, the solver's time per
# simulation while streaming against the same simulations run alone by `pdestream generate`
# with the same number of ranks (solver time only, as the online client times it), the fraction of the trainer's
# wall time spent waiting for data, and the simulations' time waiting for credits.
set -euo pipefail
BIN=${1:-build/bin}
N=${2:-128}
PER=${3:-24}
OUT=runs/bench-streaming
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
CFG=configs/heat2d_fno_online.toml
COMMON=(--set solver.nx=$N --set solver.ny=$N --set online.buffer='"fifo"' --set online.buffer_capacity=100000
        --set online.validation_samples=1 --set model.width=4 --set model.modes=2 --set training.threads=1
        --set training.batch_size=32 --set training.validate_every=0 --set training.checkpoint_every=0)
rows=()
for G in 1 2 3; do
  S=$(( PER * G ))
  alone=$(mpiexec --bind-to none -n $G "$BIN/pdestream" generate --config $CFG "${COMMON[@]}" --samples $S \
    --out "$OUT/alone$G.h5" --set output.dir="$OUT/alone$G" | grep -o 'solver [0-9.e-]* s/sample' | cut -d' ' -f2)
  rm -rf "$OUT/online$G"
  mpiexec --bind-to none -n $((G + 1)) "$BIN/pdestream" train --config $CFG "${COMMON[@]}" \
    --set simulation.samples=$S --set output.dir="$OUT/online$G" >/dev/null
  row=$(/usr/bin/python3 - "$OUT/online$G/online_summary.json" "$G" "$S" "$alone" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); G, S = int(sys.argv[2]), int(sys.argv[3])
alone = float(sys.argv[4])                                          # solver s per simulation, no streaming
sims = s["sims_done"] + 1                                           # + the validation simulation
streaming = s["sim_solve_s"] / sims
print(f"| {G} | {S} | {s['wall_s']:.1f} | {sims / s['wall_s']:.2f} | {s['received_per_s']:.0f} | "
      f"{s['mb_per_s']:.2f} | {alone:.3f} | {streaming:.3f} | {100 * (streaming / alone - 1):+.1f}% | "
      f"{100 * s['trainer_idle_fraction']:.0f}% | {s['sim_credit_wait_s']:.2f} |")
PY
)
  rows+=("$row")
done
echo
echo "heat2d ${N}², $(( $(grep -m1 '^outputs' $CFG | grep -o '[0-9]*') + 1 )) frames per simulation, 1 trainer rank, groups of 1 rank, $(nproc) cores"
echo
echo "| groups | simulations | wall s | sims/s | steps/s received | MB/s | solve s/sim alone | solve s/sim streaming | slowdown | trainer waiting | sim credit wait s |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
