#include "linear_systems/ksp_solve.hpp"

#include <sstream>

#include "core/error.hpp"
#include "linear_systems/dcdm.hpp"
#include "linear_systems/petsc_handle.hpp"
#include "linear_systems/poisson.hpp"

namespace pdestream::linear_systems {

bool unpreconditioned_by_default(const std::string& type) {
  for (const char* t : {KSPCG, KSPFCG, KSPPIPECG, KSPPIPEFCG, KSPGROPPCG, KSPPIPECGRR, kKSPDCDM})
    if (type == t) return true;
  return false;
}

SolveReport solve_system(Mat A, Vec b, Vec x, const SolveSetup& setup, MPI_Comm comm) {
  OwnedKSP ksp;
  PDS_PETSC(KSPCreate(comm, ksp.address()));
  if (!setup.prefix.empty()) PDS_PETSC(KSPSetOptionsPrefix(ksp, setup.prefix.c_str()));
  if (setup.dm) {
    PDS_PETSC(KSPSetDM(ksp, setup.dm));
    PDS_PETSC(KSPSetDMActive(ksp, PETSC_FALSE));
  }
  PDS_PETSC(KSPSetOperators(ksp, A, A));
  PDS_PETSC(KSPSetType(ksp, KSPCG));
  PDS_PETSC(KSPSetTolerances(ksp, setup.rtol, 1e-50, PETSC_DEFAULT, setup.max_it));
  if (setup.configure) setup.configure(ksp);
  PDS_PETSC(KSPSetFromOptions(ksp));
  PetscBool user_norm = PETSC_FALSE;
  PDS_PETSC(PetscOptionsHasName(nullptr, setup.prefix.empty() ? nullptr : setup.prefix.c_str(), "-ksp_norm_type",
                                &user_norm));
  KSPType type;
  PDS_PETSC(KSPGetType(ksp, &type));
  const bool unpreconditioned = !user_norm && unpreconditioned_by_default(type);
  if (unpreconditioned) PDS_PETSC(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
  SolveReport r;
  MPI_Barrier(comm);
  double t0 = MPI_Wtime();
  // Not supported with this PC side after all: the KSP's own default. A second KSPSetUp is a
  // no-op after success and repeats the error after any other failure.
  if (KSPSetUp(ksp) == PETSC_ERR_SUP && unpreconditioned) PDS_PETSC(KSPSetNormType(ksp, KSP_NORM_DEFAULT));
  PDS_PETSC(KSPSetUp(ksp));
  r.setup_seconds = MPI_Wtime() - t0;
  if (setup.before_solve) setup.before_solve(ksp);
  MPI_Barrier(comm);
  t0 = MPI_Wtime();
  PDS_PETSC(KSPSolve(ksp, b, x));
  r.solve_seconds = MPI_Wtime() - t0;
  double times[2] = {r.setup_seconds, r.solve_seconds};
  MPI_Allreduce(MPI_IN_PLACE, times, 2, MPI_DOUBLE, MPI_MAX, comm);
  r.setup_seconds = times[0], r.solve_seconds = times[1];
  PDS_PETSC(KSPGetIterationNumber(ksp, &r.iterations));
  PDS_PETSC(KSPGetConvergedReason(ksp, &r.reason));
  r.residual = true_relative_residual(A, x, b);
  PC pc;
  PCType ptype;
  KSPNormType norm;
  PetscReal used_rtol;
  PDS_PETSC(KSPGetType(ksp, &type));
  PDS_PETSC(KSPGetPC(ksp, &pc));
  PDS_PETSC(PCGetType(pc, &ptype));
  PDS_PETSC(KSPGetNormType(ksp, &norm));
  PDS_PETSC(KSPGetTolerances(ksp, &used_rtol, nullptr, nullptr, nullptr));
  std::ostringstream os;
  os << "KSP " << type << " + PC " << (ptype ? ptype : "none") << ", rtol " << used_rtol << " ("
     << KSPNormTypes[norm] << " norm)";
  r.solver = os.str();
  return r;
}

}  // namespace pdestream::linear_systems
