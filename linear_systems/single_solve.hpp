#pragma once
// One system from the command line, end to end: build it (a Poisson problem on a grid, or a
// matrix file's system), solve it with solve_system's defaults, print the report lines on
// rank 0, and write the outputs. What `pdestream poisson --grid/--matrix` runs.
//
// Printed, in order: the problem's description (before the solve, so it precedes whatever
// PETSc's monitors print), the KSP/PC line, the converged reason with the iterations and the
// recomputed true relative residual, the setup and solve times, the max error against a
// manufactured solution, and the files written. With `out`: OUT/solution.bin (PETSc binary,
// natural ordering); for grids also OUT/poisson.pvd (u, b, mask, and u_exact, u_error for a
// manufactured solution) and with `save_system` OUT/system.bin (A and b, readable as a
// matrix file).
//
// A solve that does not converge prints its numbers and then throws the same
// CollectiveError on every rank: "the solve did not converge: <reason> after N iterations".
//
//   SingleSolveOptions o;
//   o.poisson.set_grid({64, 64}); o.poisson.rhs = "smooth"; o.out = "runs/p";
//   SolveReport r = solve_single(o, comm);

#include <mpi.h>

#include <cstdint>
#include <string>

#include "linear_systems/ksp_solve.hpp"
#include "linear_systems/poisson.hpp"

namespace pdestream::linear_systems {

struct SingleSolveOptions {
  PoissonOptions poisson;  // the grid problem, unless `matrix` is given
  std::string matrix;      // a PETSc binary or Matrix Market file
  std::string matrix_rhs;  // with `matrix`: a vector file, "random" or empty (the file's own b)
  std::uint64_t seed = 0;  // with `matrix`: the random right-hand side
  double rtol = 1e-6;
  std::string out;         // empty: write nothing
  bool save_system = false;

  // Throws a one-line Error naming the bad value (rtol outside (0, 1), save_system without
  // out); the grid problem's own checks are PoissonOptions::validate.
  void validate() const;
};

// Collective over comm. Returns the solve's report (converged; see above otherwise).
SolveReport solve_single(const SingleSolveOptions& options, MPI_Comm comm);

}  // namespace pdestream::linear_systems
