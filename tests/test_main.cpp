// GoogleTest main for every pdestream test: MPI + PETSc via core's Runtime, results printed
// by rank 0 only, and a non-zero exit on any rank whose tests failed (mpiexec propagates it).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/runtime.hpp"

namespace {

// Ranks other than 0 print only their failures, tagged with the rank, so a failure that
// happens on rank 1 alone is still visible in the ctest log.
class FailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(int rank) : rank_(rank) {}
  // The name is captured here: asking gtest for the current test inside
  // OnTestPartResult would take a lock gtest already holds there.
  void OnTestStart(const ::testing::TestInfo& info) override {
    name_ = std::string(info.test_suite_name()) + "." + info.name();
  }
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::fprintf(stderr, "[rank %d] %s failed at %s:%d\n%s\n", rank_, name_.c_str(),
                 r.file_name() ? r.file_name() : "?", r.line_number(), r.summary());
  }

 private:
  int rank_;
  std::string name_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Remaining arguments are PETSc options (e.g. -ksp_view for debugging a test).
  std::vector<std::string> petsc_args(argv + 1, argv + argc);
  // The test harness is an entry point, like apps/: it owns the world communicator.
  pdestream::Runtime runtime(&argc, &argv, MPI_COMM_WORLD, petsc_args);
  if (runtime.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new FailurePrinter(runtime.rank()));
  }
  int result = RUN_ALL_TESTS();
  // A failure on any rank fails every rank, so the exit status never depends on which
  // rank mpiexec reports first.
  int any_failed = 0;
  MPI_Allreduce(&result, &any_failed, 1, MPI_INT, MPI_MAX, runtime.comm());
  return any_failed ? 1 : 0;
}
