#include "training/data_source.hpp"

#include <torch/torch.h>

#include "core/error.hpp"

namespace pdestream::training {

IndexedDataSource::IndexedDataSource(std::int64_t num_examples, std::int64_t global_batch, std::uint64_t seed,
                                     int rank, int size, bool shuffle)
    : plan_(num_examples, std::min(global_batch, num_examples), seed, shuffle), rank_(rank), size_(size) {}

void IndexedDataSource::begin_epoch(std::int64_t epoch, std::int64_t first_batch) {
  PDS_CHECK(first_batch >= 0 && first_batch <= plan_.batches_per_epoch(),
            "cannot start epoch " << epoch << " at batch " << first_batch << " of " << plan_.batches_per_epoch());
  epoch_ = epoch;
  batch_ = first_batch;
}

std::optional<Batch> IndexedDataSource::next() {
  if (batch_ >= plan_.batches_per_epoch()) return std::nullopt;
  const auto indices = plan_.shard(epoch_, batch_, rank_, size_);
  const std::int64_t global = plan_.batch_size(batch_);
  ++batch_;
  auto loaded = load(indices);
  return Batch{loaded.x, loaded.y, global, shard_range(global, rank_, size_).first, loaded.cond};
}

TensorDataSource::TensorDataSource(torch::Tensor x, torch::Tensor y, std::int64_t global_batch, std::uint64_t seed,
                                   int rank, int size, bool shuffle, torch::Tensor cond)
    : IndexedDataSource(x.size(0), global_batch, seed, rank, size, shuffle),
      x_(std::move(x)),
      y_(std::move(y)),
      cond_(std::move(cond)) {
  PDS_CHECK(x_.size(0) == y_.size(0), "inputs and targets need the same number of examples, got "
                                          << x_.size(0) << " and " << y_.size(0));
  PDS_CHECK(!cond_.defined() || (cond_.dim() == 2 && cond_.size(0) == x_.size(0)),
            "expected conditioning vectors [" << x_.size(0) << ", P], got " << cond_.sizes());
}

IndexedDataSource::Loaded TensorDataSource::load(const std::vector<std::int64_t>& indices) {
  auto idx = torch::tensor(indices, torch::kInt64);
  return {x_.index_select(0, idx), y_.index_select(0, idx), cond_.defined() ? cond_.index_select(0, idx) : cond_};
}

}  // namespace pdestream::training
