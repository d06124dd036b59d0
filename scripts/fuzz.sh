#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets (fuzz/) with clang-14 and
# -fsanitize=fuzzer,address,undefined in build-fuzz/, then runs each target for FUZZ_SECONDS
# from its seed corpus and prints executions, coverage and crashes per target.
#
#   make fuzz                                    # every target, 60 s each
#   FUZZ_SECONDS=600 FUZZ_TARGETS="npy config" make fuzz
#   FUZZ_JOBS=2 make fuzz                        # two targets at a time (2 cores)
#
# The working corpus grows in build-fuzz/corpus/<target>/ (fuzz/corpus/ holds the seeds and
# is never written); a crash, hang, leak or out-of-memory input lands in
# build-fuzz/crashes/<target>/. Each one found becomes a regression file under
# tests/data/fuzz/<target>/ with the expected one-line message beside it, replayed by
# `make test` (tests/fuzz/test_fuzz_regressions.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-1}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
ALL="config safetensors matrix_market petsc_binary npy protocol resume_state resume_buffer hdf5_dataset"
TARGETS=${FUZZ_TARGETS:-$ALL}

PDESTREAM_EXTRA_PACKAGES="clang-14 libclang-rt-14-dev" bash scripts/install-deps.sh
# Seed corpora that are written by a script (the HDF5 bases need h5py).
/usr/bin/python3 fuzz/make_corpus.py --check >/dev/null || /usr/bin/python3 fuzz/make_corpus.py

SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g1"
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Release \
  -DPDESTREAM_BUILD_TESTS=OFF -DPDESTREAM_BUILD_BENCH=OFF -DPDESTREAM_BUILD_FUZZ=ON \
  "-DCMAKE_C_FLAGS=$SAN" "-DCMAKE_CXX_FLAGS=$SAN" >/dev/null
cmake --build "$BUILD" -j"${FUZZ_BUILD_JOBS:-2}" --target pdestream_fuzzers

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# Open MPI installs its own SIGABRT/SIGSEGV handlers, which print a backtrace and exit
# before libFuzzer can save the input that crashed: leave the signals to libFuzzer.
export OMPI_MCA_opal_signal=""
# Open MPI, hwloc and PETSc keep allocations until exit that are not ours (scripts/sanitizers/lsan.supp).
export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"
# Leaks are checked per input (libFuzzer); not at exit, where only MPI_Init's allocations
# remain. (Full stacks at every malloc, fast_unwind_on_malloc=0, would name the libraries of
# leaks inside Open MPI and PETSc, but cost 3 to 6 times the executions.)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:leak_check_at_exit=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_one() {
  local t=$1
  local corpus="$BUILD/corpus/$t" crashes="$BUILD/crashes/$t" log="$BUILD/logs/$t.log"
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  # -rss_limit_mb also caps single allocations: a reader that believes a header's sizes
  # before checking them against the file shows up as an out-of-memory crash.
  "$BUILD/fuzz/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1 || true
}

# shellcheck disable=SC2086
if [[ "$FUZZ_JOBS" -gt 1 ]]; then
  export -f run_one; export BUILD FUZZ_SECONDS
  printf '%s\n' $TARGETS | xargs -P "$FUZZ_JOBS" -I{} bash -c 'run_one {}'
else
  for t in $TARGETS; do run_one "$t"; done
fi

printf '\n%-14s %10s %8s %8s %7s  %s\n' target executions exec/s cov corpus crashes
status=0
for t in $TARGETS; do
  log="$BUILD/logs/$t.log"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  n=$(ls "$BUILD/corpus/$t" | wc -l)
  found=$(ls "$BUILD/crashes/$t" 2>/dev/null | tr '\n' ' ')
  [[ -n "$found" ]] && status=1
  printf '%-14s %10s %8s %8s %7s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$n" "${found:-none}"
done
echo "logs: $BUILD/logs/<target>.log; crashes: $BUILD/crashes/<target>/"
exit $status
