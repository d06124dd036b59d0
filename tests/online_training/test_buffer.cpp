#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <numeric>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/config.hpp"
#include "online_training/buffer.hpp"
#include "surrogates/tasks.hpp"
#include "tests/test_util.hpp"

using pdestream::online_training::buffer_kinds;
using pdestream::online_training::BufferOptions;
using pdestream::online_training::make_buffer;
using pdestream::online_training::Sample;
using pdestream::online_training::SampleBuffer;
using pdestream::testing::error_of;

namespace {

Sample sample(std::int64_t i) {
  Sample s;
  s.sim_id = i;
  s.index = i;
  s.input = torch::full({2}, static_cast<double>(i));
  s.target = torch::full({2}, static_cast<double>(-i));
  return s;
}

bool put(SampleBuffer& b, std::int64_t i) {
  auto s = sample(i);
  return b.put(s);
}

BufferOptions opts(const std::string& kind, std::int64_t capacity, std::int64_t threshold = 0,
                   std::int64_t pseudo_epochs = 1, std::uint64_t seed = 0) {
  BufferOptions o;
  o.kind = kind;
  o.capacity = capacity;
  o.threshold = threshold;
  o.pseudo_epochs = pseudo_epochs;
  o.seed = seed;
  return o;
}

std::vector<std::int64_t> ids(const std::vector<Sample>& batch) {
  std::vector<std::int64_t> out;
  for (const auto& s : batch) out.push_back(s.sim_id);
  return out;
}

bool distinct(const std::vector<Sample>& batch) {
  const auto v = ids(batch);
  return std::set<std::int64_t>(v.begin(), v.end()).size() == v.size();
}

// Every sample's tensors still carry its id: draws hand out the right data, not just the id.
void expect_payload(const std::vector<Sample>& batch) {
  for (const auto& s : batch) {
    EXPECT_EQ(s.input[1].item<double>(), static_cast<double>(s.sim_id));
    EXPECT_EQ(s.target[0].item<double>(), static_cast<double>(-s.sim_id));
  }
}

// Draws batches of n until the closed buffer is drained.
std::vector<std::int64_t> drain(SampleBuffer& b, std::int64_t n) {
  std::vector<std::int64_t> all;
  for (;;) {
    auto batch = b.get(n);
    if (batch.empty()) return all;
    EXPECT_TRUE(distinct(batch));
    for (auto id : ids(batch)) all.push_back(id);
  }
}

}  // namespace

TEST(Fifo, ArrivalOrderAndEachSampleExactlyOnce) {
  auto b = make_buffer(opts("fifo", 10));
  EXPECT_EQ(b->kind(), "fifo");
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(put(*b, i));
  auto refused = sample(10);
  EXPECT_FALSE(b->put(refused)) << "full";
  EXPECT_TRUE(refused.input.defined()) << "a refused sample is left untouched";
  EXPECT_EQ(refused.sim_id, 10);

  auto first = b->get(4);
  EXPECT_EQ(ids(first), (std::vector<std::int64_t>{0, 1, 2, 3}));
  expect_payload(first);
  for (const auto& s : first) EXPECT_EQ(s.seen, 1);
  EXPECT_EQ(b->size(), 6);
  for (int i = 10; i < 14; ++i) EXPECT_TRUE(put(*b, i));
  b->close();
  auto rest = drain(*b, 3);
  std::vector<std::int64_t> expected;
  for (int i = 4; i < 14; ++i) expected.push_back(i);
  EXPECT_EQ(rest, expected);
  EXPECT_TRUE(b->get(3).empty()) << "closed and drained";

  const auto st = b->stats();
  EXPECT_EQ(st.size, 0);
  EXPECT_EQ(st.capacity, 10);
  EXPECT_EQ(st.put, 14);
  EXPECT_EQ(st.rejected, 1);
  EXPECT_EQ(st.drawn, 14);
  EXPECT_EQ(st.removed, 14);
  ASSERT_EQ(st.histogram.size(), 8u);
  EXPECT_EQ(st.histogram[1], 14);
  EXPECT_EQ(st.histogram[0], 0);
}

