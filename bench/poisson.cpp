// bench_poisson: 3D Poisson, PETSc's preconditioned CG against DCDM (issue 5).
// bench/poisson.sh prints the README table.
//
//   bench_poisson [--grids 32,64,128] [--obstacles none,sphere] [--methods none,icc,ssor,gamg,hypre,dcdm]
//                 [--rtols 1e-4,1e-6] [--model models/dcdm_3d.safetensors] [--threads 1]
//                 [--max-it 3000] [--dcdm-max-it 400] [--seed 0] [--header] [PETSc options]
//
// Every system is the cell-centred 7-point Poisson problem of linear_systems/poisson.hpp on
// the unit cube (Dirichlet on all sides, random right-hand side from --seed, zero initial
// guess), with the obstacle carved out as solid cells. Methods (each a KSP with its own
// options prefix, so "-gamg_pc_gamg_threshold 0.02" or "-dcdm_ksp_dcdm_directions 5" reach
// one method only):
//   none   CG                           (prefix none_)
//   icc    CG + ICC(0)                  (icc_; block Jacobi + ICC on several ranks)
//   ssor   CG + SSOR, omega 1           (ssor_)
//   gamg   CG + GAMG, PETSc's defaults  (gamg_)
//   hypre  CG + BoomerAMG, defaults     (hypre_)
//   dcdm   KSP dcdm with --model        (dcdm_)
// Every CG runs on the unpreconditioned residual norm (linear_systems/ksp_solve.hpp, as
// `pdestream poisson`), so all methods stop on the same quantity, |r| <= rtol |b|. One solve per system and method, to the smallest rtol: a
// monitor notes the first iteration at which each larger rtol is met and the time to it
// (the iterates do not depend on rtol, so this is what a solve stopped there does), and
// recomputes the true relative residual |b - A x| / |b| at each of those points (outside
// the timing). Setup is KSPSetUp (factorisation, AMG hierarchy, loading the network);
// solve is KSPSolve.
//
// One Markdown row per (grid, obstacle, method):
//   | grid | obstacle | method | its @rtol1 | ... | true rel. residual @smallest | setup s | solve s @rtol1 | ... |
// A method that does not reach an rtol within its iteration cap shows "> cap" (and, where
// it diverged, PETSc's reason).
//
// Threads: --threads sets torch's intra-op threads (the DCDM network); PETSc's methods run
// one thread per rank. The default, 1, gives every method one core per rank.

#include <mpi.h>
#include <petscksp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "linear_systems/dcdm.hpp"
#include "linear_systems/ksp_solve.hpp"
#include "linear_systems/poisson.hpp"

#include <torch/torch.h>

using namespace pdestream;
using namespace pdestream::linear_systems;

namespace {

template <class T, class Parse>
std::vector<T> split(const std::string& text, Parse parse) {
  std::vector<T> out;
  std::stringstream ss(text);
  for (std::string s; std::getline(ss, s, ',');) out.push_back(parse(s));
  return out;
}

// The first iteration at which each rtol is met, with the time to it and the true residual.
struct Crossings {
  Mat A = nullptr;
  Vec b = nullptr;
  double bnorm = 1.0;
  std::vector<double> rtols;
  std::vector<PetscInt> its;    // -1: not reached
  std::vector<double> seconds;  // solve time to it (monitor work excluded)
  std::vector<double> true_residual;
  double t0 = 0.0, overhead = 0.0;

  void reset(Mat a, Vec rhs, const std::vector<double>& r) {
    A = a;
    b = rhs;
    rtols = r;
    its.assign(r.size(), -1);
    seconds.assign(r.size(), 0.0);
    true_residual.assign(r.size(), 0.0);
    PDS_PETSC(VecNorm(b, NORM_2, &bnorm));
    overhead = 0.0;
    t0 = MPI_Wtime();
  }

