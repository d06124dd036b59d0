// bench_heat2d: time per step and cell updates per second of heat2d at several grid sizes.
//
// Sample runs (bench/heat2d.sh runs these on 1 and 2 ranks and prints the table):
//   bench_heat2d --sizes 256,512,1024 --steps 20
//   mpiexec -n 2 bench_heat2d --sizes 1024 --steps 20 -pc_type gamg
//
// Prints one Markdown table row per size: ranks | grid | scheme | steps | ms/step |
// cell updates/s | KSP its/step. The first output interval is a warm-up and not timed.

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "core/runtime.hpp"
#include "solvers/heat2d.hpp"

int main(int argc, char** argv) {
  std::vector<int> sizes = {256, 512, 1024};
  int steps = 20;
  std::string scheme = "cn";
  bool header = false;
  std::vector<std::string> petsc;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: bench_heat2d [--sizes 256,512,1024] [--steps N] [--scheme cn|be] [--header] [PETSc options]\n");
      return 0;
    } else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::stringstream ss(argv[++i]);
      for (std::string s; std::getline(ss, s, ',');) sizes.push_back(std::stoi(s));
    } else if (a == "--steps" && i + 1 < argc) {
      steps = std::stoi(argv[++i]);
    } else if (a == "--scheme" && i + 1 < argc) {
      scheme = argv[++i];
    } else if (a == "--header") {
      header = true;
    } else {
      petsc.push_back(a);
    }
  }
  pdestream::Runtime runtime(&argc, &argv, MPI_COMM_WORLD, petsc);
  const MPI_Comm comm = runtime.comm();
  if (header) {
    runtime.print("| ranks | grid | scheme | steps | ms/step | cell updates/s | KSP its/step |");
    runtime.print("|---:|---:|:---:|---:|---:|---:|---:|");
  }
  for (int n : sizes) {
    pdestream::solvers::Heat2dOptions o;
    o.nx = o.ny = n;
    o.scheme = scheme;
    o.dt = 1e-4;
    o.outputs = 2;
    o.steps_per_output = steps;
    pdestream::solvers::Heat2d solver(o, comm);
    solver.reset({{"alpha", 1.0}, {"t_left", 1.0}, {"t_right", -1.0}, {"t_bottom", 0.5}});
    solver.advance();  // warm-up: first solves, preconditioner set-up
    const long long its0 = solver.ksp_iterations();
    MPI_Barrier(comm);
    const auto t0 = std::chrono::steady_clock::now();
    solver.advance();
    MPI_Barrier(comm);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double per_step = seconds / steps;
    const double updates = static_cast<double>(n) * n / per_step;
    char row[256];
    std::snprintf(row, sizeof row, "| %d | %d² | %s | %d | %.2f | %.3g | %.1f |", runtime.size(), n,
                  scheme.c_str(), steps, 1e3 * per_step, updates,
                  static_cast<double>(solver.ksp_iterations() - its0) / steps);
    runtime.print(row);
  }
  return 0;
}
