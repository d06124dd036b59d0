// bench_solvers: seconds per sample of the spectral solvers in the FNO data settings.
//
// Sample runs (bench/solvers.sh runs these and prints the table):
//   bench_solvers --solver burgers1d --n 8192 --samples 3
//   bench_solvers --solver ns2d --n 64 --t-final 2
//   mpiexec -n 2 bench_solvers --solver ns2d --n 256 --t-final 0.5
//
// burgers1d runs full trajectories (T = 1). ns2d's FNO trajectory (nu = 1e-3, T = 50) is
// long, so it times --t-final time units after a warm-up and extrapolates: seconds per
// sample = measured seconds per step x the steps of T = 50. Prints one Markdown row:
// solver | ranks | solve grid | dt | steps/sample | ms/step | s/sample | CPU s/sample, the
// last from rank 0's process CPU time: on a shared, loaded machine it is the better
// measure of one rank's cost (with MPI it also counts busy-polling).

#include <mpi.h>

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime.hpp"
#include "solvers/burgers1d.hpp"
#include "solvers/ns2d.hpp"

using namespace pdestream;

int main(int argc, char** argv) {
  std::string solver = "burgers1d";
  int n = 0, samples = 2;
  double t_final = 0.0, dt = 1e-3;
  bool header = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: bench_solvers [--solver burgers1d|ns2d] [--n N] [--dt DT] [--t-final T] [--samples S] "
                  "[--header]\n");
      return 0;
    } else if (a == "--solver" && i + 1 < argc) {
      solver = argv[++i];
    } else if (a == "--n" && i + 1 < argc) {
      n = std::stoi(argv[++i]);
    } else if (a == "--dt" && i + 1 < argc) {
      dt = std::stod(argv[++i]);
    } else if (a == "--t-final" && i + 1 < argc) {
      t_final = std::stod(argv[++i]);
    } else if (a == "--samples" && i + 1 < argc) {
      samples = std::stoi(argv[++i]);
    } else if (a == "--header") {
      header = true;
    } else {
      std::fprintf(stderr, "bench_solvers: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  Runtime runtime(&argc, &argv, MPI_COMM_WORLD);
  const MPI_Comm comm = runtime.comm();
  if (header) {
    runtime.print("| solver | ranks | solve grid | dt | steps/sample | ms/step | s/sample | CPU s/sample |");
    runtime.print("|:---|---:|---:|---:|---:|---:|---:|---:|");
  }
  using Clock = std::chrono::steady_clock;
  std::unique_ptr<solvers::Solver> s;
  double full_steps = 0, h = 0;
  int steps_per_output = 1;
  std::string grid;
  if (solver == "burgers1d") {
    solvers::Burgers1dOptions o;
    o.solve_nx = n > 0 ? n : 8192;
    o.nx = o.solve_nx / 8;
    o.dt = dt;
    o.t_final = t_final > 0 ? t_final : 1.0;
    auto b = std::make_unique<solvers::Burgers1d>(o, comm);
    h = b->step_size();
    steps_per_output = b->steps_per_output();
    full_steps = std::round(o.t_final / h);
    s = std::move(b);
    grid = std::to_string(o.solve_nx);
  } else if (solver == "ns2d") {
    solvers::Ns2dOptions o;
    o.solve_nx = n > 0 ? n : 64;
    o.nx = o.solve_nx;
    o.dt = dt;
    o.t_final = t_final > 0 ? t_final : 1.0;
    o.outputs = 1;
    auto ns = std::make_unique<solvers::Ns2d>(o, comm);
    h = ns->step_size();
    steps_per_output = ns->steps_per_output();
    full_steps = std::round(50.0 / h);  // FNO: T = 50
    s = std::move(ns);
    grid = std::to_string(o.solve_nx) + "^2";
  } else {
    runtime.print("bench_solvers: --solver must be burgers1d or ns2d, got " + solver);
    return 2;
  }
  // Warm-up: one trajectory (caches, page faults), not timed.
  s->reset({{"ic_seed", 1000.0}});
  while (s->output_index() < s->num_outputs()) s->advance();
  long long steps = 0;
  MPI_Barrier(comm);
  const auto start = Clock::now();
  const std::clock_t cpu_start = std::clock();
  for (int k = 0; k < samples; ++k) {
    s->reset({{"ic_seed", 1.0 + k}});
    while (s->output_index() < s->num_outputs()) s->advance();
    Field f = s->snapshot();
    steps += static_cast<long long>(s->num_outputs()) * steps_per_output;
  }
  MPI_Barrier(comm);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  const double per_step = seconds / steps;
  char row[256];
  std::snprintf(row, sizeof row, "| %s | %d | %s | %g | %.0f | %.3f | %.2f | %.2f |", solver.c_str(),
                runtime.size(), grid.c_str(), h, full_steps, 1e3 * per_step, per_step * full_steps,
                cpu / steps * full_steps);
  runtime.print(row);
  return 0;
}