  static PetscErrorCode monitor(KSP ksp, PetscInt it, PetscReal rnorm, void* ctx) {
    auto* c = static_cast<Crossings*>(ctx);
    const double now = MPI_Wtime();
    PetscFunctionBegin;
    for (std::size_t k = 0; k < c->rtols.size(); ++k) {
      if (c->its[k] >= 0 || rnorm > c->rtols[k] * c->bnorm) continue;
      c->its[k] = it;
      c->seconds[k] = now - c->t0 - c->overhead;
      Vec x = nullptr;
      PetscCall(KSPBuildSolution(ksp, nullptr, &x));
      c->true_residual[k] = true_relative_residual(c->A, x, c->b);
    }
    c->overhead += MPI_Wtime() - now;
    PetscFunctionReturn(0);
  }
};

struct Method {
  std::string name;    // the command line's and the options prefix's
  std::string label;   // the table's
};

const std::vector<Method> kMethods = {{"none", "CG"},           {"icc", "CG + ICC(0)"},
                                      {"ssor", "CG + SSOR"},    {"gamg", "CG + GAMG"},
                                      {"hypre", "CG + BoomerAMG"}, {"dcdm", "DCDM"}};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> grids = {32, 64, 128};
  std::vector<std::string> obstacles = {"none", "sphere"};
  std::vector<std::string> methods = {"none", "icc", "ssor", "gamg", "hypre", "dcdm"};
  std::vector<double> rtols = {1e-4, 1e-6};
  std::string model = "models/dcdm_3d.safetensors";
  int threads = 1, max_it = 3000, dcdm_max_it = 400;
  std::uint64_t seed = 0;
  bool header = false;
  std::vector<std::string> petsc;
  auto to_int = [](const std::string& s) { return std::stoi(s); };
  auto to_str = [](const std::string& s) { return s; };
  auto to_double = [](const std::string& s) { return std::stod(s); };
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      const bool has = i + 1 < argc;
      if (a == "--help" || a == "-h") {
        std::printf(
            "usage: bench_poisson [--grids 32,64,128] [--obstacles none,sphere] "
            "[--methods none,icc,ssor,gamg,hypre,dcdm] [--rtols 1e-4,1e-6] [--model FILE] [--threads T] "
            "[--max-it N] [--dcdm-max-it N] [--seed S] [--header] [PETSc options]\n"
            "obstacles: none | sphere | box | random-boxes[:COUNT] | FILE.npy (see pdestream poisson --help)\n");
        return 0;
      } else if (a == "--grids" && has) {
        grids = split<int>(argv[++i], to_int);
      } else if (a == "--obstacles" && has) {
        obstacles = split<std::string>(argv[++i], to_str);
      } else if (a == "--methods" && has) {
        methods = split<std::string>(argv[++i], to_str);
      } else if (a == "--rtols" && has) {
        rtols = split<double>(argv[++i], to_double);
      } else if (a == "--model" && has) {
        model = argv[++i];
      } else if (a == "--threads" && has) {
        threads = std::stoi(argv[++i]);
      } else if (a == "--max-it" && has) {
        max_it = std::stoi(argv[++i]);
      } else if (a == "--dcdm-max-it" && has) {
        dcdm_max_it = std::stoi(argv[++i]);
      } else if (a == "--seed" && has) {
        seed = std::stoull(argv[++i]);
      } else if (a == "--header") {
        header = true;
      } else if (a.rfind("--", 0) == 0) {
        std::fprintf(stderr, "bench_poisson: unknown option %s (see --help)\n", a.c_str());
        return 2;
      } else {
        petsc.push_back(a);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_poisson: expected a number in a list option: %s\n", e.what());
    return 2;
  }
  for (const auto& m : methods) {
    bool known = false;
    for (const auto& k : kMethods) known = known || k.name == m;
    if (!known) {
      std::fprintf(stderr, "bench_poisson: unknown method '%s': expected none, icc, ssor, gamg, hypre or dcdm\n",
                   m.c_str());
      return 2;
    }
  }
  if (rtols.empty() || grids.empty() || threads < 1) {
    std::fprintf(stderr, "bench_poisson: expected at least one grid and rtol and --threads >= 1\n");
    return 2;
  }
  std::sort(rtols.begin(), rtols.end(), std::greater<double>());

  Runtime runtime(&argc, &argv, MPI_COMM_WORLD, petsc);
  const MPI_Comm comm = runtime.comm();
  int size = 1;
  MPI_Comm_size(comm, &size);
  torch::set_num_threads(threads);
  if (register_dcdm()) return 1;

