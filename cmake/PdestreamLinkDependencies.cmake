# What a program linking pdestream's libraries needs found: used by this build
# (PdestreamDependencies.cmake) and installed beside pdestreamConfig.cmake, so that
# find_package(pdestream) recreates the same imported targets (PkgConfig::PETSC,
# HDF5::HDF5, VTK::*, torch, FFTW3::mpi, ...) that the exported targets name. All of them
# are Debian packages (scripts/install-deps.sh).

find_package(MPI REQUIRED COMPONENTS C CXX)

find_package(PkgConfig REQUIRED)
pkg_check_modules(PETSC REQUIRED IMPORTED_TARGET PETSc>=3.18)

# Parallel HDF5: collective hyperslab writes need the MPI-IO driver.
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR
    "pdestream needs parallel HDF5 (MPI-IO), but the HDF5 found at "
    "'${HDF5_INCLUDE_DIRS}' is serial. Install libhdf5-openmpi-dev "
    "(scripts/install-deps.sh) or point HDF5_ROOT at a parallel build.")
endif()

find_package(VTK 9 REQUIRED COMPONENTS CommonCore CommonDataModel CommonMisc IOXML IOXMLParser IOImage ImagingCore)

# Torch's CMake config probes for CUDA and warns about kineto; both are irrelevant on CPU.
find_package(Torch REQUIRED)

find_package(CLI11 REQUIRED)
find_package(toml11 REQUIRED)
find_package(nlohmann_json REQUIRED)

# FFTW 3 (double) for the pseudo-spectral solvers, and its MPI library for ns2d's slab
# decomposition (libfftw3-dev, libfftw3-mpi-dev; fftw3-mpi ships no pkg-config file).
pkg_check_modules(FFTW3 REQUIRED IMPORTED_TARGET fftw3>=3.3)
find_library(FFTW3_MPI_LIBRARY NAMES fftw3_mpi HINTS ${FFTW3_LIBRARY_DIRS})
find_path(FFTW3_MPI_INCLUDE_DIR NAMES fftw3-mpi.h HINTS ${FFTW3_INCLUDE_DIRS})
if(NOT FFTW3_MPI_LIBRARY OR NOT FFTW3_MPI_INCLUDE_DIR)
  message(FATAL_ERROR "pdestream needs FFTW's MPI library (libfftw3_mpi, fftw3-mpi.h) for ns2d; "
    "install libfftw3-mpi-dev (scripts/install-deps.sh)")
endif()
if(NOT TARGET FFTW3::mpi)
  add_library(FFTW3::mpi INTERFACE IMPORTED)
  target_link_libraries(FFTW3::mpi INTERFACE ${FFTW3_MPI_LIBRARY} PkgConfig::FFTW3 MPI::MPI_C)
  target_include_directories(FFTW3::mpi INTERFACE ${FFTW3_MPI_INCLUDE_DIR})
endif()

# WAV files of receiver impulse responses (evaluate --wav).
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile>=1.0)

# Figures (io/figures.cpp): PLplot, drawing through its cairo driver into memory
# (libplplot-dev, plplot-driver-cairo).
pkg_check_modules(PLPLOT REQUIRED IMPORTED_TARGET plplot>=5.15)
