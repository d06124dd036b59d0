// pdestream info: versions of everything pdestream runs on, and what this process sees.
//
// Sample runs:
//   pdestream info
//   mpirun -np 2 pdestream info
//   pdestream info --config configs/heat2d.toml --set solver.nx=128   # + the merged config

#include <ATen/Parallel.h>
#include <petscsys.h>
#include <torch/version.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "apps/cli.hpp"
#include "io/versions.hpp"
#include "solvers/solver.hpp"

namespace pdestream::apps {

namespace {

// The BLAS/LAPACK libraries actually mapped into this process (Debian's alternatives pick
// the implementation at run time, so the link line does not tell).
std::string blas_in_use() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libs;
  std::string line;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    auto base = path.substr(path.rfind('/') + 1);
    if (base.find("blas") != std::string::npos || base.find("mkl") != std::string::npos) libs.insert(path);
  }
  if (libs.empty()) return "none mapped";
  std::string out;
  for (const auto& l : libs) out += (out.empty() ? "" : ", ") + l;
  if (out.find("openblas") == std::string::npos)
    out += "  [warning: not OpenBLAS; install libopenblas0-pthread, torch GEMM is ~12x slower]";
  return out;
}

std::string mpi_version() {
  char buf[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(buf, &len);
  std::string v(buf, len);
  auto nl = v.find_first_of("\n,");
  return v.substr(0, nl);
}

}  // namespace

SubcommandRegistration add_info(CLI::App& root) {
  auto* cmd = root.add_subcommand("info", "Print versions, build type, BLAS, threads and MPI size");
  auto config = std::make_shared<ConfigOptions>();
  config->add_to(*cmd, false);
  return {cmd, [config](MPI_Comm world) {
            int size = comm_size(world), level = 0;
            MPI_Query_thread(&level);
            char petsc[256];
            PetscGetVersion(petsc, sizeof petsc);
            std::ostringstream os;
            os << "pdestream " << PDESTREAM_VERSION << " (" << PDESTREAM_BUILD_TYPE << " build)\n"
               << "  MPI      " << mpi_version() << "; ranks " << size << "; thread level "
               << (level == MPI_THREAD_MULTIPLE ? "multiple" : level == MPI_THREAD_SERIALIZED ? "serialized"
                                                               : level == MPI_THREAD_FUNNELED ? "funneled"
                                                                                              : "single")
               << "\n"
               << "  PETSc    " << petsc << "\n"
               << "  torch    " << TORCH_VERSION << "; intra-op threads " << at::get_num_threads() << "\n"
               << "  HDF5     " << io::hdf5_version() << "\n"
               << "  VTK      " << io::vtk_version() << "\n"
               << "  BLAS     " << blas_in_use() << "\n"
               << "  solvers ";
            for (const auto& s : solvers::registered_solvers()) os << " " << s.name;
            print0(world, os.str());
            if (!config->path.empty() || !config->sets.empty()) {
              // What a job would see: the file plus overrides, validated like simulate does.
              Config merged;
              collective_try(world, [&] {
                merged = config->load();
                read_sampling_options(merged);
                read_output_options(merged, "info");
                if (merged.has_section("solver")) solvers::make_solver("", merged, MPI_COMM_SELF);
              });
              print0(world, "\n# merged configuration (" + merged.source() + ")\n" + merged.to_toml());
            }
          }};
}

}  // namespace pdestream::apps
