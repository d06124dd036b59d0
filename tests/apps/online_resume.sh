#!/usr/bin/env bash
# Kill-and-resume of an online job:
#   online_resume.sh stop|crash|extend RUN_DIR PYTHON CHECKER -- MPI_PREFIX... PDESTREAM TRAIN_ARGS...
# stop:  the first job stops after 5 batches (training.max_steps), then --resume finishes it.
# crash: a trainer rank dies at step 7 (checkpoint_every 5): the job must end (not hang)
#        with a non-zero exit and the step-5 checkpoint; then --resume finishes it.
# extend: a finished job resumed with a larger sample budget runs only the new simulations.
# Either way the resumed job must end with every sample done exactly once.
set -uo pipefail
mode=$1 run=$2 py=$3 checker=$4
shift 5
# "$@" = MPI prefix..., pdestream, train args; split off the pdestream binary's position.
args=("$@")
for i in "${!args[@]}"; do [[ ${args[$i]} == */pdestream ]] && p=$i; done
prefix=("${args[@]:0:$p}") pds=${args[$p]} train=("${args[@]:$((p + 1))}")
rm -rf "$run"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [[ $mode == extend ]]; then
  # A job that finished its 12 simulations, resumed with a budget of 16: 4 new ones.
  "${prefix[@]}" "$pds" "${train[@]}" --set output.dir="$run" >"$log" 2>&1 || { cat "$log"; echo "FAILED: first job"; exit 1; }
  steps=$("$py" -c "import json; print(json.load(open('$run/online_summary.json'))['steps'])")
  "${prefix[@]}" "$pds" train --resume "$run" --set simulation.samples=16 >"$log" 2>&1 ||
    { cat "$log"; echo "FAILED: resumed job"; exit 1; }
  tail -3 "$log"
  "$py" "$checker" "$run" "done == set(range(16))" "s['sims_done'] == 16" "s['steps'] > $steps" \
    "s['examples_received'] == 4 * 5" || { cat "$log"; exit 1; }
  echo PASSED
  exit 0
elif [[ $mode == stop ]]; then
  "${prefix[@]}" "$pds" "${train[@]}" --set training.max_steps=5 --set training.checkpoint_every=5 \
    --set output.dir="$run" >"$log" 2>&1 || { cat "$log"; echo "FAILED: first job"; exit 1; }
  "$py" "$checker" "$run" "s['steps'] == 5" "s['clean_shutdown']" || { cat "$log"; exit 1; }
else
  # The job ends in seconds; 60 s bounds Open MPI's occasional wait after a rank's exit (every
  # rank has exited by then: mpiexec alone lingers, seen once under a loaded test suite).
  timeout -k 10 60 "${prefix[@]}" "$pds" "${train[@]}" --set online.fault='"crash_trainer"' --set online.fault_step=7 \
    --set training.checkpoint_every=5 --set output.dir="$run" >"$log" 2>&1
  rc=$?
  cat "$log" | tail -5
  [[ $rc -ne 0 && $rc -ne 124 ]] || { cat "$log"; echo "FAILED: expected the crashed job to end non-zero, got $rc"; exit 1; }
  grep -q "injected fault: trainer rank 1 exits at step 7" "$log" || { echo "FAILED: no crash message"; exit 1; }
  [[ -s $run/checkpoint.pt && -s $run/online_state_5.json && -s $run/buffer_1_5.pt ]] ||
    { ls -l "$run"; echo "FAILED: no step-5 checkpoint with its accounts"; exit 1; }
fi
"${prefix[@]}" "$pds" train --resume "$run" --set training.max_steps=0 --set online.fault='"none"' >"$log" 2>&1 ||
  { cat "$log"; echo "FAILED: resumed job"; exit 1; }
tail -3 "$log"
grep -q "resumed $run at step 5" "$log" || { cat "$log"; echo "FAILED: did not resume at step 5"; exit 1; }
"$py" "$checker" "$run" "done == set(range(12))" "s['sims_done'] == 12" "s['steps'] > 5" \
  "s['data_sent'] == s['data_received']" "[r['step'] for r in m if r.get('event') == 'step'][:6] == [1, 2, 3, 4, 5, 6]" ||
  { cat "$log"; exit 1; }
echo PASSED
