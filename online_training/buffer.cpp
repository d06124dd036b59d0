#include "online_training/buffer.hpp"

#include "surrogates/tasks.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace pdestream::online_training {

namespace {

// Seen counts 0..6 get a bin each; 7 and above share the last one. Reservoir samples can be
// drawn very often, so an open last bin keeps the histogram a fixed, printable size.
constexpr std::size_t kHistogramBins = 8;


void count_seen(std::vector<std::int64_t>& histogram, std::int64_t seen) {
  const auto bin = std::min<std::size_t>(static_cast<std::size_t>(std::max<std::int64_t>(seen, 0)),
                                         histogram.size() - 1);
  ++histogram[bin];
}

// An index in [0, k). Multiply-shift on the engine's raw output instead of
// std::uniform_int_distribution, whose use of the engine is implementation-defined: the same
// seed then gives the same draws with every standard library.
std::size_t below(std::mt19937_64& rng, std::size_t k) {
  return static_cast<std::size_t>((static_cast<unsigned __int128>(rng()) * k) >> 64);
}

// Moves min(n, size) samples chosen at random to the back of `samples` (partial
// Fisher-Yates) and returns the index of the first of them, so callers can pop them cheaply.
std::size_t shuffle_tail(std::vector<Sample>& samples, std::int64_t n, std::mt19937_64& rng) {
  const std::size_t size = samples.size();
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(n), size);
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t last = size - 1 - i;
    std::swap(samples[below(rng, last + 1)], samples[last]);
  }
  return size - k;
}

// Both random kinds wait for the watermark, but never for more than the buffer can hold
// (threshold > capacity would wait forever) and never for an empty buffer (threshold 0).
// They also wait for a full batch while the buffer can hold one, so training sees constant
// batches while the stream runs; after close() get() takes what is there.
std::int64_t watermark(const BufferOptions& o, std::int64_t n) {
  return std::max({std::int64_t{1}, std::min(o.threshold, o.capacity), std::min(n, o.capacity)});
}

class FifoBuffer final : public SampleBuffer {
 public:
  using SampleBuffer::SampleBuffer;

 protected:
  bool make_room_locked() override { return static_cast<std::int64_t>(samples_.size()) < options_.capacity; }

  bool ready_locked(std::int64_t n) const override {
    return static_cast<std::int64_t>(samples_.size()) >= std::min(n, options_.capacity);
  }

  std::vector<Sample> draw_locked(std::int64_t n) override {
    const auto k = static_cast<std::ptrdiff_t>(std::min<std::size_t>(static_cast<std::size_t>(n), samples_.size()));
    std::vector<Sample> out(std::make_move_iterator(samples_.begin()), std::make_move_iterator(samples_.begin() + k));
    samples_.erase(samples_.begin(), samples_.begin() + k);
    for (auto& s : out) {
      ++s.seen;
      record_removed_locked(s);
    }
    return out;
  }
};

class FiroBuffer final : public SampleBuffer {
 public:
  using SampleBuffer::SampleBuffer;

 protected:
  bool make_room_locked() override { return static_cast<std::int64_t>(samples_.size()) < options_.capacity; }

  bool ready_locked(std::int64_t n) const override {
    return static_cast<std::int64_t>(samples_.size()) >= watermark(options_, n);
  }

  std::vector<Sample> draw_locked(std::int64_t n) override {
    const std::size_t first = shuffle_tail(samples_, n, rng_);
    std::vector<Sample> out;
    out.reserve(samples_.size() - first);
    // Walk the drawn tail backwards so that a used-up sample can be popped in place.
    for (std::size_t i = samples_.size(); i-- > first;) {
      Sample& s = samples_[i];
      ++s.seen;
      out.push_back(s);
      if (s.seen >= options_.pseudo_epochs) {
        record_removed_locked(s);
        if (i + 1 != samples_.size()) std::swap(s, samples_.back());
        samples_.pop_back();
      }
    }
    return out;
  }
};

class ReservoirBuffer final : public SampleBuffer {
 public:
  using SampleBuffer::SampleBuffer;

 protected:
  bool make_room_locked() override {
    if (static_cast<std::int64_t>(samples_.size()) < options_.capacity) return true;
    std::vector<std::size_t> seen;
    for (std::size_t i = 0; i < samples_.size(); ++i)
      if (samples_[i].seen > 0) seen.push_back(i);
    // Evicting an unseen sample would waste simulation work; refusing makes the producer
    // hold its credits until training has looked at something.
    if (seen.empty()) return false;
    const std::size_t victim = seen[below(rng_, seen.size())];
    record_removed_locked(samples_[victim]);
    if (victim + 1 != samples_.size()) std::swap(samples_[victim], samples_.back());
    samples_.pop_back();
    return true;
  }

  bool ready_locked(std::int64_t n) const override {
    return static_cast<std::int64_t>(samples_.size()) >= watermark(options_, n);
  }

