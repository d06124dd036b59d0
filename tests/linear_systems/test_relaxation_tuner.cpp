// The relaxation tuner on real PETSc solves (1 and 2 ranks): omega reaches the PC, the
// feedback is the solve's own iteration count, the options path works on a plain KSP made
// by user code, contexts arrive, and every rank makes the same choices.
#include <gtest/gtest.h>
#include <petscdmda.h>
#include <petscksp.h>

#include <cmath>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "linear_systems/petsc_handle.hpp"
#include "linear_systems/relaxation_tuner.hpp"

using namespace pdestream;
using namespace pdestream::linear_systems;

namespace {

// A + c I on an m x m grid (5-point stencil, 4 on the diagonal), b = 1, x = 0.
struct ShiftedLaplacian {
  OwnedDM da;
  OwnedMat A;
  OwnedVec b, x;

  ShiftedLaplacian(int m, double c, MPI_Comm comm) {
    PDS_PETSC(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, m, m, PETSC_DECIDE,
                           PETSC_DECIDE, 1, 1, nullptr, nullptr, da.address()));
    PDS_PETSC(DMSetUp(da));
    PDS_PETSC(DMCreateMatrix(da, A.address()));
    DMDALocalInfo info;
    PDS_PETSC(DMDAGetLocalInfo(da, &info));
    for (PetscInt j = info.ys; j < info.ys + info.ym; ++j)
      for (PetscInt i = info.xs; i < info.xs + info.xm; ++i) {
        MatStencil row = {0}, col = {0};
        row.i = i, row.j = j;
        PetscScalar d = 4.0 + c, o = -1.0;
        PDS_PETSC(MatSetValuesStencil(A, 1, &row, 1, &row, &d, INSERT_VALUES));
        const PetscInt di[4] = {-1, 1, 0, 0}, dj[4] = {0, 0, -1, 1};
        for (int k = 0; k < 4; ++k) {
          col.i = i + di[k], col.j = j + dj[k];
          if (col.i < 0 || col.j < 0 || col.i >= m || col.j >= m) continue;
          PDS_PETSC(MatSetValuesStencil(A, 1, &row, 1, &col, &o, INSERT_VALUES));
        }
      }
    PDS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
    PDS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
    PDS_PETSC(DMCreateGlobalVector(da, b.address()));
    PDS_PETSC(VecDuplicate(b, x.address()));
    PDS_PETSC(VecSet(b, 1.0));
    PDS_PETSC(VecSet(x, 0.0));
  }
};

OwnedKSP cg_sor(Mat A, MPI_Comm comm) {
  OwnedKSP ksp;
  PDS_PETSC(KSPCreate(comm, ksp.address()));
  PDS_PETSC(KSPSetOperators(ksp, A, A));
  PDS_PETSC(KSPSetType(ksp, KSPCG));
  PDS_PETSC(KSPSetTolerances(ksp, 1e-8, 1e-50, PETSC_DEFAULT, 1000));
  PC pc;
  PDS_PETSC(KSPGetPC(ksp, &pc));
  PDS_PETSC(PCSetType(pc, PCSOR));
  return ksp;
}

PC pc_of(KSP ksp) {
  PC pc;
  PDS_PETSC(KSPGetPC(ksp, &pc));
  return pc;
}

// Every rank holds the same value.
bool same_on_all_ranks(double v, MPI_Comm comm) {
  double lo, hi;
  MPI_Allreduce(&v, &lo, 1, MPI_DOUBLE, MPI_MIN, comm);
  MPI_Allreduce(&v, &hi, 1, MPI_DOUBLE, MPI_MAX, comm);
  return lo == hi;
}

}  // namespace

