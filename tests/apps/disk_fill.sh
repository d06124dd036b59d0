#!/usr/bin/env bash
# The disk fills up while a command writes: the command runs with its output on a small
# tmpfs that has room for it, and once WHEN holds, a filler takes all the rest.
#   disk_fill.sh MB WHEN REGEX AFTER -- COMMAND...   (run in the tmpfs: relative paths land there)
# WHEN is a file that must appear, or log:ERE, a line the command must print. The command
# must exit non-zero by itself with one error line matching REGEX, and leave no *.tmp or
# *.partial file; with REGEX `-` it must instead succeed, the disk full or not. Then the
# filler is deleted and AFTER (a bash command, may be `true`; e.g. a --resume or a check of
# the output) must succeed there. Needs `mount -t tmpfs` (root); without it the test is
# skipped (exit 77).
set -uo pipefail
mb=$1 file=$2 regex=$3 after=$4
shift 5
mnt=$(mktemp -d)
log=$(mktemp)
cleanup() { cd /; umount "$mnt" 2>/dev/null; rmdir "$mnt"; rm -f "$log"; }
trap cleanup EXIT
mount -t tmpfs -o size="${mb}m" tmpfs "$mnt" 2>/dev/null || { echo "SKIPPED: cannot mount a tmpfs (needs root)"; exit 77; }
fail() { cat "$log"; echo "FAILED: $*"; exit 1; }
cd "$mnt" || exit 1
"$@" >"$log" 2>&1 &
job=$!
deadline=$(($(date +%s) + 120))
happened() { if [[ $file == log:* ]]; then grep -Eq "${file#log:}" "$log"; else [[ -e $file ]]; fi; }
until happened; do
  kill -0 "$job" 2>/dev/null || fail "the command ended before $file"
  (($(date +%s) < deadline)) || fail "no $file within 120 s"
  sleep 0.02
done
dd if=/dev/zero of=filler bs=64k 2>/dev/null
echo "filled the tmpfs once $file: $(du -k filler | cut -f1) KiB of filler"
deadline=$(($(date +%s) + 120))
while kill -0 "$job" 2>/dev/null; do
  (($(date +%s) < deadline)) || { pkill -9 -P "$job"; kill -9 "$job"; fail "still running 120 s after the disk filled"; }
  sleep 0.1
done
wait "$job"
rc=$?
errors=$(grep -c "error:" "$log")
if [[ $regex == - ]]; then
  [[ $rc -eq 0 && $errors -eq 0 ]] || fail "expected success on a full disk, got exit $rc and $errors error lines"
  tail -1 "$log"
else
  [[ $rc -ne 0 ]] || fail "expected a non-zero exit on a full disk"
  ((rc < 128)) || fail "killed by signal $((rc - 128)) instead of an error"
  [[ $errors -eq 1 ]] || fail "expected one error line, found $errors"
  grep "error:" "$log" | grep -Eq "$regex" || fail "the error does not match '$regex'"
  grep "error:" "$log"
fi
left=$(find . \( -name '*.tmp' -o -name '*.partial' \))
[[ -z $left ]] || fail "left behind: $left"
if [[ -n $after ]]; then
  rm -f filler
  bash -c "$after" >"$log" 2>&1 || fail "after the disk was freed: $after"
  tail -2 "$log"
fi
echo PASSED