  std::vector<Sample> draw_locked(std::int64_t n) override {
    const std::size_t first = shuffle_tail(samples_, n, rng_);
    std::vector<Sample> out;
    out.reserve(samples_.size() - first);
    for (std::size_t i = first; i < samples_.size(); ++i) {
      ++samples_[i].seen;
      out.push_back(samples_[i]);
    }
    // Without removal the stream would never end; once no new samples can come, each draw
    // takes its samples out so the epoch loop reaches an empty buffer.
    if (closed_) {
      for (std::size_t i = first; i < samples_.size(); ++i) record_removed_locked(samples_[i]);
      samples_.erase(samples_.begin() + static_cast<std::ptrdiff_t>(first), samples_.end());
    }
    return out;
  }
};

}  // namespace

SampleBuffer::SampleBuffer(BufferOptions options) : options_(std::move(options)), rng_(options_.seed) {
  PDS_CHECK(options_.capacity >= 1, "online.buffer_capacity must be at least 1, got " << options_.capacity);
  PDS_CHECK(options_.threshold >= 0, "online.buffer_threshold must be >= 0, got " << options_.threshold);
  PDS_CHECK(options_.pseudo_epochs >= 1, "online.pseudo_epochs must be at least 1, got " << options_.pseudo_epochs);
  stats_.capacity = options_.capacity;
  stats_.histogram.assign(kHistogramBins, 0);
}

bool SampleBuffer::put(Sample& sample) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // A late put() racing with shutdown is refused like a full buffer rather than thrown:
    // it runs on the receiving thread, where an exception would end the process.
    if (closed_ || !make_room_locked()) {
      ++stats_.rejected;
      return false;
    }
    samples_.push_back(std::move(sample));
    ++stats_.put;
  }
  cv_.notify_all();
  return true;
}

std::vector<Sample> SampleBuffer::get(std::int64_t n) { return wait_and_draw(n, std::nullopt); }

std::vector<Sample> SampleBuffer::get_for(std::int64_t n, double timeout_s) {
  PDS_CHECK(timeout_s >= 0, "get_for: the timeout must be >= 0 seconds, got " << timeout_s);
  return wait_and_draw(n, timeout_s);
}

std::vector<Sample> SampleBuffer::wait_and_draw(std::int64_t n, std::optional<double> timeout_s) {
  PDS_CHECK(n >= 1, "a buffer draw needs a batch size of at least 1, got " << n);
  std::unique_lock<std::mutex> lock(mutex_);
  const auto can_go = [&] { return closed_ || ready_locked(n); };
  if (!can_go()) {
    const auto start = std::chrono::steady_clock::now();
    bool ready = true;
    if (timeout_s) {
      const auto deadline =
          start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(*timeout_s));
      ready = cv_.wait_until(lock, deadline, can_go);
    } else {
      cv_.wait(lock, can_go);
    }
    stats_.wait_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!ready) return {};
  }
  if (samples_.empty()) return {};
  auto out = draw_locked(n);
  stats_.drawn += static_cast<std::int64_t>(out.size());
  return out;
}

void SampleBuffer::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool SampleBuffer::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

std::int64_t SampleBuffer::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<std::int64_t>(samples_.size());
}

BufferStats SampleBuffer::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  BufferStats s = stats_;
  s.size = static_cast<std::int64_t>(samples_.size());
  for (const auto& sample : samples_) count_seen(s.histogram, sample.seen);
  return s;
}

std::vector<Sample> SampleBuffer::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return samples_;
}

void SampleBuffer::restore(std::vector<Sample> samples) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    PDS_CHECK(static_cast<std::int64_t>(samples.size()) <= options_.capacity,
              "cannot restore " << samples.size() << " samples into a " << options_.kind << " buffer of capacity "
                                << options_.capacity);
    // The replaced samples were neither used nor evicted, so they stay out of the counters.
    samples_ = std::move(samples);
  }
  cv_.notify_all();
}

void SampleBuffer::record_removed_locked(const Sample& s) {
  ++stats_.removed;
  count_seen(stats_.histogram, s.seen);
}

std::vector<std::string> buffer_kinds() { return {"fifo", "firo", "reservoir"}; }

std::unique_ptr<SampleBuffer> make_buffer(const BufferOptions& options) {
  if (options.kind == "fifo") return std::make_unique<FifoBuffer>(options);
  if (options.kind == "firo") return std::make_unique<FiroBuffer>(options);
  if (options.kind == "reservoir") return std::make_unique<ReservoirBuffer>(options);
  PDS_FAIL("unknown online.buffer '" << options.kind << "': expected one of " << join(buffer_kinds()));
}

surrogates::Example example_of(const Sample& sample, const surrogates::Task* task) {
  if (sample.input.defined() || !sample.trajectory) return {sample.input, sample.target, sample.cond};
  PDS_CHECK(task, "stream: a sample stored as a trajectory, but no task to make its example");
  return task->example(*sample.trajectory, sample.index);
}

}  // namespace pdestream::online_training
