#!/usr/bin/env bash
# kill -9 of one rank of an online job, then `train --resume`:
#   online_kill.sh RUN_DIR PYTHON CHECKER WHEN EXPR... -- MPI_PREFIX... PDESTREAM TRAIN_ARGS...
# WHEN  fault      the job's own [online] fault (kill_sim / kill_trainer in TRAIN_ARGS) kills a rank
#       R@FILE     this script sends SIGKILL to world rank R once RUN_DIR/FILE exists, as a user would
# The killed job must end by itself (non-zero, no hang). `train --resume RUN_DIR` must then
# finish the job with every EXPR true (check_online.py), keep validation.h5 as it was if it
# existed, and its validation set must be the one `generate` makes with [sampler] seed + 1.
set -uo pipefail
run=$1 py=$2 checker=$3 when=$4
shift 4
exprs=()
while [[ $# -gt 0 && $1 != "--" ]]; do exprs+=("$1"); shift; done
shift
args=("$@")
for i in "${!args[@]}"; do [[ ${args[$i]} == */pdestream ]] && p=$i; done
prefix=("${args[@]:0:$p}") pds=${args[$p]} train=("${args[@]:$((p + 1))}")
rm -rf "$run" "$run.ref"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { cat "$log"; echo "FAILED: $*"; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/wait_for.sh"

"${prefix[@]}" "$pds" "${train[@]}" --set output.dir="$run" >"$log" 2>&1 &
job=$!
if [[ $when == *@* ]]; then
  rank=${when%%@*} file=${when#*@}
  deadline=$(($(date +%s) + 240))
  until [[ -e $run/$file ]]; do
    kill -0 "$job" 2>/dev/null || fail "the job ended before $file appeared"
    (($(date +%s) < deadline)) || fail "$file did not appear within 240 s"
    sleep 0.01
  done
  victim=""
  # mpirun starts the local ranks as its own children; each knows its rank from its environment.
  for c in $(pgrep -P "$job"); do
    grep -qz "^OMPI_COMM_WORLD_RANK=$rank\$" "/proc/$c/environ" 2>/dev/null && victim=$c
  done
  [[ -n $victim ]] || fail "no process of world rank $rank under mpirun $job"
  kill -9 "$victim"
  echo "kill -9 world rank $rank (pid $victim) once $file existed"
fi
wait_for "$job" 120
tail -4 "$log"
[[ $rc -ne 124 ]] || fail "the job with a killed rank did not end within 120 s"
[[ $rc -ne 0 ]] || fail "the job with a killed rank exited 0"
ls "$run"
before=""
[[ -s $run/validation.h5 ]] && before=$(md5sum <"$run/validation.h5")

"${prefix[@]}" "$pds" train --resume "$run" --set online.fault='"none"' >"$log" 2>&1 &
wait_for $! 300
[[ $rc -ne 124 ]] || fail "the resumed job did not end within 300 s"
[[ $rc -eq 0 ]] || fail "the resumed job exited with $rc"
tail -3 "$log"
grep -E "resumed $run at step|no checkpoint yet" "$log" || fail "no resume line"
if [[ -n $before ]]; then
  [[ $(md5sum <"$run/validation.h5") == "$before" ]] || fail "validation.h5 changed across the resume"
fi
# The held-out set is the one `generate` writes with seed + 1 (same before and after a kill).
read -r seed nval < <("$py" -c "import tomllib; c = tomllib.load(open('$run/config.toml', 'rb'))
print(c['sampler']['seed'], c['online']['validation_samples'])")
"$pds" generate --config "$run/config.toml" --set sampler.seed=$((seed + 1)) --samples "$nval" \
  --out "$run.ref/validation.h5" --set output.dir="$run.ref" >"$log" 2>&1 || fail "generate of the reference set"
"$py" "$(dirname "$0")/check_assembly.py" "$run/validation.h5" "$run.ref/validation.h5" >"$log" 2>&1 ||
  fail "validation.h5 is not the seed + 1 set"
"$py" "$checker" "$run" "${exprs[@]}" || fail "accounts"
echo PASSED
