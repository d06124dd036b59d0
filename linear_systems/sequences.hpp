#pragma once
// Sequences of related linear systems, solved one after the other with an omega policy:
// what `pdestream poisson --sequence` and bench/relax run.
//
// Sequences:
//   heat2d             the implicit steps of solvers/heat2d (by default the paper's setting:
//                      Crank-Nicolson, c(t) = max(0.1 sin 2 pi t, -10 sin 2 pi t), a moving
//                      source, warm starts); context = c(t_new)
//   shifted-laplacian  A_t = L + c_t I, L the 5-point Laplacian stencil (4 on the diagonal) on
//                      the interior points, c_t ~ shift_scale * Beta(2, 6), seeded right-hand
//                      sides, zero initial guesses; context = c_t
//   a folder           A_0000.bin, b_0000.bin, A_0001.bin, ... (PETSc binary, as written by
//                      MatView/VecView or write_system), numbered from 0 without gaps; an
//                      optional context.txt holds one context per system, otherwise the
//                      context is the mean of each matrix's diagonal. Warm starts.
// Omega policies ("--omega"):
//   bandit:NAME   a RelaxationTuner with learner NAME (tsallis, exp3, ucb1, chebcb, binned)
//   fixed:W       SOR with omega = W, 0 < W < 2
//   grid          every system solved at every arm (from the same initial guess) to find the
//                 best fixed omega in hindsight and the instance-optimal total; the run itself
//                 continues with the instance-optimal omega
//   none          no preconditioner (CG alone)
// Every solve is CG (SSOR preconditioned except for "none") to relative tolerance rtol;
// PETSc options (-ksp_type, -pc_sor_forward, -ksp_monitor, ...) are applied on top.

#include <mpi.h>
#include <petscksp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "linear_systems/relaxation_tuner.hpp"
#include "solvers/heat2d.hpp"

namespace pdestream::linear_systems {

struct OmegaPolicy {
  std::string kind = "bandit";  // bandit | fixed | grid | none
  std::string learner = "tsallis";
  double omega = 1.0;

  // "bandit:tsallis", "fixed:1.5", "grid", "none"; errors name the accepted forms.
  static OmegaPolicy parse(const std::string& text);
  std::string describe() const;
};

struct SequenceOptions {
  std::string sequence = "heat2d";  // heat2d | shifted-laplacian | a folder
  int grid = 26;                    // grid points per axis, boundary included
  int steps = 100;                  // systems to solve; 0 with a folder: all of them
  double rtol = 1e-8;
  int max_it = 10000;
  double shift_scale = 1.0;         // shifted-laplacian: c_t = shift_scale * Beta(2, 6)
  std::uint64_t seed = 0;           // learner and shifted-laplacian data
  TunerOptions tuner;               // arms, omega range and learner settings (learner from the policy)
  solvers::Heat2dOptions heat = paper_heat2d_options();

  // The paper's heat experiment (nx, ny and the step count come from grid and steps).
  static solvers::Heat2dOptions paper_heat2d_options();
};

struct SequenceReport {
  std::string sequence;
  OmegaPolicy policy;
  long long unknowns = 0;
  std::vector<InstanceRecord> records;
  long long total_iterations = 0;
  int failed = 0;             // solves that did not converge
  double solve_seconds = 0;   // inside KSPSolve (probing excluded)
  double wall_seconds = 0;    // the whole run
  // grid only: iterations of every arm summed over the sequence, and the per-system minimum.
  std::vector<double> arms;
  std::vector<long long> arm_totals;
  long long instance_optimal = 0;
  int best_arm = -1;
};

// Collective on comm.
SequenceReport run_sequence(const SequenceOptions& options, const OmegaPolicy& policy, MPI_Comm comm);

// One line per solve: step,context,omega,iterations,converged,seconds (call on one rank).
void write_csv(const SequenceReport& report, const std::string& path);
// Mean omega per tenth of the sequence, e.g. "1.00 1.52 1.71 1.75 ...".
std::string omega_over_time(const SequenceReport& report, int buckets = 10);
// The run's summary lines ("[poisson] ..."): the set-up, the total iterations and times, omega
// over time, and for grid the best fixed omega in hindsight and the total per omega.
std::string summary(const SequenceReport& report, const SequenceOptions& options, const std::string& name, int ranks);

// The folder format: writes DIR/A_%04d.bin and DIR/b_%04d.bin (collective).
void write_system(const std::string& dir, int index, Mat A, Vec b);
// Checks a folder (file headers only) and returns its number of systems and their size.
struct SequenceDirInfo {
  int count = 0;
  long long size = 0;
};
SequenceDirInfo scan_sequence_dir(const std::string& dir, MPI_Comm comm);

}  // namespace pdestream::linear_systems
