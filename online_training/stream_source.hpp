#pragma once
// The online trainer's DataSource: batches drawn from this rank's SampleBuffer.
//
// Every trainer rank draws its shard of the global batch from its own buffer, waiting at
// most `wait_timeout` seconds for a full shard before it trains on what it has (possibly
// nothing: a zero-size shard still joins the gradient allreduce). One small allreduce per
// batch agrees on the global batch size and on the end of the stream, so ranks whose
// simulations run at different speeds never deadlock and all stop at the same step.
//
// Never forever: while every rank waits, a watchdog (set_watchdog) asks how long the
// producers have been idle. Past the limit, the stream ends if the producers say no more
// work will come (the buffers close and drain: a simulation that hangs after its data was
// judged lost cannot hold training back), and otherwise every rank throws one error.

#include <mpi.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "online_training/buffer.hpp"
#include "training/data_source.hpp"

namespace pdestream::online_training {

class StreamSource : public training::DataSource {
 public:
  // `input_shape`/`target_shape`: one example's shapes, `cond_dim` its condition's length
  // (for empty shards). `task` makes the tensors of samples stored as a trajectory.
  StreamSource(SampleBuffer& buffer, std::int64_t global_batch, MPI_Comm comm, double wait_timeout,
               std::vector<std::int64_t> input_shape, std::vector<std::int64_t> target_shape,
               std::int64_t cond_dim = 0, std::shared_ptr<const surrogates::Task> task = nullptr);

  void begin_epoch(std::int64_t epoch, std::int64_t first_batch = 0) override;
  std::optional<training::Batch> next() override;
  std::int64_t batches_per_epoch() const override { return -1; }
  std::int64_t examples_per_epoch() const override { return -1; }

  std::int64_t examples_drawn() const { return drawn_; }
  double wait_seconds() const { return wait_; }  // time next() spent waiting for data
  // (sample, example index) of this rank's shard of the last batch, in draw order.
  const std::vector<std::pair<std::int64_t, std::int64_t>>& last_drawn() const { return last_drawn_; }

  struct Watchdog {
    std::function<double()> idle;       // seconds since this rank's producer made progress
    double limit = 0;                   // 0: wait forever
    std::function<bool()> complete;     // no more data will be produced (asked on rank 0)
    std::function<std::string()> describe;  // rank 0's state, for the error message
  };
  // When every rank is waiting and the least idle one has been idle for more than `limit`
  // seconds: if rank 0's `complete()`, every rank closes its buffer (the stream drains and
  // ends); otherwise next() throws CollectiveError on every rank.
  void set_watchdog(Watchdog watchdog) { watchdog_ = std::move(watchdog); }

 private:
  SampleBuffer& buffer_;
  std::int64_t global_batch_;
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  double wait_timeout_;
  std::vector<std::int64_t> input_shape_, target_shape_;
  std::int64_t cond_dim_ = 0;
  std::shared_ptr<const surrogates::Task> task_;
  std::int64_t drawn_ = 0;
  double wait_ = 0;
  bool ended_ = false;
  std::vector<std::pair<std::int64_t, std::int64_t>> last_drawn_;
  Watchdog watchdog_;
};

}  // namespace pdestream::online_training
