// Sequences of systems under omega policies: the --omega grammar, the folder format (written
// by a tiny generator here) and its errors, grid's hindsight numbers, and heat2d with the
// tuner giving the same solution as without it.
#include <gtest/gtest.h>
#include <petscdmda.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "linear_systems/petsc_handle.hpp"
#include "linear_systems/relaxation_tuner.hpp"
#include "linear_systems/sequences.hpp"
#include "solvers/heat2d.hpp"
#include "tests/linear_systems/shifted_system.hpp"
#include "tests/test_util.hpp"

using pdestream::testing::error_of;

using namespace pdestream;
using namespace pdestream::linear_systems;

namespace {

std::string scratch(const std::string& name, MPI_Comm comm) {
  return pdestream::testing::scratch_dir(name + "_np" + std::to_string(comm_size(comm)), comm);
}

// A folder of `count` systems A_k = L + 0.2 k I (m x m interior grid), b_k = 1 + k/10.
void write_folder(const std::string& dir, int count, int m, MPI_Comm comm) {
  for (int k = 0; k < count; ++k) pdestream::testing::write_shifted_system(dir, k, m, 1.0 + 0.1 * k, comm);
}

}  // namespace

TEST(OmegaPolicy, ParsesTheCommandLineForms) {
  EXPECT_EQ(OmegaPolicy::parse("bandit:tsallis").learner, "tsallis");
  EXPECT_EQ(OmegaPolicy::parse("bandit:chebcb").kind, "bandit");
  EXPECT_EQ(OmegaPolicy::parse("fixed:1.5").omega, 1.5);
  EXPECT_EQ(OmegaPolicy::parse("grid").kind, "grid");
  EXPECT_EQ(OmegaPolicy::parse("none").kind, "none");
  EXPECT_EQ(OmegaPolicy::parse("fixed:0.8").describe(), "fixed:0.8");
  EXPECT_NE(error_of([] { OmegaPolicy::parse("fixed:2.5"); }).find("expected omega in (0, 2) for SOR to converge, got 2.5"),
            std::string::npos);
  EXPECT_NE(error_of([] { OmegaPolicy::parse("fixed:0"); }).find("expected omega in (0, 2)"), std::string::npos);
  EXPECT_NE(error_of([] { OmegaPolicy::parse("fixed:abc"); }).find("expected fixed:W with a number W, got 'fixed:abc'"),
            std::string::npos);
  EXPECT_NE(error_of([] { OmegaPolicy::parse("bandit:greedy"); }).find("got 'bandit:greedy'"), std::string::npos);
  EXPECT_NE(error_of([] { OmegaPolicy::parse("sometimes"); }).find("expected bandit:"), std::string::npos);
  EXPECT_NE(error_of([] { OmegaPolicy::parse("grid:3"); }).find("got 'grid:3'"), std::string::npos);
}

TEST(Sequences, FolderRoundTripAndGridHindsight) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const std::string dir = scratch("seq_ok", comm);
  write_folder(dir, 5, 12, comm);
  const auto info = scan_sequence_dir(dir, comm);
  EXPECT_EQ(info.count, 5);
  EXPECT_EQ(info.size, 144);

  SequenceOptions o;
  o.sequence = dir;
  o.steps = 0;  // all
  o.tuner.arms = 6;
  const auto fixed = run_sequence(o, OmegaPolicy::parse("fixed:1.3"), comm);
  ASSERT_EQ(fixed.records.size(), 5u);
  EXPECT_EQ(fixed.unknowns, 144);
  EXPECT_EQ(fixed.failed, 0);
  for (const auto& r : fixed.records) {
    EXPECT_DOUBLE_EQ(r.omega, 1.3);
    EXPECT_GT(r.iterations, 0);
    // No context.txt: the context is the diagonal mean, 4 + 0.2 k.
    EXPECT_NEAR(r.context, 4.0 + 0.2 * r.index, 1e-12);
  }

  const auto grid = run_sequence(o, OmegaPolicy::parse("grid"), comm);
  ASSERT_EQ(grid.arm_totals.size(), 6u);
  ASSERT_GE(grid.best_arm, 0);
  const long long best = *std::min_element(grid.arm_totals.begin(), grid.arm_totals.end());
  EXPECT_EQ(grid.arm_totals[grid.best_arm], best);
  EXPECT_LE(grid.instance_optimal, best);
  // The run itself plays the instance-optimal omega, so its total is the instance optimum.
  EXPECT_EQ(grid.total_iterations, grid.instance_optimal);

  // A context.txt is used as given.
  if (comm_rank(comm) == 0) pdestream::testing::write_text(dir + "/context.txt", "0.5\n1.5\n2.5\n3.5\n4.5\n");
  MPI_Barrier(comm);
  o.steps = 3;
  const auto with_context = run_sequence(o, OmegaPolicy::parse("bandit:chebcb"), comm);
  ASSERT_EQ(with_context.records.size(), 3u);
  EXPECT_EQ(with_context.records[2].context, 2.5);

  // The CSV has a header and one line per system.
  const std::string csv = dir + "/instances.csv";
  if (comm_rank(comm) == 0) {
    write_csv(with_context, csv);
    const std::string text = pdestream::testing::read_text(csv);
    EXPECT_EQ(text.rfind("step,context,omega,iterations,converged,seconds\n", 0), 0u);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
  }
}

