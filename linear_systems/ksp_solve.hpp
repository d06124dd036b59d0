#pragma once
// One linear solve with pdestream's defaults, timed: what `pdestream poisson` and
// bench/poisson both run.
//
// Life cycle: create → CG to `rtol` on the unpreconditioned residual norm → the caller's
// preset (`configure`) → KSPSetFromOptions (under `prefix`: -ksp_type, -pc_type, ... pass
// through) → KSPSetUp (timed) → `before_solve` → KSPSolve (timed) → destroy. The norm is the
// unpreconditioned one for the CG family and dcdm unless -ksp_norm_type says otherwise;
// other KSP types keep their own default (PETSc 3.18's cr, for one, does not track that
// norm), and so does a PC side that turns out not to support it at set up. So every CG-type
// method stops on the same quantity, ||b - Ax|| / ||b||, whatever its preconditioner.
//
//   SolveSetup s;
//   s.dm = problem.dm(); s.rtol = 1e-6;
//   SolveReport r = solve_system(problem.A(), problem.b(), problem.x(), s, comm);
//   // r.iterations, r.reason, r.residual (recomputed), r.setup_seconds, r.solve_seconds

#include <mpi.h>
#include <petscksp.h>

#include <functional>
#include <string>

namespace pdestream::linear_systems {

struct SolveSetup {
  DM dm = nullptr;             // the grid, for PCs that use it (-pc_type mg); the operator stays A
  double rtol = 1e-6;
  PetscInt max_it = PETSC_DEFAULT;
  std::string prefix;          // options prefix of the KSP ("icc_": -icc_pc_type ...)
  std::function<void(KSP)> configure;     // a preset, before KSPSetFromOptions (options win)
  std::function<void(KSP)> before_solve;  // after KSPSetUp (e.g. to reset a monitor's clock)
};

struct SolveReport {
  PetscInt iterations = 0;
  KSPConvergedReason reason = KSP_CONVERGED_ITERATING;
  double residual = 0;         // true relative residual ||b - Ax|| / ||b||, recomputed
  double setup_seconds = 0, solve_seconds = 0;  // the slowest rank's
  std::string solver;          // "KSP cg + PC icc, rtol 1e-06 (UNPRECONDITIONED norm)"
  bool converged() const { return reason > 0; }
};

// Collective over `comm` (A's communicator). x holds the initial guess.
SolveReport solve_system(Mat A, Vec b, Vec x, const SolveSetup& setup, MPI_Comm comm);

// Whether `type` stops on the unpreconditioned residual norm by default here (see above).
bool unpreconditioned_by_default(const std::string& type);

}  // namespace pdestream::linear_systems