TEST(Fifo, WaitsForAFullBatchButNeverForMoreThanCapacity) {
  auto b = make_buffer(opts("fifo", 3));
  put(*b, 0);
  put(*b, 1);
  EXPECT_TRUE(b->get_for(2 + 1, 0.05).empty()) << "a batch of 3 is not there yet";
  put(*b, 2);
  EXPECT_EQ(ids(b->get_for(5, 5.0)), (std::vector<std::int64_t>{0, 1, 2}))
      << "a batch larger than the capacity gets a full buffer instead of a deadlock";
}

TEST(Firo, EachSampleDrawnPseudoEpochsTimesThenGone) {
  auto b = make_buffer(opts("firo", 100, 5, 3, 1));
  for (int i = 0; i < 4; ++i) put(*b, i);
  EXPECT_TRUE(b->get_for(2, 0.05).empty()) << "threshold 5 not reached";
  EXPECT_EQ(b->size(), 4);
  put(*b, 4);
  auto batch = b->get_for(2, 5.0);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_TRUE(distinct(batch));
  expect_payload(batch);
  for (const auto& s : batch) EXPECT_EQ(s.seen, 1);
  EXPECT_EQ(b->size(), 5) << "not used up yet";

  std::map<std::int64_t, int> count;
  for (auto id : ids(batch)) ++count[id];
  for (int i = 5; i < 20; ++i) put(*b, i);
  b->close();
  for (auto id : drain(*b, 4)) ++count[id];
  ASSERT_EQ(count.size(), 20u);
  for (const auto& [id, c] : count) EXPECT_EQ(c, 3) << "sample " << id;
  const auto st = b->stats();
  EXPECT_EQ(st.size, 0);
  EXPECT_EQ(st.drawn, 60);
  EXPECT_EQ(st.removed, 20);
  EXPECT_EQ(st.histogram[3], 20);
}

TEST(Firo, ThresholdAboveCapacityIsClampedInsteadOfDeadlocking) {
  auto b = make_buffer(opts("firo", 4, 10, 2));
  for (int i = 0; i < 4; ++i) put(*b, i);
  auto batch = b->get_for(8, 5.0);
  EXPECT_EQ(batch.size(), 4u) << "threshold 10 and batch 8 both clamp to capacity 4";
  EXPECT_TRUE(distinct(batch));
  EXPECT_FALSE(b->closed());
}

TEST(Reservoir, WaitsForTheThreshold) {
  auto b = make_buffer(opts("reservoir", 10, 6));
  for (int i = 0; i < 5; ++i) put(*b, i);
  EXPECT_TRUE(b->get_for(2, 0.05).empty());
  EXPECT_GT(b->stats().wait_seconds, 0.04);
  put(*b, 5);
  auto batch = b->get_for(2, 5.0);
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_TRUE(distinct(batch));
  expect_payload(batch);
}

TEST(Reservoir, DrawsWithoutRemovalWhileOpen) {
  auto b = make_buffer(opts("reservoir", 10, 6));
  for (int i = 0; i < 6; ++i) put(*b, i);
  std::map<std::int64_t, std::int64_t> last_seen;
  for (int k = 0; k < 10; ++k) {
    auto batch = b->get(3);
    ASSERT_EQ(batch.size(), 3u);
    EXPECT_TRUE(distinct(batch));
    for (const auto& s : batch) {
      EXPECT_GT(s.seen, last_seen[s.sim_id]) << "seen counts grow with each draw";
      last_seen[s.sim_id] = s.seen;
    }
    EXPECT_EQ(b->size(), 6);
  }
  std::int64_t total = 0;
  for (const auto& s : b->snapshot()) total += s.seen;
  EXPECT_EQ(total, 30);
  const auto st = b->stats();
  EXPECT_EQ(st.removed, 0);
  EXPECT_EQ(st.drawn, 30);
}