TEST(RelaxationTuner, SetsOmegaOnThePcAndFeedsBackTheIterationCount) {
  ShiftedLaplacian sys(20, 0.05, MPI_COMM_WORLD);
  OwnedKSP ksp = cg_sor(sys.A, MPI_COMM_WORLD);
  TunerOptions o;
  o.learner = "tsallis";
  o.arms = 8;
  o.seed = 3;
  RelaxationTuner& tuner = attach_relaxation_tuner(pc_of(ksp), o);
  EXPECT_EQ(find_relaxation_tuner(pc_of(ksp)), &tuner);
  for (int k = 0; k < 12; ++k) {
    PDS_PETSC(VecSet(sys.x, 0.0));
    PDS_PETSC(KSPSolve(ksp, sys.b, sys.x));
    PetscInt its;
    PetscReal omega;
    PDS_PETSC(KSPGetIterationNumber(ksp, &its));
    PDS_PETSC(PCSORGetOmega(pc_of(ksp), &omega));
    ASSERT_EQ(tuner.history().size(), static_cast<std::size_t>(k + 1));
    const InstanceRecord& r = tuner.history().back();
    EXPECT_EQ(r.iterations, its);
    EXPECT_TRUE(r.converged);
    EXPECT_DOUBLE_EQ(r.omega, omega);
    EXPECT_DOUBLE_EQ(r.omega, tuner.learner().arm(r.arm));
    EXPECT_GT(r.cost, 0.0);
    EXPECT_LE(r.cost, 1.0);
    EXPECT_TRUE(same_on_all_ranks(omega, MPI_COMM_WORLD));
  }
  EXPECT_EQ(tuner.learner().rounds(), 12u);
  long long sum = 0;
  for (const auto& r : tuner.history()) sum += r.iterations;
  EXPECT_EQ(tuner.total_iterations(), sum);
  // Different omegas were tried and they cost different numbers of iterations: the
  // feedback is the solve's, not a constant.
  int lo = 1 << 30, hi = 0;
  for (const auto& r : tuner.history()) lo = std::min(lo, r.iterations), hi = std::max(hi, r.iterations);
  EXPECT_LT(lo, hi);
}

TEST(RelaxationTuner, FixedOmegaIsExactlyPlainSor) {
  ShiftedLaplacian sys(16, 0.1, MPI_COMM_WORLD);
  OwnedKSP plain = cg_sor(sys.A, MPI_COMM_WORLD), tuned = cg_sor(sys.A, MPI_COMM_WORLD);
  PDS_PETSC(PCSORSetOmega(pc_of(plain), 1.35));
  TunerOptions o;
  o.learner = "fixed";
  o.omegas = {1.35};
  attach_relaxation_tuner(pc_of(tuned), o);
  OwnedVec y;
  PDS_PETSC(VecDuplicate(sys.x, y.address()));
  PDS_PETSC(VecSet(y, 0.0));
  PDS_PETSC(KSPSolve(plain, sys.b, sys.x));
  PDS_PETSC(KSPSolve(tuned, sys.b, y));
  PetscInt its_plain, its_tuned;
  PDS_PETSC(KSPGetIterationNumber(plain, &its_plain));
  PDS_PETSC(KSPGetIterationNumber(tuned, &its_tuned));
  EXPECT_EQ(its_plain, its_tuned);
  PDS_PETSC(VecAXPY(y, -1.0, sys.x));
  PetscReal diff;
  PDS_PETSC(VecNorm(y, NORM_INFINITY, &diff));
  EXPECT_EQ(diff, 0.0);
}

TEST(RelaxationTuner, FailedSolveFeedsBackTheCap) {
  ShiftedLaplacian sys(24, 0.0, MPI_COMM_WORLD);
  OwnedKSP ksp = cg_sor(sys.A, MPI_COMM_WORLD);
  PDS_PETSC(KSPSetTolerances(ksp, 1e-14, 1e-50, PETSC_DEFAULT, 3));
  TunerOptions o;
  o.learner = "ucb1";
  o.cap = 50;
  RelaxationTuner& tuner = attach_relaxation_tuner(pc_of(ksp), o);
  PDS_PETSC(KSPSolve(ksp, sys.b, sys.x));
  ASSERT_EQ(tuner.history().size(), 1u);
  EXPECT_FALSE(tuner.history()[0].converged);
  EXPECT_EQ(tuner.history()[0].iterations, 3);
  EXPECT_DOUBLE_EQ(tuner.history()[0].cost, 1.0);  // not 3/50
  // A converged solve costs its / cap.
  PDS_PETSC(KSPSetTolerances(ksp, 1e-6, 1e-50, PETSC_DEFAULT, 50));
  PDS_PETSC(VecSet(sys.x, 0.0));
  PDS_PETSC(KSPSolve(ksp, sys.b, sys.x));
  EXPECT_TRUE(tuner.history()[1].converged);
  EXPECT_DOUBLE_EQ(tuner.history()[1].cost, tuner.history()[1].iterations / 50.0);
}

