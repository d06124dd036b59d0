#pragma once
// The online trainer's sample buffers, with Melissa's semantics, behind one interface.
//
//   fifo       every sample is used once, in arrival order.
//   firo       random draws with removal: a sample is drawn up to `pseudo_epochs` times,
//              then removed; training waits for `threshold` samples.
//   reservoir  training waits for `threshold` samples (the watermark); random draws
//              without removal; when full, a new sample replaces a sample that has already
//              been seen (never an unseen one); after close() the buffer drains (draws
//              with removal until empty).
//
// Thread safety: one producer (the receiving thread) and one consumer (the training loop)
// may call concurrently; every member locks. put() never blocks (it reports "full", so the
// producer can keep answering control messages and stop returning credits instead); get()
// blocks until a batch can be drawn or the stream has ended.
//
//   [online]
//   buffer = "reservoir"     # fifo | firo | reservoir
//   buffer_capacity = 1000
//   buffer_threshold = 100
//   pseudo_epochs = 4        # firo

#include <torch/types.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace pdestream::surrogates {
struct Trajectory;
struct Example;
class Task;
}  // namespace pdestream::surrogates

namespace pdestream::online_training {

struct Sample {
  std::int64_t sim_id = -1;  // the simulation it came from
  std::int64_t index = 0;    // example index within that simulation
  torch::Tensor input;       // unbatched, as Task::example gives it
  torch::Tensor target;
  std::int64_t seen = 0;     // times drawn for training
  torch::Tensor cond;        // [P] when the task has a condition, else undefined
  // A finished simulation is stored once: its samples share the trajectory, and input,
  // target and cond stay undefined until a batch needs them (example_of), so a trajectory
  // is not copied into k overlapping autoregressive windows or Nt N / M pointwise blocks.
  std::shared_ptr<const surrogates::Trajectory> trajectory;
};

// The sample's example: its stored tensors, or the task's example `index` of its trajectory
// (a one-line error if the sample holds a trajectory and `task` is null).
surrogates::Example example_of(const Sample& sample, const surrogates::Task* task);

struct BufferOptions {
  std::string kind = "fifo";  // fifo | firo | reservoir
  std::int64_t capacity = 1000;
  std::int64_t threshold = 0;  // firo, reservoir: samples before the first draw (clamped to capacity)
  std::int64_t pseudo_epochs = 1;  // firo: draws per sample before removal
  std::uint64_t seed = 0;
};

struct BufferStats {
  std::int64_t size = 0, capacity = 0;
  std::int64_t put = 0;       // samples accepted
  std::int64_t rejected = 0;  // put() calls refused because the buffer was full
  std::int64_t drawn = 0;     // draws handed to training (a sample drawn twice counts twice)
  std::int64_t removed = 0;   // samples that left the buffer (used up, evicted or drained)
  double wait_seconds = 0;    // time get() spent waiting for data
  // histogram[k]: samples (removed ones and current ones) seen exactly k times; the last
  // bin collects k >= histogram.size() - 1.
  std::vector<std::int64_t> histogram;
};

class SampleBuffer {
 public:
  explicit SampleBuffer(BufferOptions options);
  virtual ~SampleBuffer() = default;
  SampleBuffer(const SampleBuffer&) = delete;
  SampleBuffer& operator=(const SampleBuffer&) = delete;

  const BufferOptions& options() const { return options_; }
  std::string kind() const { return options_.kind; }

  // Add a sample; false (and the sample untouched) when there is no room, or after close()
  // (a late put racing with shutdown is refused, not an error). Counted in stats().rejected.
  bool put(Sample& sample);
  // Up to n distinct samples for training (copies that share tensor storage, with their
  // seen counts after this draw). Blocks until the buffer's rule allows n draws — it holds
  // min(n, capacity) samples and, for firo/reservoir, min(threshold, capacity) and at least
  // one — or until close(); after close() it returns what is left without waiting (fewer
  // than n, possibly none: an empty result means the stream is over and drained).
  std::vector<Sample> get(std::int64_t n);
  // Like get(), but gives up after `timeout_s` seconds (returns empty; check closed()).
  std::vector<Sample> get_for(std::int64_t n, double timeout_s);
  // No more put()s will come: get() stops waiting and the buffer drains.
  void close();
  bool closed() const;

  std::int64_t size() const;
  BufferStats stats() const;

  // Checkpoint: the current samples (with their seen counts), in the buffer's order.
  // restore() replaces the samples (at most capacity) and wakes get(); it leaves closed()
  // and the stats counters alone (a resumed job counts from the resume; the histogram still
  // shows the restored samples' seen counts). The random generator is not checkpointed.
  std::vector<Sample> snapshot() const;
  void restore(std::vector<Sample> samples);

 protected:
  // Under the lock. Whether a sample can be added (possibly after evicting one to free a place).
  virtual bool make_room_locked() = 0;
  // Under the lock, when ready_locked(n) or closed, never empty: draw up to n samples and
  // update seen counts (closed_ tells a reservoir to drain).
  virtual std::vector<Sample> draw_locked(std::int64_t n) = 0;
  // Under the lock: whether get(n) may draw now.
  virtual bool ready_locked(std::int64_t n) const = 0;

  void record_removed_locked(const Sample& s);  // histogram + removed counter

  BufferOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Sample> samples_;
  bool closed_ = false;
  std::mt19937_64 rng_;
  BufferStats stats_;

 private:
  // get() and get_for(): wait (forever without a timeout) until closed or ready, then draw.
  std::vector<Sample> wait_and_draw(std::int64_t n, std::optional<double> timeout_s);
};

// Builds the buffer that options.kind names; an unknown kind is an error listing the kinds.
std::unique_ptr<SampleBuffer> make_buffer(const BufferOptions& options);
std::vector<std::string> buffer_kinds();

}  // namespace pdestream::online_training