TEST(Reservoir, WhenFullReplacesASeenSampleAndRefusesWhenAllAreUnseen) {
  auto b = make_buffer(opts("reservoir", 4, 4));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(put(*b, i));
  auto refused = sample(4);
  EXPECT_FALSE(b->put(refused)) << "full of unseen samples";
  EXPECT_TRUE(refused.input.defined());
  EXPECT_EQ(b->stats().rejected, 1);

  const auto drawn = b->get(1);
  ASSERT_EQ(drawn.size(), 1u);
  EXPECT_TRUE(b->put(refused)) << "the seen sample makes room";
  EXPECT_EQ(b->size(), 4);
  std::set<std::int64_t> now;
  for (const auto& s : b->snapshot()) now.insert(s.sim_id);
  EXPECT_EQ(now.count(drawn[0].sim_id), 0u) << "the only seen sample was evicted";
  EXPECT_EQ(now.count(4), 1u);
  for (const auto& s : b->snapshot()) EXPECT_EQ(s.seen, 0);
  auto again = sample(5);
  EXPECT_FALSE(b->put(again)) << "all unseen again";

  const auto st = b->stats();
  EXPECT_EQ(st.removed, 1);
  EXPECT_EQ(st.put, 5);
  EXPECT_EQ(st.rejected, 2);
  EXPECT_EQ(st.histogram[1], 1) << "the evicted sample";
  EXPECT_EQ(st.histogram[0], 4) << "the current ones";
}

TEST(Reservoir, DrainsAfterCloseSoEachRemainingSampleComesOutOnce) {
  auto b = make_buffer(opts("reservoir", 8, 8, 1, 3));
  for (int i = 0; i < 8; ++i) put(*b, i);
  b->get(3);
  b->get(3);
  b->close();
  EXPECT_FALSE(put(*b, 99)) << "no puts after close";
  auto out = drain(*b, 3);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(b->size(), 0);
  const auto st = b->stats();
  EXPECT_EQ(st.removed, 8);
  EXPECT_EQ(st.histogram[0], 0) << "every drained sample was drawn at least once";
}

TEST(Reservoir, ClosedBelowThresholdStillHandsOutWhatItHas) {
  auto b = make_buffer(opts("reservoir", 8, 8));
  for (int i = 0; i < 3; ++i) put(*b, i);
  b->close();
  auto out = drain(*b, 2);
  EXPECT_EQ(out.size(), 3u);
}

TEST(Reservoir, HistogramLastBinIsOpen) {
  auto b = make_buffer(opts("reservoir", 1, 1));
  put(*b, 0);
  for (int k = 0; k < 12; ++k) EXPECT_EQ(b->get(1).at(0).seen, k + 1);
  const auto st = b->stats();
  EXPECT_EQ(st.histogram.back(), 1);
  EXPECT_EQ(std::accumulate(st.histogram.begin(), st.histogram.end(), std::int64_t{0}), 1);
}

TEST(AllKinds, CapacityIsNeverExceeded) {
  for (const auto& kind : buffer_kinds()) {
    auto b = make_buffer(opts(kind, 5, 3, 2, 4));
    std::int64_t accepted = 0;
    for (int i = 0; i < 60; ++i) {
      accepted += put(*b, i);
      ASSERT_LE(b->size(), 5) << kind;
      if (i % 4 == 3) b->get(2);
      ASSERT_LE(b->size(), 5) << kind;
    }
    EXPECT_EQ(b->stats().put, accepted) << kind;
    EXPECT_EQ(b->stats().rejected, 60 - accepted) << kind;
  }
}

