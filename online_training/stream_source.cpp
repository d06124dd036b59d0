#include "online_training/stream_source.hpp"

#include <torch/torch.h>

#include <chrono>
#include <sstream>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "surrogates/tasks.hpp"

namespace pdestream::online_training {

StreamSource::StreamSource(SampleBuffer& buffer, std::int64_t global_batch, MPI_Comm comm, double wait_timeout,
                           std::vector<std::int64_t> input_shape, std::vector<std::int64_t> target_shape,
                           std::int64_t cond_dim, std::shared_ptr<const surrogates::Task> task)
    : buffer_(buffer),
      global_batch_(global_batch),
      comm_(comm),
      wait_timeout_(wait_timeout),
      input_shape_(std::move(input_shape)),
      target_shape_(std::move(target_shape)),
      cond_dim_(cond_dim),
      task_(std::move(task)) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

void StreamSource::begin_epoch(std::int64_t, std::int64_t) {}

std::optional<training::Batch> StreamSource::next() {
  if (ended_) return std::nullopt;
  const std::int64_t shard = global_batch_ / size_ + (rank_ < global_batch_ % size_ ? 1 : 0);
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<Sample> got;
    if (shard > 0) {
      got = buffer_.get_for(shard, wait_timeout_);
      // Timed out short of a full shard: train on what is there rather than idle.
      if (got.empty() && !buffer_.closed()) {
        const auto have = std::min(shard, buffer_.size());
        if (have > 0) got = buffer_.get_for(have, 0.0);
      }
    }
    wait_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // An empty draw from a closed buffer means this rank's stream is over.
    const std::int64_t over = got.empty() && buffer_.closed() && buffer_.size() == 0 ? 1 : 0;
    // One collective per batch: every rank's (shard, over) gives the global batch size, the
    // end of the stream and where this rank's shard starts in the global batch.
    const std::int64_t local[2] = {static_cast<std::int64_t>(got.size()), over};
    std::vector<std::int64_t> all(2 * static_cast<std::size_t>(size_));
    MPI_Allgather(local, 2, MPI_INT64_T, all.data(), 2, MPI_INT64_T, comm_);
    std::int64_t global[2] = {0, 0}, before = 0;
    for (int r = 0; r < size_; ++r) {
      global[0] += all[2 * r];
      global[1] += all[2 * r + 1];
      if (r < rank_) before += all[2 * r];
    }
    if (global[0] == 0) {
      if (global[1] == size_) {
        ended_ = true;
        return std::nullopt;
      }
      if (watchdog_.idle && watchdog_.limit > 0) {
        // Every rank is waiting: act together once no producer has moved for too long.
        double mine[2] = {-watchdog_.idle(), 0}, agreed[2] = {0, 0};
        if (rank_ == 0 && watchdog_.complete && watchdog_.complete()) mine[1] = 1;
        MPI_Allreduce(mine, agreed, 2, MPI_DOUBLE, MPI_MAX, comm_);
        const double least = -agreed[0];
        if (least > watchdog_.limit && agreed[1] > 0) {
          buffer_.close();
          continue;
        }
        if (least > watchdog_.limit) {
          std::ostringstream os;
          os << "waited for training data, but no simulation sent anything for " << least
             << " s ([online] sim_timeout = " << watchdog_.limit << ")";
          if (watchdog_.describe) os << "; " << watchdog_.describe();
          throw CollectiveError(os.str());
        }
      }
      continue;  // every rank is waiting for data: try again together
    }
    training::Batch b;
    b.global_size = global[0];
    b.offset = before;  // objectives seed their draws by it
    drawn_ += static_cast<std::int64_t>(got.size());
    last_drawn_.clear();
    for (const auto& g : got) last_drawn_.emplace_back(g.sim_id, g.index);
    if (got.empty()) {
      auto in = input_shape_, out = target_shape_;
      in.insert(in.begin(), 0);
      out.insert(out.begin(), 0);
      b.x = torch::empty(in);
      b.y = torch::empty(out);
      if (cond_dim_ > 0) b.cond = torch::empty({0, cond_dim_});
    } else {
      std::vector<torch::Tensor> xs, ys, cs;
      for (auto& s : got) {
        const auto e = example_of(s, task_.get());
        xs.push_back(e.input);
        ys.push_back(e.target);
        if (e.cond.defined()) cs.push_back(e.cond);
      }
      b.x = torch::stack(xs);
      b.y = torch::stack(ys);
      if (!cs.empty()) b.cond = torch::stack(cs);
    }
    return b;
  }
}

}  // namespace pdestream::online_training
