// GoogleTest main for every pdestream test: MPI + PETSc via core's Runtime, results printed
// by rank 0 only, and a non-zero exit on any rank whose tests failed (mpiexec propagates it).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/runtime.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Remaining arguments are PETSc options (e.g. -ksp_view for debugging a test).
  std::vector<std::string> petsc_args(argv + 1, argv + argc);
  // The test harness is an entry point, like apps/: it owns the world communicator.
  pdestream::Runtime runtime(&argc, &argv, MPI_COMM_WORLD, petsc_args);
  if (runtime.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int result = RUN_ALL_TESTS();
  // A failure on any rank fails every rank, so the exit status never depends on which
  // rank mpiexec reports first.
  int any_failed = 0;
  MPI_Allreduce(&result, &any_failed, 1, MPI_INT, MPI_MAX, runtime.comm());
  return any_failed ? 1 : 0;
}