// A producer that spins while the buffer is full and a consumer that draws until the stream
// ends; the consumer checks the size bound from its side while both run.
TEST(AllKinds, ProducerAndConsumerThreads) {
  constexpr std::int64_t kSamples = 500, kCapacity = 8, kEpochs = 2;
  for (const auto& kind : buffer_kinds()) {
    auto b = make_buffer(opts(kind, kCapacity, 4, kEpochs, 11));
    std::atomic<std::int64_t> max_size{0};
    std::thread producer([&] {
      for (std::int64_t i = 0; i < kSamples; ++i) {
        auto s = sample(i);
        while (!b->put(s)) std::this_thread::yield();
        max_size = std::max(max_size.load(), b->size());
      }
      b->close();
    });
    std::vector<std::int64_t> got;
    for (;;) {
      auto batch = b->get(5);
      max_size = std::max(max_size.load(), b->size());
      if (batch.empty()) break;
      EXPECT_TRUE(distinct(batch)) << kind;
      for (auto id : ids(batch)) got.push_back(id);
    }
    producer.join();
    EXPECT_TRUE(b->closed());
    EXPECT_EQ(b->size(), 0) << kind;
    EXPECT_LE(max_size.load(), kCapacity) << kind;

    std::map<std::int64_t, int> count;
    for (auto id : got) ++count[id];
    EXPECT_EQ(count.size(), static_cast<std::size_t>(kSamples)) << kind << ": every sample reaches training";
    if (kind == "fifo") {
      std::vector<std::int64_t> expected(kSamples);
      std::iota(expected.begin(), expected.end(), 0);
      EXPECT_EQ(got, expected);
    } else if (kind == "firo") {
      for (const auto& [id, c] : count) ASSERT_EQ(c, kEpochs) << "sample " << id;
    }
    const auto st = b->stats();
    EXPECT_EQ(st.put, kSamples) << kind;
    EXPECT_EQ(st.removed, kSamples) << kind;
    EXPECT_EQ(st.drawn, static_cast<std::int64_t>(got.size())) << kind;
  }
}

TEST(AllKinds, GetForTimesOutAndWakesOnPutOrClose) {
  for (const auto& kind : buffer_kinds()) {
    auto b = make_buffer(opts(kind, 4));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(b->get_for(1, 0.1).empty()) << kind;
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_GE(waited, 0.09) << kind;
    EXPECT_FALSE(b->closed());
    EXPECT_GE(b->stats().wait_seconds, 0.09) << kind;

    std::thread late_put([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      put(*b, 7);
    });
    auto batch = b->get_for(1, 30.0);
    late_put.join();
    EXPECT_EQ(ids(batch), (std::vector<std::int64_t>{7})) << kind;

    auto c = make_buffer(opts(kind, 4));
    std::thread late_close([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      c->close();
    });
    EXPECT_TRUE(c->get(1).empty()) << kind << ": close() ends a blocked get()";
    late_close.join();
  }
}

TEST(AllKinds, SnapshotAndRestoreKeepSamplesAndSeenCounts) {
  for (const auto& kind : buffer_kinds()) {
    auto b = make_buffer(opts(kind, 10, 0, 3, 5));
    for (int i = 0; i < 6; ++i) put(*b, i);
    b->get(2);
    b->get(2);
    const auto snap = b->snapshot();
    EXPECT_EQ(static_cast<std::int64_t>(snap.size()), b->size());

    auto r = make_buffer(opts(kind, 10, 0, 3, 5));
    r->restore(snap);
    const auto back = r->snapshot();
    ASSERT_EQ(back.size(), snap.size()) << kind;
    for (std::size_t i = 0; i < snap.size(); ++i) {
      EXPECT_EQ(back[i].sim_id, snap[i].sim_id) << kind;
      EXPECT_EQ(back[i].seen, snap[i].seen) << kind;
    }
    expect_payload(back);
    const auto st = r->stats();
    EXPECT_EQ(st.size, static_cast<std::int64_t>(snap.size()));
    std::vector<std::int64_t> hist(8, 0);
    for (const auto& s : snap) ++hist[std::min<std::int64_t>(s.seen, 7)];
    EXPECT_EQ(st.histogram, hist) << kind << ": the histogram shows the restored seen counts";

    auto small = make_buffer(opts(kind, 1));
    EXPECT_THROW(small->restore(snap), pdestream::Error) << kind;
  }
  // FIFO order survives the round trip.
  auto f = make_buffer(opts("fifo", 10));
  for (int i = 0; i < 5; ++i) put(*f, i);
  f->get(2);
  auto g = make_buffer(opts("fifo", 10));
  g->restore(f->snapshot());
  EXPECT_EQ(ids(g->get(3)), (std::vector<std::int64_t>{2, 3, 4}));
}

