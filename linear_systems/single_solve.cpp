#include "linear_systems/single_solve.hpp"

#include <cstdio>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "io/paraview.hpp"
#include "linear_systems/matrix_io.hpp"

namespace pdestream::linear_systems {

void SingleSolveOptions::validate() const {
  PDS_CHECK(rtol > 0 && rtol < 1, "--rtol: expected a value in (0, 1), got " << rtol);
  PDS_CHECK(!save_system || !out.empty(), "--save-system: expected --out DIR to write DIR/system.bin");
  PDS_CHECK(!save_system || matrix.empty(), "--save-system applies to --grid problems, not to --matrix");
  if (matrix.empty()) poisson.validate();
}

namespace {

// The grid problem's fields for ParaView, and its system for --matrix.
std::string write_grid_outputs(const SingleSolveOptions& o, const PoissonProblem& problem, Vec x, MPI_Comm comm) {
  std::vector<std::pair<std::string, Vec>> channels = {{"u", x}, {"b", problem.b()}, {"mask", problem.mask()}};
  OwnedVec error;
  if (problem.has_exact()) {
    error = problem.error(x);
    channels.push_back({"u_exact", problem.exact()});
    channels.push_back({"u_error", error});
  }
  io::ParaViewWriter writer(o.out, "poisson", problem.grid(), comm);
  writer.write(problem.local_field(channels), 0.0);
  std::string written = ", " + writer.pvd_path();
  if (o.save_system) {
    // A and b in natural ordering (MatView/VecView of DMDA objects).
    write_petsc_binary(o.out + "/system.bin", problem.A(), problem.b());
    written += ", " + o.out + "/system.bin";
  }
  return written;
}

}  // namespace

SolveReport solve_single(const SingleSolveOptions& o, MPI_Comm comm) {
  collective_try(comm, [&] { o.validate(); });
  std::unique_ptr<PoissonProblem> problem;
  FileSystem system;
  Mat A = nullptr;
  Vec b = nullptr, x = nullptr;
  std::ostringstream os;
  collective_try(comm, [&] {
    if (!o.matrix.empty()) {
      system = load_system(o.matrix, o.matrix_rhs, o.seed, comm);
      A = system.loaded.A, b = system.loaded.b, x = system.x;
      os << "[poisson] " << system.description;
    } else {
      problem = std::make_unique<PoissonProblem>(o.poisson, comm);
      A = problem->A(), b = problem->b(), x = problem->x();
      os << "[poisson] " << problem->describe();
    }
    os << "; " << comm_size(comm) << " rank(s)";
  });
  print0(comm, os.str());  // before the solve and whatever PETSc's monitors print
  os.str("");

  SolveReport r;
  collective_try(comm, [&] {
    SolveSetup setup;
    setup.dm = problem ? problem->dm() : nullptr;
    setup.rtol = o.rtol;
    r = solve_system(A, b, x, setup, comm);
  });
  char line[256];
  os << "[poisson] " << r.solver << "\n";
  std::snprintf(line, sizeof line, "[poisson] %s in %d iterations, true relative residual %.3e\n",
                KSPConvergedReasons[r.reason], static_cast<int>(r.iterations), r.residual);
  os << line;
  std::snprintf(line, sizeof line, "[poisson] setup %.3g s, solve %.3g s\n", r.setup_seconds, r.solve_seconds);
  os << line;
  if (problem && problem->has_exact()) {
    std::snprintf(line, sizeof line, "[poisson] max error vs the manufactured solution %.3e\n",
                  problem->max_error(x));
    os << line;
  }
  if (!o.out.empty()) {
    make_dir(o.out, comm);
    const std::string bin = o.out + "/solution.bin";
    collective_try(comm, [&] { write_petsc_binary(bin, x); });
    os << "[poisson] wrote " << bin;
    if (problem) collective_try(comm, [&] { os << write_grid_outputs(o, *problem, x, comm); });
    os << "\n";
  }
  std::string text = os.str();
  text.pop_back();
  print0(comm, text);
  if (!r.converged()) {
    std::ostringstream e;
    e << "the solve did not converge: " << KSPConvergedReasons[r.reason] << " after " << r.iterations
      << " iterations (true relative residual " << r.residual << ")";
    agree_on_error(comm, e.str());  // the same on every rank
  }
  return r;
}

}  // namespace pdestream::linear_systems
