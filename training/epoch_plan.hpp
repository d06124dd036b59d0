#pragma once
// Which examples each trainer rank takes in each step of an epoch.
//
// The global order of an epoch is a seeded permutation of all N examples, identical on every
// rank (it depends only on seed and epoch). Global batch b is the slice [b B, (b+1) B) of that
// order, and rank r takes its contiguous shard of the slice. Training on R ranks therefore
// sees exactly the global batches that 1 rank sees, which is what makes data-parallel runs
// reproduce single-rank runs (gradients are weighted by shard size, see distributed.hpp).
//
// Shuffle windows (set_windows): when examples come in groups of consecutive indices (the
// examples of one trajectory), the epoch takes the groups in a shuffled order, W at a time,
// and shuffles the examples within each window only. A trajectory is then read once per
// epoch and W of them fill the cache, instead of every batch touching random trajectories
// of a dataset larger than the cache.

#include <cstdint>
#include <vector>

namespace pdestream::training {

class EpochPlan {
 public:
  EpochPlan(std::int64_t num_examples, std::int64_t global_batch, std::uint64_t seed, bool shuffle = true,
            bool drop_last = false);

  // Groups of `group_size` consecutive examples, shuffled `window` groups at a time
  // (window 0: the whole epoch at once, the default).
  void set_windows(std::int64_t group_size, std::int64_t window);

  std::int64_t num_examples() const { return n_; }
  std::int64_t global_batch() const { return batch_; }
  std::int64_t batches_per_epoch() const;

  // The permutation of [0, N) for `epoch`.
  std::vector<std::int64_t> order(std::int64_t epoch) const;
  // Global example indices of batch `b` of `epoch`.
  std::vector<std::int64_t> batch(std::int64_t epoch, std::int64_t b) const;
  // This rank's shard of batch `b` (contiguous; sizes differ by at most one).
  std::vector<std::int64_t> shard(std::int64_t epoch, std::int64_t b, int rank, int size) const;
  // Size of batch `b` (the last batch may be short unless drop_last).
  std::int64_t batch_size(std::int64_t b) const;

 private:
  std::int64_t n_, batch_;
  std::uint64_t seed_;
  bool shuffle_, drop_last_;
  std::int64_t group_size_ = 0, window_ = 0;
  // The permutation is O(N) to build; batches of one epoch reuse it.
  mutable std::int64_t cached_epoch_ = -1;
  mutable std::vector<std::int64_t> cached_order_;
};

// The [begin, end) shard of `count` items that rank `rank` of `size` takes.
std::pair<std::int64_t, std::int64_t> shard_range(std::int64_t count, int rank, int size);

}  // namespace pdestream::training
