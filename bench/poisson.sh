#!/usr/bin/env bash
# The Poisson table quoted in the README ("### poisson"): 3D Poisson at 32³, 64³ and 128³,
# without and with an obstacle, CG with PETSc's preconditioners against DCDM (the shipped
# model, trained at 16³), iterations and times to rtol 1e-4 and 1e-6 on the unpreconditioned
# residual. See bench/poisson.cpp for what is measured and how.
#   bash bench/poisson.sh [build/bin/bench_poisson] [GRIDS] [OBSTACLES] [MODEL]
# One rank, one thread per method (DCDM's network included). Takes about 25 minutes, most of
# it DCDM's network at 128³.
set -euo pipefail
BIN=${1:-build/bin/bench_poisson}
GRIDS=${2:-32,64,128}
OBSTACLES=${3:-none,sphere,random-boxes:12}
MODEL=${4:-models/dcdm_3d.safetensors}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
echo "3D Poisson (7-point, Dirichlet, random b, seed 0), 1 rank, 1 thread; DCDM model: $MODEL; $(nproc --all) cores"
echo
"$BIN" --grids "$GRIDS" --obstacles "$OBSTACLES" --model "$MODEL" --threads 1 --header
