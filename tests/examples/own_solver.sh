#!/usr/bin/env bash
# examples/own_solver against an installed pdestream: install the build tree into a
# temporary prefix, configure and build the example with find_package(pdestream), then run
# its solver on 2 ranks with simulate (checked against the exact solution), generate and an
# online training job (1 trainer + 1 simulation rank), and check that a bad key of the new
# solver is one error line.
#   own_solver.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail
src=$1 build=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"
fail() { echo "FAILED: $*"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
MPI2=(mpiexec --bind-to none -n 2)
ex=$src/examples/own_solver

cmake --install "$build" --prefix "$work/prefix" >install.log || { cat install.log; fail "cmake --install"; }
# The example is compiled as the libraries were (an instrumented build, make test-asan,
# needs its sanitizer flags in the program that links them too).
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
cmake -S "$ex" -B own -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_CXX_FLAGS=$(cache CMAKE_CXX_FLAGS)" "-DCMAKE_EXE_LINKER_FLAGS=$(cache CMAKE_EXE_LINKER_FLAGS)" >configure.log 2>&1 ||
  { cat configure.log; fail "configuring the example against the installed package"; }
cmake --build own -j2 >build.log 2>&1 || { cat build.log; fail "building the example"; }
grep -q "pdestream_DIR:PATH=$work/prefix/lib/cmake/pdestream" own/CMakeCache.txt ||
  fail "the example did not find the installed package: $(grep pdestream_DIR own/CMakeCache.txt)"
app=$work/own/own_solver

# simulate on 2 ranks: the HDF5 frames are the exact solution a sin(pi x) sin(pi y) exp(-2 pi^2 nu t).
"${MPI2[@]}" "$app" simulate decay2d --config "$ex/decay2d.toml" --hdf5 sim.h5 \
  --set output.dir=sim >simulate.log 2>&1 || { cat simulate.log; fail "simulate on 2 ranks"; }
/usr/bin/python3 - <<'PY' || fail "simulate's frames are not the exact solution"
import h5py, numpy as np
with h5py.File("sim.h5") as f:
    u = f["tensor"][0]
    x, y, t = f["x-coordinate"][:], f["y-coordinate"][:], f["t-coordinate"][:]
    nu, a = f["params"][0]
exact = a * np.sin(np.pi * x)[None, :, None] * np.sin(np.pi * y)[None, None, :] \
    * np.exp(-2 * np.pi**2 * nu * t)[:, None, None]
err = np.abs(u - exact).max()
print(f"simulate on 2 ranks: {u.shape} frames, nu = {nu}, a = {a}, max |u - exact| = {err:.2e}")
assert u.shape == (6, 16, 16) and err < 1e-6, err
PY

"${MPI2[@]}" "$app" generate --config "$ex/decay2d.toml" --samples 4 --out gen.h5 --set output.dir=gen \
  >generate.log 2>&1 || { cat generate.log; fail "generate on 2 ranks"; }
tail -1 generate.log

# Online training: 1 trainer rank + 1 simulation rank stream 24 decay2d trajectories.
"${MPI2[@]}" "$app" train --config "$ex/decay2d_online.toml" --set output.dir=online >train.log 2>&1 ||
  { cat train.log; fail "online training on 2 ranks"; }
grep -q "24 simulations (0 failed)" train.log || { cat train.log; fail "expected 24 simulations, 0 failed"; }
[[ -s online/model.safetensors ]] || fail "no online/model.safetensors"
grep "online done" train.log
"$app" evaluate --run online --data gen.h5 >evaluate.log 2>&1 || { cat evaluate.log; fail "evaluate"; }
tail -1 evaluate.log

# The new solver's keys are validated like every other's: one line, non-zero.
if "$app" simulate decay2d --config "$ex/decay2d.toml" --set solver.nq=3 >bad.log 2>&1; then
  fail "an unknown [solver] key was accepted"
fi
[[ $(grep -c "error:" bad.log) -eq 1 ]] && grep -q "nq" bad.log || { cat bad.log; fail "expected one error line naming nq"; }
grep "error:" bad.log
echo PASSED