TEST(AllKinds, SeededDrawsAreReproducible) {
  const auto run = [](const std::string& kind, std::uint64_t seed) {
    auto b = make_buffer(opts(kind, 50, 20, 3, seed));
    std::vector<std::int64_t> order;
    for (int i = 0; i < 120; ++i) {
      put(*b, i);
      if (i >= 20 && i % 2 == 0)
        for (auto id : ids(b->get(4))) order.push_back(id);
    }
    b->close();
    for (auto id : drain(*b, 4)) order.push_back(id);
    return order;
  };
  for (const std::string kind : {"firo", "reservoir"}) {
    EXPECT_EQ(run(kind, 7), run(kind, 7)) << kind;
    EXPECT_NE(run(kind, 7), run(kind, 8)) << kind;
  }
}

TEST(MakeBuffer, BadOptionsAreClearErrors) {
  EXPECT_EQ(buffer_kinds(), (std::vector<std::string>{"fifo", "firo", "reservoir"}));
  const auto kind_error = error_of([] { make_buffer(opts("lifo", 10)); });
  EXPECT_NE(kind_error.find("'lifo'"), std::string::npos) << kind_error;
  EXPECT_NE(kind_error.find("fifo, firo, reservoir"), std::string::npos) << kind_error;
  EXPECT_NE(error_of([] { make_buffer(opts("fifo", 0)); }).find("buffer_capacity"), std::string::npos);
  EXPECT_NE(error_of([] { make_buffer(opts("firo", 10, 0, 0)); }).find("pseudo_epochs"), std::string::npos);
  EXPECT_NE(error_of([] { make_buffer(opts("reservoir", 10, -1)); }).find("buffer_threshold"), std::string::npos);
  auto b = make_buffer(opts("fifo", 10));
  EXPECT_THROW(b->get(0), pdestream::Error);
  EXPECT_THROW(b->get_for(1, -1.0), pdestream::Error);
}

// A finished simulation is stored once: its samples share the trajectory and make their
// example when a batch needs it, equal to the task's; stored tensors are used as they are.
TEST(Buffer, SamplesOfATrajectoryShareItAndMakeTheirExampleWhenDrawn) {
  using namespace pdestream;
  Config config = Config::parse("[task]\nkind = \"autoregressive\"\nhistory = 2\n", "job.toml");
  SectionReader section(config, "task");
  auto task = surrogates::make_task(section, surrogates::Layout::Field);
  surrogates::Trajectory t;
  t.params = {0.5};
  t.times = {0, 1, 2, 3, 4};
  t.frames = torch::arange(5 * 1 * 8, torch::kFloat32).reshape({5, 1, 8});
  auto shared = std::make_shared<const surrogates::Trajectory>(t);
  auto buffer = make_buffer(opts("fifo", 10));
  for (std::int64_t i = 0; i < 3; ++i) {
    Sample s{7, i, {}, {}, 0, {}, shared};
    ASSERT_TRUE(buffer->put(s));
  }
  EXPECT_EQ(shared.use_count(), 4) << "three samples, one trajectory";
  auto got = buffer->get_for(3, 0.0);
  ASSERT_EQ(got.size(), 3u);
  for (const auto& s : got) {
    EXPECT_FALSE(s.input.defined());
    auto e = online_training::example_of(s, task.get());
    auto want = task->example(t, s.index);
    EXPECT_TRUE(torch::equal(e.input, want.input) && torch::equal(e.target, want.target));
  }
  auto stored = sample(3);
  EXPECT_TRUE(torch::equal(online_training::example_of(stored, task.get()).input, stored.input));
  EXPECT_NE(pdestream::testing::error_of([&] { online_training::example_of(got[0], nullptr); }).find("no task"),
            std::string::npos);
}
