// bench_relax: total CG iterations over a sequence of systems under each omega policy
// (bench/relax.sh prints the README table).
//
//   bench_relax --sequence heat2d --grids 26,51,101 --steps 5000 --seeds 3 [--header] [PETSc options]
//
// One Markdown row per grid: n | CG alone | omega = 1 | best fixed omega (in hindsight) |
// instance-optimal | Tsallis-INF (mean over seeds) | ChebCB | binned Tsallis-INF | Exp3 | UCB1.
// "omega = 1", best fixed and instance-optimal come from one --omega grid run (every system
// solved at all 20 omegas from the same warm start).

#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "core/runtime.hpp"
#include "linear_systems/relaxation_tuner.hpp"
#include "linear_systems/sequences.hpp"

using namespace pdestream;
using namespace pdestream::linear_systems;

int main(int argc, char** argv) {
  std::vector<int> grids = {26, 51, 101};
  std::string sequence = "heat2d";
  int steps = 5000, seeds = 3;
  bool header = false;
  std::vector<std::string> petsc;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: bench_relax [--sequence heat2d|shifted-laplacian] [--grids 26,51,101] [--steps N] "
                  "[--seeds S] [--header] [PETSc options]\n");
      return 0;
    } else if (a == "--grids" && i + 1 < argc) {
      grids.clear();
      std::stringstream ss(argv[++i]);
      for (std::string s; std::getline(ss, s, ',');) grids.push_back(std::stoi(s));
    } else if (a == "--sequence" && i + 1 < argc) {
      sequence = argv[++i];
    } else if (a == "--steps" && i + 1 < argc) {
      steps = std::stoi(argv[++i]);
    } else if (a == "--seeds" && i + 1 < argc) {
      seeds = std::stoi(argv[++i]);
    } else if (a == "--header") {
      header = true;
    } else {
      petsc.push_back(a);
    }
  }
  Runtime runtime(&argc, &argv, MPI_COMM_WORLD, petsc);
  const MPI_Comm comm = runtime.comm();
  if (register_sor_bandit()) return 1;
  if (header) {
    runtime.print("| n | steps | CG | ω = 1 | best fixed ω | instance-optimal | Tsallis-INF (mean of " +
                  std::to_string(seeds) + " seeds) | ChebCB | binned Tsallis-INF | Exp3 | UCB1 | time |");
    runtime.print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  }
  try {
    for (int grid : grids) {
      const double start = MPI_Wtime();
      SequenceOptions o;
      o.sequence = sequence;
      o.grid = grid;
      o.steps = steps;
      auto total = [&](const std::string& policy, std::uint64_t seed) {
        o.seed = seed;
        return run_sequence(o, OmegaPolicy::parse(policy), comm);
      };
      const auto cg = total("none", 0);
      const auto grid_run = total("grid", 0);
      double sum = 0, sum2 = 0;
      for (int s = 0; s < seeds; ++s) {
        const double t = static_cast<double>(total("bandit:tsallis", s).total_iterations);
        sum += t, sum2 += t * t;
      }
      const double mean = sum / seeds, sd = seeds > 1 ? std::sqrt(std::max(0.0, (sum2 - seeds * mean * mean) / (seeds - 1))) : 0;
      const auto cheb = total("bandit:chebcb", 0), binned = total("bandit:binned", 0);
      const auto exp3 = total("bandit:exp3", 0), ucb1 = total("bandit:ucb1", 0);
      char row[512];
      std::snprintf(row, sizeof row,
                    "| %lld | %d | %lld | %lld | %lld (ω = %.2f) | %lld | %.0f ± %.0f | %lld | %lld | %lld | %lld | %.0f s |",
                    grid_run.unknowns, steps, cg.total_iterations, grid_run.arm_totals.front(),
                    grid_run.arm_totals[grid_run.best_arm], grid_run.arms[grid_run.best_arm],
                    grid_run.instance_optimal, mean, sd, cheb.total_iterations, binned.total_iterations,
                    exp3.total_iterations, ucb1.total_iterations, MPI_Wtime() - start);
      runtime.print(row);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_relax: %s\n", e.what());
    return 1;
  }
  return 0;
}
