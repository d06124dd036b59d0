#!/usr/bin/env bash
# A command that runs out of room: `ulimit -f KB` stands in for a full disk (pdestream
# ignores SIGXFSZ, so the write past the limit fails as it would with ENOSPC).
#   disk_full.sh KB DIR REGEX ABSENT... -- COMMAND...
# The command must exit non-zero with exactly one error line matching REGEX, leave no
# *.tmp or *.partial file under DIR, and leave none of the ABSENT paths behind.
set -uo pipefail
kb=$1 dir=$2 regex=$3
shift 3
absent=()
while [[ $# -gt 0 && $1 != "--" ]]; do absent+=("$1"); shift; done
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
(ulimit -f "$kb" && "$@") >"$log" 2>&1
rc=$?
fail() { cat "$log"; echo "FAILED: $*"; exit 1; }
[[ $rc -ne 0 ]] || fail "expected a non-zero exit with a ${kb} KiB file-size limit"
((rc < 128)) || fail "killed by signal $((rc - 128)) instead of an error"
errors=$(grep -c "error:" "$log")
[[ $errors -eq 1 ]] || fail "expected one error line, found $errors"
grep "error:" "$log" | grep -Eq "$regex" || fail "the error does not match '$regex'"
left=$(find "$dir" \( -name '*.tmp' -o -name '*.partial' \) 2>/dev/null)
[[ -z $left ]] || fail "left behind: $left"
for f in "${absent[@]}"; do [[ ! -e $f ]] || fail "$f exists"; done
grep "error:" "$log"
echo PASSED