TEST(Sequences, BadFoldersGiveClearErrors) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  SequenceOptions o;
  o.steps = 0;
  const auto policy = OmegaPolicy::parse("fixed:1.2");

  o.sequence = scratch("seq_empty", comm);
  EXPECT_NE(error_of([&] { run_sequence(o, policy, comm); })
                .find("expected PETSc binary systems A_0000.bin, b_0000.bin, ..., found none"),
            std::string::npos);

  o.sequence = o.sequence + "/does-not-exist";
  EXPECT_NE(error_of([&] { run_sequence(o, policy, comm); }).find("got no such folder"), std::string::npos);

  // A_0001 is larger than A_0000.
  const std::string mixed = scratch("seq_mixed", comm);
  write_folder(mixed, 1, 6, comm);
  {
    const std::string other = scratch("seq_mixed_other", comm);
    write_folder(other, 1, 7, comm);
    if (comm_rank(comm) == 0) {
      std::filesystem::copy_file(other + "/A_0000.bin", mixed + "/A_0001.bin");
      std::filesystem::copy_file(other + "/b_0000.bin", mixed + "/b_0001.bin");
    }
    MPI_Barrier(comm);
  }
  o.sequence = mixed;
  const std::string msg = error_of([&] { run_sequence(o, policy, comm); });
  EXPECT_NE(msg.find("A_0001.bin: expected 36 x 36 like A_0000.bin, got 49 x 49"), std::string::npos) << msg;

  // A right-hand side of the wrong length, and a missing one.
  const std::string rhs = scratch("seq_rhs", comm);
  write_folder(rhs, 2, 6, comm);
  if (comm_rank(comm) == 0) std::filesystem::copy_file(mixed + "/b_0001.bin", rhs + "/b_0001.bin",
                                                       std::filesystem::copy_options::overwrite_existing);
  MPI_Barrier(comm);
  o.sequence = rhs;
  EXPECT_NE(error_of([&] { run_sequence(o, policy, comm); }).find("b_0001.bin: expected 36 entries to match the matrix, got 49"),
            std::string::npos);
  if (comm_rank(comm) == 0) std::filesystem::remove(rhs + "/b_0001.bin");
  MPI_Barrier(comm);
  EXPECT_NE(error_of([&] { run_sequence(o, policy, comm); }).find("expected the right-hand side of A_0001.bin"),
            std::string::npos);

  // More steps than systems.
  o.sequence = scratch("seq_short", comm);
  write_folder(o.sequence, 2, 5, comm);
  o.steps = 3;
  EXPECT_NE(error_of([&] { run_sequence(o, policy, comm); }).find("--steps 3: expected at most the 2 systems"),
            std::string::npos);
}

TEST(Sequences, ShiftedLaplacianGridBoundsTheLearners) {
  SequenceOptions o;
  o.sequence = "shifted-laplacian";
  o.grid = 14;
  o.steps = 60;
  o.tuner.arms = 10;
  const auto grid = run_sequence(o, OmegaPolicy::parse("grid"), MPI_COMM_WORLD);
  const auto bandit = run_sequence(o, OmegaPolicy::parse("bandit:tsallis"), MPI_COMM_WORLD);
  ASSERT_EQ(bandit.records.size(), 60u);
  // Same systems on both runs (same seed): contexts match and nobody beats the instance optimum.
  for (int k = 0; k < 60; ++k) EXPECT_EQ(bandit.records[k].context, grid.records[k].context);
  EXPECT_GE(bandit.total_iterations, grid.instance_optimal);
  EXPECT_GT(grid.records[0].context, 0.0);
  EXPECT_LT(grid.records[0].context, 1.0);
}

// The tuner changes only the speed: heat2d's fields agree to solver tolerance.
TEST(Sequences, Heat2dWithTheTunerGivesTheSameSolution) {
  solvers::Heat2dOptions h = SequenceOptions::paper_heat2d_options();
  h.nx = h.ny = 21;
  h.outputs = 3;
  h.steps_per_output = 100;  // to t = 0.3, with c(t) rising
  h.rtol = 1e-12;
  solvers::Heat2d plain(h, MPI_COMM_WORLD), tuned(h, MPI_COMM_WORLD);
  PC pc;
  PDS_PETSC(KSPGetPC(tuned.ksp(), &pc));
  PDS_PETSC(PCSetType(pc, PCSOR));
  TunerOptions t;
  t.learner = "chebcb";
  RelaxationTuner& tuner = attach_relaxation_tuner(pc, t);
  double max_diff = 0, max_u = 0;
  for (int k = 0; k < h.outputs; ++k) {
    plain.advance();
    tuned.advance();
    const Field a = plain.snapshot(), b = tuned.snapshot();
    for (std::size_t i = 0; i < a.size(); ++i) {
      max_diff = std::max(max_diff, std::abs(a.data()[i] - b.data()[i]));
      max_u = std::max(max_u, std::abs(a.data()[i]));
    }
  }
  double global_diff, global_u;
  MPI_Allreduce(&max_diff, &global_diff, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(&max_u, &global_u, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_GT(global_u, 1e-3);  // the moving source did heat the plate
  EXPECT_LT(global_diff, 1e-9 * global_u);
  ASSERT_EQ(tuner.history().size(), 300u);
  // heat2d offered c(t_new) as context, without linking against the tuner.
  EXPECT_DOUBLE_EQ(tuner.history()[99].context, tuned.diffusivity(0.1));
  EXPECT_EQ(tuner.learner().options().context_hi, 10.0);
  std::set<double> omegas;
  for (const auto& r : tuner.history()) omegas.insert(r.omega);
  EXPECT_GT(omegas.size(), 3u);  // it did explore
}
