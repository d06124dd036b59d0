#!/usr/bin/env bash
# The README's Python session, as written: a small online run stands in for the demo's
# (runs/demo, 16 simulations), then the ```python block that follows "A session that loads
# the demo's model" runs against it and must write runs/demo/prediction.png.
#   readme_python.sh SOURCE_DIR PDESTREAM WORK_DIR
set -euo pipefail
src=$1 pds=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"
ln -s "$src/python" python
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mpiexec --bind-to none -n 3 "$pds" train --config "$src/configs/heat2d_fno_online.toml" \
  --set simulation.samples=16 --set online.validation_samples=2 --set output.dir=runs/demo >train.log 2>&1 ||
  { cat train.log; echo "FAILED: the stand-in demo run"; exit 1; }
awk '/A session that loads the demo.s model/ { found = 1 } found && /^```python$/ { inside = 1; next }
     inside && /^```$/ { exit } inside { print }' "$src/README.md" >session.py
[[ -s session.py ]] || { echo "FAILED: no python block after 'A session that loads the demo's model' in README.md"; exit 1; }
/usr/bin/python3 session.py
/usr/bin/python3 "$src/tests/apps/check_png.py" 1200 360 runs/demo/prediction.png
echo PASSED
