#!/usr/bin/env bash
# Runs every sample command of README.md, as written, so the README cannot drift.
# A sample is a line in a ```sh block starting with `pdestream`, `mpirun` or `mpiexec`
# (continuation lines ending in \ are joined). They run in order in a scratch directory
# that sees the repository's configs/, with the freshly built pdestream first on PATH.
#   readme_samples.sh SOURCE_DIR BIN_DIR WORK_DIR
set -euo pipefail
SRC=$1 BIN=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK" && ln -s "$SRC/configs" "$WORK/configs" && ln -s "$SRC/models" "$WORK/models"
export PATH="$BIN:$PATH"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
cd "$WORK"
mapfile -t samples < <(awk '
  /^```sh/ {inblock=1; next}
  /^```/   {inblock=0; next}
  inblock {
    line = $0
    if (cmd != "") { cmd = cmd " " line } else if (line ~ /^(pdestream|mpirun|mpiexec) /) { cmd = line } else { next }
    if (cmd ~ /\\$/) { sub(/\\$/, "", cmd); next }
    print cmd; cmd = ""
  }' "$SRC/README.md")
[[ ${#samples[@]} -gt 0 ]] || { echo "no sample runs found in README.md"; exit 1; }
n=0
for cmd in "${samples[@]}"; do
  n=$((n + 1))
  echo "=== [$n/${#samples[@]}] $cmd"
  if ! bash -c "$cmd" >"sample$n.log" 2>&1; then
    cat "sample$n.log"; echo "FAILED: README sample $n: $cmd"; exit 1
  fi
  tail -n 3 "sample$n.log"
done
echo "all ${#samples[@]} README sample runs passed"
