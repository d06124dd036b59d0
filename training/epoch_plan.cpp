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

std::vector<std::int64_t> EpochPlan::order(std::int64_t epoch) const {
  std::vector<std::int64_t> p(n_);
  std::iota(p.begin(), p.end(), 0);
  if (!shuffle_) return p;
  std::uint64_t state = splitmix64(seed_ ^ splitmix64(static_cast<std::uint64_t>(epoch) + 0x51ed270b27d3c1ull));
  for (std::int64_t i = n_ - 1; i > 0; --i) {
    state = splitmix64(state);
    // Multiply-shift bounded draw: unbiased enough for shuffling (bias < 2^-32 for N < 2^32).
    const auto j = static_cast<std::int64_t>((static_cast<unsigned __int128>(state) * (i + 1)) >> 64);
    std::swap(p[i], p[j]);
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
