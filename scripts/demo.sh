#!/usr/bin/env bash
# The demo behind `make demo`: a small heat2d dataset generated on 2 MPI ranks, one
# trajectory exported to ParaView, and where to find everything.
# (The online-training issue replaces this with the real main job.)
set -euo pipefail
PDESTREAM=${1:-build/bin/pdestream}
OUT=runs/demo
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

"$PDESTREAM" info
mpiexec --bind-to none -n 2 "$PDESTREAM" generate --config configs/heat2d.toml --samples 8 \
  --out "$OUT/heat2d.h5" --set output.dir="$OUT/generate"
"$PDESTREAM" export --hdf5 "$OUT/heat2d.h5" --sample 0 --paraview "$OUT/paraview"

echo
echo "demo outputs:"
echo "  dataset   $OUT/heat2d.h5   (PDEBench layout: h5py.File(...)['tensor'] is [N, Nt, Nx, Ny])"
echo "  ParaView  $OUT/paraview/sample0.pvd   (paraview $OUT/paraview/sample0.pvd)"
echo "  config    $OUT/generate/config.toml"
