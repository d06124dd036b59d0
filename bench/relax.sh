#!/usr/bin/env bash
# The bandit-SOR table quoted in the README ("### relax"): total CG iterations over the
# paper's heat-equation sequence (Crank-Nicolson, c(t) = max(0.1 sin 2 pi t, -10 sin 2 pi t),
# moving source, warm starts, SSOR-preconditioned CG, rtol 1e-8) at n = 576, 2401, 9801,
# then the synthetic shifted-Laplacian sequence (A + c_t I, c_t ~ Beta(2, 6)).
#   bash bench/relax.sh [build/bin/bench_relax] [STEPS] [SHIFTED_STEPS]
# The sizes run as separate processes, two at a time (one per core).
set -euo pipefail
BIN=${1:-build/bin/bench_relax}
STEPS=${2:-5000}
SHIFTED_STEPS=${3:-1000}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BIN" --sequence heat2d --grids 101 --steps "$STEPS" >"$tmp/h101" &
big=$!
"$BIN" --sequence heat2d --grids 26 --steps "$STEPS" >"$tmp/h26"
"$BIN" --sequence heat2d --grids 51 --steps "$STEPS" >"$tmp/h51"
"$BIN" --sequence shifted-laplacian --grids 26,51 --steps "$SHIFTED_STEPS" >"$tmp/s"
wait $big
echo "heat2d (paper setting), $STEPS steps, CG + SSOR, rtol 1e-8; 20 omegas in [1, 1.95]; $(nproc --all) cores"
echo
printf '| n | steps | CG | ω = 1 | best fixed ω | instance-optimal | Tsallis-INF (mean ± sd, 3 seeds) | ChebCB | binned Tsallis-INF | Exp3 | UCB1 | time |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
cat "$tmp/h26" "$tmp/h51" "$tmp/h101"
echo
echo "shifted Laplacian A + c_t I, c_t ~ Beta(2, 6), zero initial guesses, $SHIFTED_STEPS systems"
echo
printf '| n | steps | CG | ω = 1 | best fixed ω | instance-optimal | Tsallis-INF (mean ± sd, 3 seeds) | ChebCB | binned Tsallis-INF | Exp3 | UCB1 | time |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
cat "$tmp/s"
