#!/usr/bin/env bash
# Runs a command and checks how it ended.
#   expect.sh ok   REGEX cmd...   exit 0 and REGEX found in stdout+stderr
#   expect.sh fail REGEX cmd...   non-zero exit, REGEX found, and exactly one error line
#                                 from pdestream on stderr (whatever mpiexec adds)
set -uo pipefail
mode=$1 regex=$2
shift 2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
rc=$?
echo "--- command: $*"; echo "--- exit: $rc"; echo "--- stdout:"; cat "$out"; echo "--- stderr:"; cat "$err"
if ! cat "$out" "$err" | tr "\n" " " | grep -Eq -- "$regex"; then
  echo "FAILED: output does not match /$regex/"; exit 1
fi
case $mode in
  ok) [[ $rc -eq 0 ]] || { echo "FAILED: expected exit 0, got $rc"; exit 1; } ;;
  fail)
    [[ $rc -ne 0 ]] || { echo "FAILED: expected a non-zero exit"; exit 1; }
    lines=$(grep -c "^pdestream" "$err" || true)
    [[ $lines -eq 1 ]] || { echo "FAILED: expected exactly one 'pdestream ...' error line on stderr, got $lines"; exit 1; }
    if grep -q "Traceback\|PETSC ERROR\|HDF5-DIAG\|terminate called" "$err"; then
      echo "FAILED: stderr has a traceback/diagnostic dump"; exit 1
    fi ;;
  *) echo "usage: expect.sh ok|fail REGEX cmd..."; exit 2 ;;
esac
echo "PASSED"
