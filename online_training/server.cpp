#include "online_training/server.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "core/error.hpp"
#include "surrogates/field_tensor.hpp"

namespace pdestream::online_training {

namespace {
using Clock = std::chrono::steady_clock;
namespace pr = protocol;

std::vector<char> receive_bytes(MPI_Comm comm, const MPI_Status& st) {
  int n = 0;
  MPI_Get_count(&st, MPI_BYTE, &n);
  std::vector<char> bytes(static_cast<std::size_t>(n));
  MPI_Recv(bytes.data(), n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, comm, MPI_STATUS_IGNORE);
  return bytes;
}

bool probe(MPI_Comm comm, int tag, MPI_Status& st) {
  int flag = 0;
  MPI_Iprobe(MPI_ANY_SOURCE, tag, comm, &flag, &st);
  return flag != 0;
}
}  // namespace

nlohmann::json ServerStats::to_json() const {
  return {{"blocks", blocks},       {"bytes", bytes},
          {"steps", steps},         {"sims_ok", sims_ok},
          {"sims_failed", sims_failed}, {"examples", examples},
          {"discarded_blocks", discarded_blocks}, {"data_sent", data_sent},
          {"sim_credit_wait", sim_credit_wait}, {"sim_solve_seconds", sim_solve_seconds}};
}

// One simulation's data on its way to becoming a trajectory.
struct Server::Staging {
  std::int64_t sample = 0;
  std::vector<double> params;
  std::int64_t group_size = 0;  // 0 until a DATA or END says
  std::map<std::int64_t, torch::Tensor> frames;  // step -> [C, X, Y, Z] float32
  std::map<std::int64_t, std::int64_t> blocks_in_step;
  std::map<std::int64_t, double> times;
  std::map<int, std::int64_t> blocks_from;
  std::map<int, pr::EndReport> ends;
  Clock::time_point last = Clock::now();

  // Steps 0, 1, ... whose blocks have all arrived, up to the first gap.
  std::int64_t complete_steps() const {
    std::int64_t k = 0;
    for (auto it = blocks_in_step.find(k); it != blocks_in_step.end() && it->second == group_size;
         it = blocks_in_step.find(++k)) {
    }
    return k;
  }
  // The first `steps` steps as a trajectory [steps, C, *spatial].
  surrogates::Trajectory trajectory(std::int64_t steps, const Grid& grid, int channels) const {
    surrogates::Trajectory t;
    t.params = params;
    std::vector<std::int64_t> shape = {channels};
    shape.insert(shape.end(), grid.shape.begin(), grid.shape.begin() + grid.dim);
    std::vector<torch::Tensor> stacked;
    for (std::int64_t k = 0; k < steps; ++k) {
      t.times.push_back(times.at(k));
      stacked.push_back(frames.at(k).reshape(shape));
    }
    t.frames = torch::stack(stacked);
    return t;
  }
};

Server::Server(MPI_Comm online, const Roles& roles, const OnlineOptions& options, Grid grid, int channels,
               std::shared_ptr<const surrogates::Task> task, SampleBuffer& buffer, Coordinator* coordinator)
    : online_(online),
      roles_(roles),
      options_(options),
      grid_(grid),
      channels_(channels),
      task_(std::move(task)),
      buffer_(buffer),
      coordinator_(coordinator) {
  if (coordinator_) {
    // Called from this server's own thread (the coordinator runs inside loop()).
    coordinator_->set_local_assign([this](std::int64_t sim_id, std::int64_t sample) {
      auto& s = staging_[sim_id];
      if (!s) s = std::make_unique<Staging>();
      s->sample = sample;
      s->last = Clock::now();
    });
  }
}

Server::~Server() {
  if (thread_.joinable()) {
    stop_ = true;
    thread_.join();
  }
}

void Server::mark_progress() {
  last_progress_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

double Server::idle_seconds() const {
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  return static_cast<double>(now - last_progress_ns_.load()) * 1e-9;
}

void Server::start() {
  mark_progress();
  thread_ = std::thread([this] {
    try {
      loop();
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = e.what();
      if (const auto* pe = dynamic_cast<const Error*>(&e)) error_ = pe->message();
    }
    buffer_.close();
    finished_ = true;
    cv_.notify_all();
  });
}

void Server::loop() {
  int backoff = 50;
  Clock::time_point stop_since;
  bool stop_seen = false;
  for (;;) {
    bool progress = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_ && !stop_seen) {
        stop_seen = true;
        stop_since = Clock::now();
        if (coordinator_) coordinator_->stop();
        pending_.clear();
      }
      if (coordinator_) progress |= coordinator_->poll();
      progress |= poll_control();
      progress |= flush_pending();
      if (pending_.empty())
        progress |= poll_data();
      else
        hold_timeouts();
      check_timeouts();
      if (all_left() && pending_.empty() && (!coordinator_ || coordinator_->finished())) return;
    }
    if (stop_seen && options_.shutdown_timeout > 0 &&
        std::chrono::duration<double>(Clock::now() - stop_since).count() > options_.shutdown_timeout) {
      timed_out_ = true;
      return;
    }
    if (progress) {
      mark_progress();
      backoff = 50;
    } else {
      // Idle: sleep with back-off so the thread does not take a core from training.
      std::this_thread::sleep_for(std::chrono::microseconds(backoff));
      backoff = std::min(backoff * 2, 2000);
    }
  }
}

