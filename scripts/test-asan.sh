#!/usr/bin/env bash
# make test-asan: the library and the test suite built with gcc's AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan/, then the unit tests (and the MPI tests, which
# Open MPI allows under ASan) run through ctest.
#
#   make test-asan                          # unit + mpi labels
#   ASAN_CTEST_ARGS="-R test_config" make test-asan
#
# Not part of .ci/run: the instrumented build and suite take about an hour on 2 cores.
# Suppressions (scripts/sanitizers/*.supp) cover leaks and reports inside Open MPI, hwloc,
# PETSc and HDF5 only, each with its reason; none covers pdestream's own code.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${ASAN_BUILD_DIR:-build-asan}
bash scripts/install-deps.sh
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g1"
# The instrumented tests run 3 to 10 times slower: their timeouts are scaled by 6.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPDESTREAM_BUILD_BENCH=OFF \
  -DPDESTREAM_TEST_TIMEOUT_SCALE="${ASAN_TIMEOUT_SCALE:-6}" \
  "-DCMAKE_C_FLAGS=$SAN" "-DCMAKE_CXX_FLAGS=$SAN" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" \
  "-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined" >/dev/null
cmake --build "$BUILD" -j"${JOBS:-2}"
SUPP="$PWD/scripts/sanitizers"
export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
# fast_unwind_on_malloc=0: the frame-pointer unwinder stops at the first library built
# without frame pointers, and Open MPI unloads its components at MPI_Finalize, so a leak
# report's only frame would be "<unknown module>"; the slow unwinder sees the whole stack,
# through libopen-pal's component loader, which the suppressions name.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0:fast_unwind_on_malloc=0"
export UBSAN_OPTIONS="suppressions=$SUPP/ubsan.supp:print_stacktrace=1:halt_on_error=1"
cd "$BUILD"
# shellcheck disable=SC2086
ctest --output-on-failure -j"${JOBS:-2}" -L "unit|mpi" -LE slow ${ASAN_CTEST_ARGS:-}
