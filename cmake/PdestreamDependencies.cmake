# Every external dependency is found here, the standard way, so module CMakeLists
# only name imported targets. All of them are Debian packages (scripts/install-deps.sh).

include(PdestreamLinkDependencies)

# Only for building and testing pdestream itself.
find_package(GTest REQUIRED)
find_package(spdlog REQUIRED)
find_package(benchmark QUIET)

find_program(MPIEXEC_EXECUTABLE_FOUND NAMES mpiexec mpirun REQUIRED)
find_program(PYTHON3_DEBIAN /usr/bin/python3)

