#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "training/epoch_plan.hpp"

using pdestream::training::EpochPlan;
using pdestream::training::shard_range;

TEST(EpochPlan, EachEpochIsAPermutationAndEpochsDiffer) {
  EpochPlan plan(103, 10, 7);
  auto a = plan.order(0), b = plan.order(1);
  std::vector<std::int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 103; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, EpochPlan(103, 10, 7).order(0)) << "reproducible";
  EXPECT_NE(a, EpochPlan(103, 10, 8).order(0)) << "seeded";
  EXPECT_EQ(EpochPlan(5, 2, 1, false).order(3), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
}

TEST(EpochPlan, BatchesCoverTheEpochOnceAndShardsCoverTheBatch) {
  EpochPlan plan(103, 10, 3);
  EXPECT_EQ(plan.batches_per_epoch(), 11);
  EXPECT_EQ(plan.batch_size(10), 3);
  std::multiset<std::int64_t> seen;
  for (std::int64_t b = 0; b < plan.batches_per_epoch(); ++b) {
    const auto whole = plan.batch(2, b);
    for (int size : {1, 2, 3}) {
      std::vector<std::int64_t> joined;
      for (int r = 0; r < size; ++r) {
        auto s = plan.shard(2, b, r, size);
        joined.insert(joined.end(), s.begin(), s.end());
      }
      EXPECT_EQ(joined, whole) << "shards of batch " << b << " on " << size << " ranks";
    }
    seen.insert(whole.begin(), whole.end());
  }
  EXPECT_EQ(seen.size(), 103u);
  EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()).size(), 103u);
  EXPECT_EQ(EpochPlan(103, 10, 3, true, true).batches_per_epoch(), 10);
}

TEST(EpochPlan, ShuffleIsRoughlyUniform) {
  // Position of element 0 over many epochs: every slot of 8 about equally often.
  EpochPlan plan(8, 8, 11);
  std::vector<int> count(8, 0);
  for (int e = 0; e < 8000; ++e) {
    auto o = plan.order(e);
    ++count[std::find(o.begin(), o.end(), 0) - o.begin()];
  }
  for (int c : count) EXPECT_NEAR(c, 1000, 150);
}

TEST(EpochPlan, BadArguments) {
  EXPECT_THROW(EpochPlan(0, 1, 0), pdestream::Error);
  EXPECT_THROW(EpochPlan(10, 0, 0), pdestream::Error);
  EXPECT_THROW(EpochPlan(3, 4, 0, true, true), pdestream::Error);
  EXPECT_THROW(EpochPlan(10, 4, 0).batch_size(3), pdestream::Error);
  EXPECT_EQ(shard_range(10, 1, 3).first, 3);
  EXPECT_EQ(shard_range(10, 1, 3).second, 6);
}

// Shuffle windows: groups of G consecutive examples (a trajectory's) taken W at a time in a
// shuffled order, examples shuffled within each window: every window of W G positions holds
// exactly W whole groups, the epoch is still a permutation, and epochs differ.
TEST(EpochPlan, ShuffleWindowsKeepTrajectoriesTogether) {
  const std::int64_t groups = 10, g = 6, w = 3;
  EpochPlan plan(groups * g, 4, 7);
  plan.set_windows(g, w);
  auto a = plan.order(0), b = plan.order(1);
  for (const auto& order : {a, b}) {
    std::set<std::int64_t> all(order.begin(), order.end());
    EXPECT_EQ(all.size(), static_cast<std::size_t>(groups * g));
    for (std::int64_t start = 0; start < groups * g; start += w * g) {
      std::set<std::int64_t> in_window;
      const auto end = std::min(start + w * g, groups * g);
      for (auto k = start; k < end; ++k) in_window.insert(order[k] / g);
      EXPECT_EQ(static_cast<std::int64_t>(in_window.size()), (end - start) / g) << "window at " << start;
    }
  }
  EXPECT_NE(a, b);
  // Not just the groups in order: examples within a window are mixed.
  EXPECT_NE(a[1], a[0] + 1);
  EXPECT_THROW(plan.set_windows(7, 2), pdestream::Error);  // 7 does not divide 60
  // Window 0 is the plain shuffle, as before.
  EpochPlan plain(groups * g, 4, 7), zero(groups * g, 4, 7);
  zero.set_windows(g, 0);
  EXPECT_EQ(plain.order(3), zero.order(3));
}