bool Server::poll_control() {
  bool progress = false;
  MPI_Status st;
  while (probe(online_, pr::ASSIGN, st)) {
    double a[2];
    MPI_Recv(a, 2, MPI_DOUBLE, st.MPI_SOURCE, pr::ASSIGN, online_, MPI_STATUS_IGNORE);
    const auto sim_id = static_cast<std::int64_t>(a[0]);
    if (!dead_.count(sim_id)) {
      auto& s = staging_[sim_id];
      if (!s) s = std::make_unique<Staging>();
      s->sample = static_cast<std::int64_t>(a[1]);
      s->last = Clock::now();
    }
    progress = true;
  }
  while (probe(online_, pr::END, st)) {
    const auto end = pr::EndReport::decode(receive_bytes(online_, st));
    ++ends_from_[st.MPI_SOURCE];
    stats_.sim_credit_wait += end.credit_wait;
    stats_.sim_solve_seconds += end.solve_seconds;
    if (!dead_.count(end.sim_id) && !stop_) {
      auto& s = staging_[end.sim_id];
      if (!s) s = std::make_unique<Staging>();
      s->ends[st.MPI_SOURCE] = end;
      s->group_size = end.group_size;
      s->last = Clock::now();
      try_finalize(end.sim_id);
    }
    progress = true;
  }
  while (probe(online_, pr::BYE, st)) {
    std::int64_t totals[2];
    MPI_Recv(totals, 2, MPI_INT64_T, st.MPI_SOURCE, pr::BYE, online_, MPI_STATUS_IGNORE);
    bye_[st.MPI_SOURCE] = {totals[0], totals[1]};
    stats_.data_sent += totals[0];
    progress = true;
  }
  return progress;
}

bool Server::poll_data() {
  bool progress = false;
  MPI_Status st;
  // A bounded batch per pass keeps control messages and the coordinator responsive.
  for (int k = 0; k < 32 && pending_.empty() && probe(online_, pr::DATA, st); ++k) {
    const auto bytes = receive_bytes(online_, st);
    const std::int64_t one = 1;
    MPI_Send(&one, 1, MPI_INT64_T, st.MPI_SOURCE, pr::CREDIT, online_);
    ++data_from_[st.MPI_SOURCE];
    ++stats_.blocks;
    stats_.bytes += static_cast<double>(bytes.size());
    take_block(bytes, st.MPI_SOURCE);
    progress = true;
  }
  return progress;
}