TEST(RelaxationTuner, OptionsPathWorksOnAPlainUserKsp) {
  PDS_PETSC(register_sor_bandit());
  PDS_PETSC(register_sor_bandit());  // idempotent
  ShiftedLaplacian sys(20, 0.02, MPI_COMM_WORLD);
  // Plain user code: nothing but KSPSetFromOptions, with its own prefix.
  PDS_PETSC(PetscOptionsSetValue(nullptr, "-user_pc_type", "sor"));
  PDS_PETSC(PetscOptionsSetValue(nullptr, "-user_pc_sor_omega_bandit", "tsallis"));
  PDS_PETSC(PetscOptionsSetValue(nullptr, "-user_pc_sor_omega_bandit_arms", "7"));
  PDS_PETSC(PetscOptionsSetValue(nullptr, "-user_pc_sor_omega_bandit_seed", "5"));
  PDS_PETSC(PetscOptionsSetValue(nullptr, "-user_ksp_type", "cg"));
  OwnedKSP ksp;
  PDS_PETSC(KSPCreate(MPI_COMM_WORLD, ksp.address()));
  PDS_PETSC(KSPSetOptionsPrefix(ksp, "user_"));
  PDS_PETSC(KSPSetOperators(ksp, sys.A, sys.A));
  PDS_PETSC(KSPSetFromOptions(ksp));
  RelaxationTuner* tuner = find_relaxation_tuner(pc_of(ksp));
  ASSERT_NE(tuner, nullptr);
  EXPECT_EQ(tuner->options().learner, "tsallis");
  EXPECT_EQ(tuner->learner().num_arms(), 7);
  EXPECT_EQ(tuner->options().seed, 5u);
  for (int k = 0; k < 5; ++k) {
    PDS_PETSC(VecSet(sys.x, 0.0));
    PDS_PETSC(KSPSolve(ksp, sys.b, sys.x));
  }
  EXPECT_EQ(tuner->history().size(), 5u);
  // Setting options again keeps what was learnt...
  PDS_PETSC(KSPSetFromOptions(ksp));
  EXPECT_EQ(find_relaxation_tuner(pc_of(ksp)), tuner);
  EXPECT_EQ(tuner->learner().rounds(), 5u);
  // ...and "none" removes the bandit: SOR is plain SOR again.
  PDS_PETSC(PetscOptionsSetValue(nullptr, "-user_pc_sor_omega_bandit", "none"));
  PDS_PETSC(KSPSetFromOptions(ksp));
  EXPECT_EQ(find_relaxation_tuner(pc_of(ksp)), nullptr);
  PDS_PETSC(VecSet(sys.x, 0.0));
  PDS_PETSC(KSPSolve(ksp, sys.b, sys.x));
  // Without the option, a SOR PC has no tuner at all.
  OwnedKSP other;
  PDS_PETSC(KSPCreate(MPI_COMM_WORLD, other.address()));
  PDS_PETSC(KSPSetOptionsPrefix(other, "other_"));
  PDS_PETSC(KSPSetOperators(other, sys.A, sys.A));
  PDS_PETSC(PCSetType(pc_of(other), PCSOR));
  PDS_PETSC(KSPSetFromOptions(other));
  EXPECT_EQ(find_relaxation_tuner(pc_of(other)), nullptr);
  for (const char* name : {"-user_pc_type", "-user_pc_sor_omega_bandit", "-user_pc_sor_omega_bandit_arms",
                           "-user_pc_sor_omega_bandit_seed", "-user_ksp_type"})
    PDS_PETSC(PetscOptionsClearValue(nullptr, name));
}

TEST(RelaxationTuner, BadOptionValuesAreRejected) {
  PDS_PETSC(register_sor_bandit());
  ShiftedLaplacian sys(8, 0.0, MPI_COMM_WORLD);
  OwnedKSP ksp;
  PDS_PETSC(KSPCreate(MPI_COMM_WORLD, ksp.address()));
  PDS_PETSC(KSPSetOptionsPrefix(ksp, "bad_"));
  PDS_PETSC(KSPSetOperators(ksp, sys.A, sys.A));
  PDS_PETSC(PCSetType(pc_of(ksp), PCSOR));
  PDS_PETSC(PetscOptionsSetValue(nullptr, "-bad_pc_sor_omega_bandit", "tsallis"));
  PDS_PETSC(PetscOptionsSetValue(nullptr, "-bad_pc_sor_omega_bandit_omega_range", "1.0,2.5"));
  PDS_PETSC(PetscPushErrorHandler(PetscReturnErrorHandler, nullptr));
  const PetscErrorCode ierr = KSPSetFromOptions(ksp);
  PDS_PETSC(PetscPopErrorHandler());
  EXPECT_NE(ierr, 0);
  EXPECT_EQ(find_relaxation_tuner(pc_of(ksp)), nullptr);
  PDS_PETSC(PetscOptionsClearValue(nullptr, "-bad_pc_sor_omega_bandit"));
  PDS_PETSC(PetscOptionsClearValue(nullptr, "-bad_pc_sor_omega_bandit_omega_range"));
}