  if (header) {
    std::string h = "| grid | obstacle | method |", sep = "|---|---|---|";
    for (double r : rtols) h += " its " + fmt("%.0e", r) + " |", sep += "---:|";
    h += " true rel. res. " + fmt("%.0e", rtols.back()) + " | setup s |", sep += "---:|---:|";
    for (double r : rtols) h += " solve s " + fmt("%.0e", r) + " |", sep += "---:|";
    runtime.print(h);
    runtime.print(sep);
  }

  try {
    for (int n : grids) {
      for (const auto& obstacle : obstacles) {
        PoissonOptions o;
        o.dim = 3;
        o.n = {n, n, n};
        o.seed = seed;
        parse_obstacle(obstacle, o.obstacle);
        PoissonProblem problem(o, comm);
        for (const auto& name : methods) {
          const Method* method = nullptr;
          for (const auto& k : kMethods)
            if (k.name == name) method = &k;
          Crossings crossings;
          SolveSetup setup;
          setup.dm = problem.dm();
          setup.rtol = rtols.back();
          setup.max_it = name == "dcdm" ? dcdm_max_it : max_it;
          setup.prefix = name + "_";
          setup.configure = [&](KSP ksp) {
            PC pc = nullptr;
            PDS_PETSC(KSPGetPC(ksp, &pc));
            if (name == "dcdm") {
              PDS_PETSC(KSPSetType(ksp, kKSPDCDM));
              set_dcdm_model(ksp, model);
            } else if (name == "none") {
              PDS_PETSC(PCSetType(pc, PCNONE));
            } else if (name == "icc") {
              if (size == 1) {
                PDS_PETSC(PCSetType(pc, PCICC));
              } else {
                PDS_PETSC(PCSetType(pc, PCBJACOBI));
                PDS_PETSC(PetscOptionsSetValue(nullptr, "-icc_sub_pc_type", "icc"));
              }
            } else if (name == "ssor") {
              PDS_PETSC(PCSetType(pc, PCSOR));
              PDS_PETSC(PCSORSetSymmetric(pc, SOR_LOCAL_SYMMETRIC_SWEEP));
            } else if (name == "gamg") {
              PDS_PETSC(PCSetType(pc, PCGAMG));
            } else {
              PDS_PETSC(PCSetType(pc, PCHYPRE));
              PDS_PETSC(PCHYPRESetType(pc, "boomeramg"));
            }
            PDS_PETSC(KSPMonitorSet(ksp, &Crossings::monitor, &crossings, nullptr));
          };
          setup.before_solve = [&](KSP) { crossings.reset(problem.A(), problem.b(), rtols); };
          PDS_PETSC(VecSet(problem.x(), 0.0));
          const SolveReport r = solve_system(problem.A(), problem.b(), problem.x(), setup, comm);
          const double setup_seconds = r.setup_seconds;
          const KSPConvergedReason reason = r.reason;
          const PetscInt its = r.iterations;

          std::string row = "| " + std::to_string(n) + "³ | " + obstacle + " | " + method->label + " |";
          for (std::size_t k = 0; k < rtols.size(); ++k) {
            if (crossings.its[k] >= 0)
              row += " " + std::to_string(crossings.its[k]) + " |";
            else
              row += " > " + std::to_string(its) + (reason < 0 ? std::string(" (") + KSPConvergedReasons[reason] + ")" : "") +
                     " |";
          }
          const std::size_t last = rtols.size() - 1;
          row += crossings.its[last] >= 0 ? " " + fmt("%.1e", crossings.true_residual[last]) + " |"
                                          : " " + fmt("%.1e", r.residual) + " |";
          row += " " + fmt("%.3g", setup_seconds) + " |";
          for (std::size_t k = 0; k < rtols.size(); ++k)
            row += crossings.its[k] >= 0 ? " " + fmt("%.3g", crossings.seconds[k]) + " |" : " – |";
          runtime.print(row);
          std::fflush(stdout);
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_poisson: %s\n", e.what());
    return 1;
  }
  return 0;
}
