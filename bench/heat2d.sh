#!/usr/bin/env bash
# The heat2d benchmark table quoted in the README: 256², 512², 1024² on 1 and 2 ranks.
#   bash bench/heat2d.sh [build/bin/bench_heat2d] [extra PETSc options]
set -euo pipefail
BIN=${1:-build/bin/bench_heat2d}
shift || true
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
echo "heat2d, Crank-Nicolson, dt = 1e-4, CG + default PC (block Jacobi/ILU(0)), rtol 1e-12; $(nproc --all) cores"
"$BIN" --header --sizes 256,512,1024 --steps 20 "$@"
mpiexec --bind-to none -n 2 "$BIN" --sizes 256,512,1024 --steps 20 "$@"