void Server::take_block(const std::vector<char>& bytes, int source) {
  pr::DataMessage m;
  try {
    m = pr::unpack_data(bytes);
  } catch (const Error& e) {
    pr::DataHeader h;
    if (bytes.size() < sizeof(h)) throw;  // not even a header: nothing to attribute it to
    std::memcpy(&h, bytes.data(), sizeof(h));
    ++stats_.discarded_blocks;
    fail(h.sim_id, e.message());
    return;
  }
  const auto& h = m.header;
  if (dead_.count(h.sim_id) || stop_) {
    ++stats_.discarded_blocks;
    return;
  }
  auto& sp = staging_[h.sim_id];
  if (!sp) sp = std::make_unique<Staging>();
  Staging& s = *sp;
  s.sample = h.sample;
  s.params = m.params;
  s.group_size = h.group_size;
  s.last = Clock::now();
  ++s.blocks_from[source];
  const Box box = m.box();
  for (int a = 0; a < 3; ++a) {
    if (box.lo[a] < 0 || box.hi[a] > grid_.shape[a]) {
      fail(h.sim_id, "block of step " + std::to_string(h.step) + " lies outside the grid");
      return;
    }
  }
  if (h.channels != channels_) {
    fail(h.sim_id, "block has " + std::to_string(h.channels) + " channels, expected " + std::to_string(channels_));
    return;
  }
  auto& frame = s.frames[h.step];
  if (!frame.defined())
    frame = torch::zeros({channels_, grid_.shape[0], grid_.shape[1], grid_.shape[2]}, torch::kFloat32);
  auto block = surrogates::block_view(m.payload, box, h.channels);
  if (!torch::isfinite(block).all().item<bool>()) {
    fail(h.sim_id, "non-finite values at output " + std::to_string(h.step));
    return;
  }
  frame.slice(1, box.lo[0], box.hi[0]).slice(2, box.lo[1], box.hi[1]).slice(3, box.lo[2], box.hi[2]).copy_(block);
  s.times[h.step] = h.time;
  if (++s.blocks_in_step[h.step] == s.group_size) ++stats_.steps;
  try_finalize(h.sim_id);
}

void Server::try_finalize(std::int64_t sim_id) {
  auto it = staging_.find(sim_id);
  if (it == staging_.end()) return;
  Staging& s = *it->second;
  if (s.group_size == 0 || static_cast<std::int64_t>(s.ends.size()) < s.group_size) return;
  for (const auto& [rank, end] : s.ends)
    if (s.blocks_from[rank] < end.blocks) return;  // END overtook some of that rank's DATA
  std::string failure;
  for (const auto& [rank, end] : s.ends)
    if (end.failed && failure.empty()) failure = end.reason;
  const std::int64_t complete = s.complete_steps();
  if (failure.empty() && complete != s.ends.begin()->second.blocks)
    failure = "steps 0.." + std::to_string(s.ends.begin()->second.blocks - 1) + " expected, " +
              std::to_string(complete) + " complete";
  if (!failure.empty()) {
    fail(sim_id, failure);
    return;
  }
  surrogates::Trajectory t = s.trajectory(complete, grid_, channels_);
  const std::int64_t sample = s.sample;
  staging_.erase(it);
  pr::Result r;
  r.sim_id = sim_id;
  r.sample = sample;
  if (sample < 0) {
    validation_.emplace_back(sample, std::move(t));
    if (options_.trainer_fault("validation", static_cast<std::int64_t>(validation_.size())))
      kill_self("trainer rank " + std::to_string(roles_.world_rank) + " dies after " +
                std::to_string(validation_.size()) + " validation simulation(s) arrived");
    cv_.notify_all();
  } else {
    r.examples = queue_examples(sample, t);
    done_.insert(sample);
  }
  ++stats_.sims_ok;
  report(r);
}

void Server::fail(std::int64_t sim_id, const std::string& reason) {
  if (dead_.count(sim_id)) return;
  dead_.insert(sim_id);
  pr::Result r;
  r.sim_id = sim_id;
  r.failed = 1;
  r.reason = reason;
  auto it = staging_.find(sim_id);
  if (it != staging_.end()) {
    Staging& s = *it->second;
    r.sample = s.sample;
    if (options_.keep_partial && s.sample >= 0 && s.group_size > 0) {
      // The complete steps before the failure still are valid simulation output.
      const std::int64_t complete = s.complete_steps();
      if (complete > 0) r.examples = queue_examples(s.sample, s.trajectory(complete, grid_, channels_));
    }
    staging_.erase(it);
  }
  ++stats_.sims_failed;
  report(r);
}

std::int64_t Server::queue_examples(std::int64_t sample, const surrogates::Trajectory& t) {
  const auto n = std::max<std::int64_t>(task_->num_examples(surrogates::TrajectoryShape::of(t)), 0);
  // One copy of the trajectory for all its samples; their tensors are made when drawn.
  auto shared = std::make_shared<const surrogates::Trajectory>(t);
  for (std::int64_t i = 0; i < n; ++i) pending_.push_back(Sample{sample, i, {}, {}, 0, {}, shared});
  return n;
}

void Server::report(const pr::Result& r) {
  if (coordinator_) {
    coordinator_->on_result(r);
    return;
  }
  const auto bytes = r.encode();
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, 0, pr::RESULT, online_);
}

