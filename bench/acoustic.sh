#!/usr/bin/env bash
# The acoustic solver's table quoted in the README: grid-point updates per second and seconds
# per source position, in the 2 m cube (configs/acoustic_cube.toml: f_max 1 kHz, 50 ms,
# cfl 1) and the furnished room, on 1 and 2 ranks, at the default ppw 10 and at ppw 6 and 16,
# and at the DeepONet bench's settings (f_max 500 Hz, ppw 6, 20 ms).
#   bash bench/acoustic.sh [build/bin/bench_acoustic]
set -euo pipefail
BIN=${1:-build/bin/bench_acoustic}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
echo "acoustic3d, staggered FDTD, $(nproc --all) cores; 3 sources per row (20 at f_max 500) after a warm-up"
"$BIN" --header --config configs/acoustic_cube.toml --samples 3
mpiexec --bind-to none -n 2 "$BIN" --config configs/acoustic_cube.toml --samples 3
"$BIN" --config configs/acoustic_cube.toml --ppw 6 --samples 3
mpiexec --bind-to none -n 2 "$BIN" --config configs/acoustic_cube.toml --ppw 6 --samples 3
"$BIN" --config configs/acoustic_cube.toml --ppw 16 --samples 3
mpiexec --bind-to none -n 2 "$BIN" --config configs/acoustic_cube.toml --ppw 16 --samples 3
"$BIN" --config configs/acoustic_cube.toml --f-max 500 --ppw 6 --duration 0.02 --samples 20
mpiexec --bind-to none -n 2 "$BIN" --config configs/acoustic_cube.toml --f-max 500 --ppw 6 --duration 0.02 --samples 20
"$BIN" --config configs/acoustic_furnished.toml --samples 3
mpiexec --bind-to none -n 2 "$BIN" --config configs/acoustic_furnished.toml --samples 3
