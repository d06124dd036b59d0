#pragma once
// Where a trainer's examples come from. Offline training reads an HDF5 dataset; online
// training (the streaming buffer) implements the same interface.
//
// Batches are sharded: each trainer rank receives its own part of a global batch, together
// with the global batch size, so losses can be weighted to make R ranks equal 1 rank.

#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "training/epoch_plan.hpp"

namespace pdestream::training {

struct Batch {
  torch::Tensor x;           // this rank's inputs  [b, ...] (b may be 0)
  torch::Tensor y;           // this rank's targets [b, ...]
  std::int64_t global_size;  // examples in the global batch over all ranks
  std::int64_t offset = 0;   // position of this shard's first example in the global batch
  torch::Tensor cond;        // [b, P] conditioning vectors when the task has a condition
};

class DataSource {
 public:
  virtual ~DataSource() = default;
  // Start epoch `epoch` at global batch `first_batch` (non-zero when resuming).
  virtual void begin_epoch(std::int64_t epoch, std::int64_t first_batch = 0) = 0;
  // This rank's shard of the next global batch, or nullopt when the epoch is over. Every
  // rank gets nullopt at the same step (sources guarantee it, collectively if needed).
  virtual std::optional<Batch> next() = 0;
  // Global batches per epoch (-1 when unknown, e.g. a stream).
  virtual std::int64_t batches_per_epoch() const = 0;
  // Total examples per epoch over all ranks (-1 when unknown).
  virtual std::int64_t examples_per_epoch() const = 0;
};

// Examples addressed by a global index, batched by an EpochPlan. Subclasses provide
// `load(indices)`: the stacked inputs, targets and conditions of those examples.
class IndexedDataSource : public DataSource {
 public:
  IndexedDataSource(std::int64_t num_examples, std::int64_t global_batch, std::uint64_t seed, int rank, int size,
                    bool shuffle = true);
  void begin_epoch(std::int64_t epoch, std::int64_t first_batch = 0) override;
  std::optional<Batch> next() override;
  std::int64_t batches_per_epoch() const override { return plan_.batches_per_epoch(); }
  std::int64_t examples_per_epoch() const override { return plan_.num_examples(); }

 protected:
  EpochPlan& plan() { return plan_; }
  struct Loaded {
    torch::Tensor x, y, cond;  // cond undefined without a condition
  };
  virtual Loaded load(const std::vector<std::int64_t>& indices) = 0;

 private:
  EpochPlan plan_;
  int rank_, size_;
  std::int64_t epoch_ = 0, batch_ = 0;
};

// Examples held in memory as tensors [N, ...] (tests, validation sets, small data), with
// their conditioning vectors cond [N, P] when there are any.
class TensorDataSource : public IndexedDataSource {
 public:
  TensorDataSource(torch::Tensor x, torch::Tensor y, std::int64_t global_batch, std::uint64_t seed, int rank,
                   int size, bool shuffle = true, torch::Tensor cond = {});

 protected:
  Loaded load(const std::vector<std::int64_t>& indices) override;

 private:
  torch::Tensor x_, y_, cond_;
};

}  // namespace pdestream::training
