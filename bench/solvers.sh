#!/usr/bin/env bash
# The spectral solvers' table quoted in the README: seconds per sample in the FNO settings.
#   bash bench/solvers.sh [build/bin/bench_solvers]
# burgers1d: full trajectories (8192 points, T = 1, dt = 1e-3, ETDRK4), one rank (an
# ensemble spreads over ranks). ns2d: nu = 1e-3, dt = 1e-3, timed over a few time units
# and extrapolated to the FNO trajectory (T = 50, 50,000 steps), on 1 and 2 ranks.
set -euo pipefail
BIN=${1:-build/bin/bench_solvers}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
echo "spectral solvers, FFTW 3 (FFTW_ESTIMATE plans), $(nproc --all) cores"
"$BIN" --header --solver burgers1d --n 8192 --samples 3
"$BIN" --solver ns2d --n 64 --t-final 2 --samples 1
mpiexec --bind-to none -n 2 "$BIN" --solver ns2d --n 64 --t-final 2 --samples 1
"$BIN" --solver ns2d --n 256 --t-final 0.5 --samples 1
mpiexec --bind-to none -n 2 "$BIN" --solver ns2d --n 256 --t-final 0.5 --samples 1
