#include "training/epoch_plan.hpp"

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.hpp"
#include "core/random.hpp"

namespace pdestream::training {

std::pair<std::int64_t, std::int64_t> shard_range(std::int64_t count, int rank, int size) {
  PDS_CHECK(size > 0 && rank >= 0 && rank < size, "shard_range: rank " << rank << " of " << size);
  return {count * rank / size, count * (rank + 1) / size};
}

EpochPlan::EpochPlan(std::int64_t num_examples, std::int64_t global_batch, std::uint64_t seed, bool shuffle,
                     bool drop_last)
    : n_(num_examples), batch_(global_batch), seed_(seed), shuffle_(shuffle), drop_last_(drop_last) {
  PDS_CHECK(n_ > 0, "an epoch needs at least one example, got " << n_);
  PDS_CHECK(batch_ > 0, "batch_size must be positive, got " << batch_);
  PDS_CHECK(!drop_last_ || n_ >= batch_, "drop_last with batch_size " << batch_ << " leaves no batch of " << n_
                                                                       << " examples");
}

std::int64_t EpochPlan::batches_per_epoch() const { return drop_last_ ? n_ / batch_ : (n_ + batch_ - 1) / batch_; }

std::int64_t EpochPlan::batch_size(std::int64_t b) const {
  PDS_CHECK(b >= 0 && b < batches_per_epoch(), "batch " << b << " out of range [0, " << batches_per_epoch() << ")");
  return std::min(batch_, n_ - b * batch_);
}

namespace {
// Fisher-Yates over [begin, end) with splitmix64 draws from `state`.
void shuffle(std::vector<std::int64_t>::iterator begin, std::vector<std::int64_t>::iterator end, std::uint64_t& state) {
  for (auto i = static_cast<std::int64_t>(end - begin) - 1; i > 0; --i) {
    state = splitmix64(state);
    // Multiply-shift bounded draw: unbiased enough for shuffling (bias < 2^-32 for N < 2^32).
    const auto j = static_cast<std::int64_t>((static_cast<unsigned __int128>(state) * (i + 1)) >> 64);
    std::swap(begin[i], begin[j]);
  }
}
}  // namespace

void EpochPlan::set_windows(std::int64_t group_size, std::int64_t window) {
  PDS_CHECK(group_size >= 1 && window >= 0 && n_ % group_size == 0,
            "shuffle windows: expected groups of size >= 1 dividing " << n_ << " examples and a window >= 0, got "
                                                                      << group_size << " and " << window);
  group_size_ = group_size;
  window_ = window;
  cached_epoch_ = -1;
}

std::vector<std::int64_t> EpochPlan::order(std::int64_t epoch) const {
  std::vector<std::int64_t> p(n_);
  std::iota(p.begin(), p.end(), 0);
  if (!shuffle_) return p;
  std::uint64_t state = splitmix64(seed_ ^ splitmix64(static_cast<std::uint64_t>(epoch) + 0x51ed270b27d3c1ull));
  if (window_ <= 0 || group_size_ <= 0) {
    shuffle(p.begin(), p.end(), state);
    return p;
  }
  std::vector<std::int64_t> groups(n_ / group_size_);
  std::iota(groups.begin(), groups.end(), 0);
  shuffle(groups.begin(), groups.end(), state);
  auto out = p.begin();
  for (std::size_t w = 0; w < groups.size(); w += static_cast<std::size_t>(window_)) {
    const auto begin = out;
    for (std::size_t g = w; g < std::min(groups.size(), w + static_cast<std::size_t>(window_)); ++g)
      for (std::int64_t k = 0; k < group_size_; ++k) *out++ = groups[g] * group_size_ + k;
    shuffle(begin, out, state);
  }
  return p;
}

std::vector<std::int64_t> EpochPlan::batch(std::int64_t epoch, std::int64_t b) const {
  const auto size = batch_size(b);
  if (cached_epoch_ != epoch) {
    cached_order_ = order(epoch);
    cached_epoch_ = epoch;
  }
  const auto& p = cached_order_;
  return {p.begin() + b * batch_, p.begin() + b * batch_ + size};
}

std::vector<std::int64_t> EpochPlan::shard(std::int64_t epoch, std::int64_t b, int rank, int size) const {
  const auto all = batch(epoch, b);
  const auto [lo, hi] = shard_range(static_cast<std::int64_t>(all.size()), rank, size);
  return {all.begin() + lo, all.begin() + hi};
}

}  // namespace pdestream::training
