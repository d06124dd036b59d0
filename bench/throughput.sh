#!/usr/bin/env bash
# Training throughput and the surrogate's speed-up over the solver, for the FNO benchmarks.
#   bash bench/throughput.sh [BIN_DIR=build/bin] [STEPS=50]
#
# 1. Training samples/s of `pdestream train` (from its metrics.jsonl) for FNO1d (Burgers,
#    s = 256, width 64, 16 modes) and FNO2d (Navier-Stokes 64^2, width 20, 12 modes, 10
#    frames in) with the same global batch (20) on 1 rank x 1 thread, 1 rank x 2 threads
#    (libgomp's default wait policy, and OMP_WAIT_POLICY=PASSIVE) and 2 ranks x 1 thread.
#    STEPS optimizer steps, no validation; samples/s counts the steps
#    after the first 10 (warm-up excluded): 20 (STEPS - 10) / (time(STEPS) - time(10)).
# 2. Inference (bench_throughput: forward only, no grad, normalisers in the loop) per sample
#    at batch 1 and 20 on 1 and 2 threads (2: default and passive wait policy), against the solver's time for the same output
#    (bench_solvers, one rank): burgers1d one trajectory 0 -> T = 1 at 8192 points (ETDRK4,
#    dt = 1e-3); ns2d one output interval (one model step) and 40 intervals (a 40-step
#    rollout) at 64^2, dt = 5e-3 (the data's setting; the dt = 1e-3 row is printed too).
#    Wall and CPU time both: on a shared machine the CPU time is the steadier measure.
# Data: the FNO benchmarks' files (bench/fno_burgers.sh, bench/fno_ns2d.sh) when present,
# else small sets generated here (runs/bench-throughput/).
set -euo pipefail
BIN=${1:-build/bin}
STEPS=${2:-50}
OUT=runs/bench-throughput
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# Threads per process = torch intra-op threads = OpenBLAS threads (set per measurement).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
MPI="mpiexec --bind-to none -n 2"
mkdir -p "$OUT"
echo "$(nproc --all) cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

BURGERS=runs/bench-fno-burgers/burgers.h5
if [[ ! -f $BURGERS ]]; then
  BURGERS=$OUT/burgers.h5
  [[ -f $BURGERS ]] || $MPI "$BIN/pdestream" generate --config configs/burgers_fno.toml --samples $(( STEPS * 20 + 20 )) \
    --out $BURGERS --set output.dir=$OUT/generate-burgers | tail -1
fi
NS=runs/bench-fno-ns2d/ns2d.h5
if [[ ! -f $NS ]]; then
  NS=$OUT/ns2d.h5
  # 41 examples per trajectory: enough for STEPS batches of 20 within one epoch.
  [[ -f $NS ]] || $MPI "$BIN/pdestream" generate --config configs/ns2d_fno.toml --samples $(( STEPS * 20 / 41 + 2 )) \
    --out $NS --set output.dir=$OUT/generate-ns2d | tail -1
fi

# ---- 1. training throughput --------------------------------------------------------------
train_rate() {  # name config data ranks threads wait-policy -> samples/s
  local name=$1 cfg=$2 data=$3 ranks=$4 threads=$5 policy=$6 run="$OUT/train-$1-$4x$5-$6"
  local launch="env OPENBLAS_NUM_THREADS=$threads OMP_WAIT_POLICY=$policy"
  [[ $policy == default ]] && launch="env -u OMP_WAIT_POLICY OPENBLAS_NUM_THREADS=$threads"
  [[ $ranks -gt 1 ]] && launch="$launch mpiexec --bind-to none -n $ranks"
  rm -rf "$run"
  $launch "$BIN/pdestream" train --config "$cfg" --set data.path="$data" --set data.validation_fraction=0 \
    --set training.max_steps="$STEPS" --set training.log_every=10 --set training.threads="$threads" \
    --set training.epochs=1000 --set output.dir="$run" > "$run.log" 2>&1 || { cat "$run.log" >&2; exit 1; }
  /usr/bin/python3 - "$run/metrics.jsonl" <<'EOF'
import json, sys
steps = [j for j in map(json.loads, open(sys.argv[1])) if j.get("event") == "step"]
a, b = steps[0], steps[-1]  # step 10 and the last
print("%.1f" % (20 * (b["step"] - a["step"]) / (b["time"] - a["time"])))
EOF
}
echo
echo "Training throughput (pdestream train, global batch 20, $STEPS steps, first 10 excluded):"
echo
echo "| model | data | parameters | ranks x threads | OMP_WAIT_POLICY | samples/s | speed-up vs 1 x 1 |"
echo "|:---|:---|---:|:---:|:---:|---:|---:|"
for m in burgers ns2d; do
  if [[ $m == burgers ]]; then cfg=configs/burgers_fno.toml data=$BURGERS label="FNO1d (width 64, 16 modes)" what="Burgers s=256, u(0) -> u(1)" params=549569
  else cfg=configs/ns2d_fno.toml data=$NS label="FNO2d (width 20, 12 modes)" what="NS 64², 10 frames -> next" params=926357; fi
  base=""
  for rt in "1 1 default" "1 2 default" "1 2 PASSIVE" "2 1 default"; do
    set -- $rt
    r=$(train_rate $m $cfg "$data" $1 $2 $3)
    [[ -z $base ]] && base=$r
    printf "| %s | %s | %s | %s x %s | %s | %s | %s |\n" "$label" "$what" "$params" $1 $2 $3 "$r" \
      "$(/usr/bin/python3 -c "print('%.2fx' % ($r / $base))")"
  done
