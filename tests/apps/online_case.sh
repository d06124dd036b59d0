#!/usr/bin/env bash
# One online-training test case: run the job, then check its summary.
#   online_case.sh RUN_DIR PYTHON CHECKER EXPR... -- COMMAND...
# COMMAND must write to RUN_DIR (--set output.dir=RUN_DIR). Its output is shown on failure.
set -uo pipefail
run=$1 py=$2 checker=$3
shift 3
exprs=()
while [[ $# -gt 0 && $1 != "--" ]]; do exprs+=("$1"); shift; done
shift
rm -rf "$run"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$@" >"$log" 2>&1
rc=$?
if [[ $rc -ne 0 ]]; then
  cat "$log"; echo "FAILED: the job exited with $rc"; exit 1
fi
tail -5 "$log"
"$py" "$checker" "$run" "${exprs[@]}" || { cat "$log"; exit 1; }
echo PASSED