TEST(RelaxationTuner, ContextsReachTheLearner) {
  // "diagonal": the mean of diag(A + c I) = 4 + c, recomputed when A changes.
  ShiftedLaplacian sys(10, 0.5, MPI_COMM_WORLD);
  OwnedKSP ksp = cg_sor(sys.A, MPI_COMM_WORLD);
  TunerOptions o;
  o.learner = "chebcb";
  o.context = "diagonal";
  RelaxationTuner& tuner = attach_relaxation_tuner(pc_of(ksp), o);
  PDS_PETSC(KSPSolve(ksp, sys.b, sys.x));
  EXPECT_NEAR(tuner.history().back().context, 4.5, 1e-12);
  PDS_PETSC(MatShift(sys.A, 1.0));
  PDS_PETSC(KSPSolve(ksp, sys.b, sys.x));
  EXPECT_NEAR(tuner.history().back().context, 5.5, 1e-12);
  // "application": what the owner of the solve says, through the composed method (the
  // way heat2d does it without linking this library).
  OwnedKSP ksp2 = cg_sor(sys.A, MPI_COMM_WORLD);
  o.context = "application";
  RelaxationTuner& t2 = attach_relaxation_tuner(pc_of(ksp2), o);
  PDS_PETSC(KSPSolve(ksp2, sys.b, sys.x));
  EXPECT_NEAR(t2.history().back().context, 5.5, 1e-12);  // none set yet: the diagonal
  PDS_PETSC(set_bandit_context_range(pc_of(ksp2), 0.0, 4.0));
  PDS_PETSC(set_bandit_context(pc_of(ksp2), 2.5));
  PDS_PETSC(KSPSolve(ksp2, sys.b, sys.x));
  EXPECT_EQ(t2.history().back().context, 2.5);
  EXPECT_EQ(t2.learner().options().context_hi, 4.0);
  EXPECT_DOUBLE_EQ(t2.learner().normalise(1.0), 0.25);
  // On a PC without a tuner the calls are harmless no-ops.
  OwnedKSP plain = cg_sor(sys.A, MPI_COMM_WORLD);
  PDS_PETSC(set_bandit_context(pc_of(plain), 1.0));
}

TEST(RelaxationTuner, NeedsASorPcAndValidOptions) {
  ShiftedLaplacian sys(6, 0.0, MPI_COMM_WORLD);
  OwnedKSP ksp = cg_sor(sys.A, MPI_COMM_WORLD);
  PDS_PETSC(PCSetType(pc_of(ksp), PCJACOBI));
  try {
    attach_relaxation_tuner(pc_of(ksp), TunerOptions());
    FAIL() << "attached to jacobi";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("expected a PC of type sor, got jacobi"), std::string::npos) << e.message();
  }
  TunerOptions o;
  o.omegas = {1.2, 2.0};
  try {
    o.validate();
    FAIL() << "omega 2 accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("expected every omega in (0, 2), got 2"), std::string::npos) << e.message();
  }
  o = TunerOptions();
  o.learner = "greedy";
  EXPECT_THROW(o.validate(), Error);
  o = TunerOptions();
  o.context = "time";
  EXPECT_THROW(o.validate(), Error);
}

// Changing the PC type drops the tuner with the SOR it tuned.
TEST(RelaxationTuner, GoesAwayWithItsSor) {
  ShiftedLaplacian sys(6, 0.0, MPI_COMM_WORLD);
  OwnedKSP ksp = cg_sor(sys.A, MPI_COMM_WORLD);
  attach_relaxation_tuner(pc_of(ksp), TunerOptions());
  ASSERT_NE(find_relaxation_tuner(pc_of(ksp)), nullptr);
  PDS_PETSC(PCSetType(pc_of(ksp), PCJACOBI));
  EXPECT_EQ(find_relaxation_tuner(pc_of(ksp)), nullptr);
  PDS_PETSC(KSPSolve(ksp, sys.b, sys.x));  // and jacobi runs without the hooks
}