bool Server::flush_pending() {
  bool progress = false;
  while (!pending_.empty()) {
    if (!buffer_.put(pending_.front())) break;
    pending_.pop_front();
    ++stats_.examples;
    progress = true;
  }
  return progress;
}

// Backpressure: with examples waiting for room in the buffer the server takes in no blocks,
// so no credits go back and the simulations cannot send. Silence then says nothing about
// them: their clocks restart, and sim_timeout counts only time in which they could send.
void Server::hold_timeouts() {
  const auto now = Clock::now();
  for (auto& [id, s] : staging_) s->last = now;
}

void Server::check_timeouts() {
  if (options_.sim_timeout <= 0 || stop_) return;
  const auto now = Clock::now();
  std::vector<std::int64_t> late;
  for (const auto& [id, s] : staging_)
    if (std::chrono::duration<double>(now - s->last).count() > options_.sim_timeout) late.push_back(id);
  for (auto id : late) {
    std::ostringstream os;
    os << "timeout: no message for " << options_.sim_timeout << " s";
    fail(id, os.str());
  }
}

bool Server::all_left() const {
  if (static_cast<int>(bye_.size()) < roles_.sim_ranks()) return false;
  for (const auto& [rank, b] : bye_) {
    auto d = data_from_.find(rank);
    auto e = ends_from_.find(rank);
    if ((d == data_from_.end() ? 0 : d->second) < b.data) return false;
    if ((e == ends_from_.end() ? 0 : e->second) < b.ends) return false;
  }
  return true;
}

bool Server::shutdown() {
  stop_ = true;
  join();
  return !timed_out_;
}

void Server::join() {
  if (thread_.joinable()) thread_.join();
}

std::vector<surrogates::Trajectory> Server::take_validation(const std::function<std::int64_t()>& expected) {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto start = Clock::now();
  while (static_cast<std::int64_t>(validation_.size()) < expected() && !finished_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    const double idle = idle_seconds();
    PDS_CHECK(options_.sim_timeout <= 0 || idle <= options_.sim_timeout,
              "waited " << std::chrono::duration<double>(Clock::now() - start).count()
                        << " s for the validation simulations: " << validation_.size() << " of " << expected()
                        << " arrived, and no simulation sent anything for " << idle
                        << " s ([online] sim_timeout = " << options_.sim_timeout << ")");
  }
  PDS_CHECK(static_cast<std::int64_t>(validation_.size()) >= expected() && !validation_.empty(),
            "the online job has " << validation_.size() << " validation simulations, expected " << expected()
                                  << (error_.empty() ? "" : " (" + error_ + ")"));
  // In sample order (-1, -2, ...), not arrival order: the validation set is the same set
  // in the same order on every run.
  std::sort(validation_.begin(), validation_.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<surrogates::Trajectory> out;
  for (auto& v : validation_) out.push_back(std::move(v.second));
  validation_.clear();
  return out;
}

Server::Snapshot Server::snapshot() {
  std::lock_guard<std::mutex> lock(mutex_);
  Snapshot s;
  s.samples = buffer_.snapshot();
  s.samples.insert(s.samples.end(), pending_.begin(), pending_.end());
  s.done = done_;
  // The coordinator only changes inside this thread's loop, under this lock.
  if (coordinator_) s.coordinator = coordinator_->state();
  return s;
}

void Server::restore_done(const std::set<std::int64_t>& done) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
}

void Server::restore_pending(std::vector<Sample> samples) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& s : samples) pending_.push_back(std::move(s));
}

std::string Server::not_left() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream os;
  const char* sep = "";
  for (int r = roles_.trainers; r < roles_.world_size; ++r) {
    auto b = bye_.find(r);
    const auto got = [&](const std::map<int, std::int64_t>& m) {
      auto it = m.find(r);
      return it == m.end() ? std::int64_t{0} : it->second;
    };
    if (b == bye_.end()) {
      os << sep << "rank " << r << " (no BYE)";
    } else if (got(data_from_) < b->second.data || got(ends_from_) < b->second.ends) {
      os << sep << "rank " << r << " (" << got(data_from_) << " of " << b->second.data << " DATA, " << got(ends_from_)
         << " of " << b->second.ends << " END received)";
    } else {
      continue;
    }
    sep = ", ";
  }
  return os.str();
}

ServerStats Server::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

std::string Server::error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

}  // namespace pdestream::online_training
