# pdestream: the two commands are `make demo` and `make test`; both install the
# dependencies (Debian packages), configure, build and run.
#
#   make demo    the main job: heat2d simulations stream into an FNO trainer (3 MPI ranks,
#                a few minutes), then evaluate with ParaView and PNG output (scripts/demo.sh)
#   make test    the whole test suite (ctest: unit, mpi and slow labels)
#   make bench   benchmark tables (see bench/)
#   make fuzz    libFuzzer targets in build-fuzz/ (clang-14), FUZZ_SECONDS each (scripts/fuzz.sh)
#   make test-asan  library and tests under ASan + UBSan (gcc) in build-asan/ (scripts/test-asan.sh)
#   make install PREFIX=DIR  the binary, libraries, headers and pdestreamConfig.cmake
#                (find_package(pdestream); examples/own_solver builds against it)
#   make deps | configure | build | clean

BUILD_DIR ?= build
JOBS ?= 2
PREFIX ?= /usr/local
CTEST_ARGS ?=
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_rmaps_base_oversubscribe := 1
MPIEXEC ?= mpiexec --bind-to none
PDESTREAM := $(BUILD_DIR)/bin/pdestream

.PHONY: deps configure build install test demo bench fuzz test-asan clean

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake --preset release -DCMAKE_BUILD_TYPE=Release >/dev/null || cmake --preset release

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

install: build
	@cmake --install $(BUILD_DIR) --prefix $(PREFIX)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

demo: build
	@bash scripts/demo.sh $(PDESTREAM)

bench: build
	@bash bench/heat2d.sh $(BUILD_DIR)/bin/bench_heat2d
	@bash bench/solvers.sh $(BUILD_DIR)/bin/bench_solvers
	@bash bench/acoustic.sh $(BUILD_DIR)/bin/bench_acoustic
	@bash bench/relax.sh $(BUILD_DIR)/bin/bench_relax
	@bash bench/poisson.sh $(BUILD_DIR)/bin/bench_poisson

fuzz:
	@bash scripts/fuzz.sh

test-asan:
	@bash scripts/test-asan.sh

clean:
	@rm -rf $(BUILD_DIR)