done

# ---- 2. inference against the solver -------------------------------------------------------
# Solver seconds per output, wall and rank 0's CPU: burgers1d a whole trajectory (T = 1); ns2d
# one output interval (1 time unit) = bench_solvers' T = 50 figures / 50.
solver_row() { "$BIN/bench_solvers" "$@" | tail -1; }
b_row=$(solver_row --solver burgers1d --n 8192 --samples 5)
ns5_row=$(solver_row --solver ns2d --n 64 --dt 5e-3 --t-final 4 --samples 2)
ns1_row=$(solver_row --solver ns2d --n 64 --dt 1e-3 --t-final 2 --samples 1)
col() { echo "$1" | awk -F'|' -v c="$2" '{gsub(/ /, "", $(c + 1)); print $(c + 1)}'; }
py() { /usr/bin/python3 -c "print($1)"; }
# Wall from ms/step x steps (3 digits), CPU from the s/sample column (2 decimals).
b_wall=$(py "$(col "$b_row" 6) * $(col "$b_row" 5) * 1e-3") b_cpu=$(col "$b_row" 8)
ns_wall=$(py "$(col "$ns5_row" 6) * 200 * 1e-3") ns_cpu=$(py "$(col "$ns5_row" 8) / 50")
echo
echo "Solver time per sample (bench_solvers, 1 rank; ns2d extrapolated to T = 50):"
echo
echo "| solver | ranks | solve grid | dt | steps/sample | ms/step | s/sample | CPU s/sample |"
echo "|:---|---:|---:|---:|---:|---:|---:|---:|"
echo "$b_row"; echo "$ns5_row"; echo "$ns1_row"

infer() {  # threads wait-policy bench_throughput-args...
  local threads=$1 policy=$2; shift 2
  if [[ $policy == default ]]; then
    env -u OMP_WAIT_POLICY OPENBLAS_NUM_THREADS=$threads "$BIN/bench_throughput" --seconds 3 --threads $threads "$@" | tail -1
  else
    env OMP_WAIT_POLICY=$policy OPENBLAS_NUM_THREADS=$threads "$BIN/bench_throughput" --seconds 3 --threads $threads "$@" | tail -1
  fi
}
echo
echo "Inference (bench_throughput: forward only, no grad) against the solver (1 rank, ns2d at the data's dt = 5e-3) for the same output; speed-up = solver time / surrogate time per sample:"
echo
echo "| output | solver s/sample (CPU) | surrogate | threads | batch | surrogate ms/sample (CPU) | speed-up wall | speed-up CPU |"
echo "|:---|---:|:---|---:|---:|---:|---:|---:|"
row() {  # label solver_wall solver_cpu surrogate threads batch bench_throughput-row
  local ms cpu th=${5%-default}
  ms=$(col "$7" 8) cpu=$(col "$7" 9) th=${th/-PASSIVE/ (passive)}
  printf "| %s | %.4g (%.3g) | %s | %s | %s | %s (%s) | %s | %s |\n" "$1" "$2" "$3" "$4" "$th" "$6" "$ms" "$cpu" \
    "$(py "'%.3gx' % ($2 / ($ms * 1e-3))")" "$(py "'%.3gx' % ($3 / ($cpu * 1e-3))")"
}
# Threads: 1, 2 (libgomp's default wait policy) and 2 with OMP_WAIT_POLICY=PASSIVE.
for tp in 1-default 2-default 2-PASSIVE; do
  t=${tp%-*} p=${tp#*-}
  for b in 1 20; do
    row "Burgers u(1), s=256 (solve: 8192 points, ETDRK4, dt=1e-3)" "$b_wall" "$b_cpu" "FNO1d" "$t-$p" $b \
      "$(infer $t $p --config configs/burgers_fno.toml --grid 256 --batch $b)"
  done
done
for steps in 1 40; do
  for tp in 1-default 2-default 2-PASSIVE; do
    t=${tp%-*} p=${tp#*-}
    for b in 1 20; do
      extra=""; [[ $steps -gt 1 ]] && extra="--rollout $steps"
      row "NS 64², $steps output interval(s) (dt=5e-3)" "$(py "$ns_wall * $steps")" "$(py "$ns_cpu * $steps")" \
        "FNO2d, $steps step(s)" "$t-$p" $b "$(infer $t $p --config configs/ns2d_fno.toml --grid 64x64 --batch $b $extra)"
    done
  done
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
