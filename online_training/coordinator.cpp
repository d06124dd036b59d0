// The coordinator half of trainer rank 0's server thread: the work queue and the accounts.

#include <algorithm>
#include <chrono>

#include "core/error.hpp"
#include "online_training/server.hpp"

namespace pdestream::online_training {

namespace pr = protocol;

nlohmann::json CoordinatorState::to_json() const {
  return {{"position", position},
          {"done", std::vector<std::int64_t>(done.begin(), done.end())},
          {"redrawn", std::vector<std::int64_t>(redrawn.begin(), redrawn.end())},
          {"skipped", std::vector<std::int64_t>(skipped.begin(), skipped.end())},
          {"failures", failures},
          {"failure_reasons", failure_reasons}};
}

std::int64_t json_int(const nlohmann::json& v, const std::string& what) {
  PDS_CHECK(v.is_number_integer() &&
                (!v.is_number_unsigned() || v.get<std::uint64_t>() <= std::uint64_t(INT64_MAX)),
            "\"" << what << "\": expected an integer, got " << v.dump().substr(0, 40));
  return v.get<std::int64_t>();
}

namespace {

std::set<std::int64_t> json_int_set(const nlohmann::json& v, const std::string& what) {
  PDS_CHECK(v.is_array(), "\"" << what << "\": expected a list of integers, got " << v.dump().substr(0, 40));
  std::set<std::int64_t> out;
  for (const auto& e : v) out.insert(json_int(e, what));
  return out;
}

}  // namespace

CoordinatorState CoordinatorState::from_json(const nlohmann::json& j) {
  PDS_CHECK(j.is_object(), "expected an object of the coordinator's accounts, got " << j.dump().substr(0, 40));
  CoordinatorState s;
  const auto position = json_int(j.at("position"), "position");
  PDS_CHECK(position >= 0, "\"position\": expected >= 0, got " << position);
  s.position = static_cast<std::uint64_t>(position);
  s.done = json_int_set(j.at("done"), "done");
  s.redrawn = json_int_set(j.at("redrawn"), "redrawn");
  s.skipped = json_int_set(j.at("skipped"), "skipped");
  s.failures = json_int(j.at("failures"), "failures");
  const auto& reasons = j.at("failure_reasons");
  PDS_CHECK(reasons.is_object(), "\"failure_reasons\": expected an object, got " << reasons.dump().substr(0, 40));
  for (auto it = reasons.begin(); it != reasons.end(); ++it) s.failure_reasons[it.key()] = json_int(*it, "failure_reasons");
  return s;
}

Coordinator::Coordinator(ParameterSpace space, std::string sampler_kind, std::uint64_t seed,
                         std::vector<std::string> solver_params, Parameters defaults, std::int64_t budget,
                         const OnlineOptions& options, const Roles& roles, MPI_Comm online)
    : space_(space),
      solver_params_(std::move(solver_params)),
      defaults_(std::move(defaults)),
      budget_(budget),
      options_(options),
      roles_(roles),
      online_(online),
      start_(std::chrono::steady_clock::now()) {
  sampler_ = std::make_unique<ParameterSampler>(space, make_sampler(sampler_kind, space.size(), seed));
  // Held-out parameters: the same space and sampler kind with seed + 1, so that
  // `pdestream generate --set sampler.seed=<seed + 1>` reproduces the validation set.
  validation_sampler_ = std::make_unique<ParameterSampler>(space, make_sampler(sampler_kind, space.size(), seed + 1));
}

std::vector<double> Coordinator::full_params(const Parameters& p) const {
  std::vector<double> v;
  for (const auto& name : solver_params_) {
    auto it = p.find(name);
    v.push_back(it != p.end() ? it->second : defaults_.at(name));
  }
  return v;
}

void Coordinator::restore(const CoordinatorState& state) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = state;
  // Samples drawn before the checkpoint whose examples never reached a buffer run again,
  // with the same parameters; the sampler continues after the last drawn one.
  for (std::uint64_t s = 0; s < state_.position; ++s) {
    const auto id = static_cast<std::int64_t>(s);
    if (state_.done.count(id) || state_.redrawn.count(id) || state_.skipped.count(id)) continue;
    sampler_->sampler().seek(s);
    pr::WorkItem w;
    w.sample = id;
    w.params = full_params(sampler_->next());
    queue_.push_back(w);
  }
  sampler_->sampler().seek(state_.position);
}

pr::WorkItem Coordinator::next_item(int leader, bool& defer) {
  defer = false;
  pr::WorkItem w;  // STOP
  if (stopping_) return w;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const bool time_over = options_.time_budget > 0 && elapsed >= options_.time_budget;
  std::int64_t running_training = 0;
  for (const auto& [id, item] : running_) running_training += item.validation() ? 0 : 1;
  std::int64_t queued_training = 0;
  for (const auto& item : queue_) queued_training += item.validation() ? 0 : 1;
  const auto committed =
      static_cast<std::int64_t>(state_.done.size() + state_.skipped.size()) + queued_training + running_training;
  if (validation_issued_ < options_.validation_samples && options_.validation_path.empty()) {
    ++validation_issued_;
    w.sample = -validation_issued_;
    w.params = full_params(validation_sampler_->next());
    w.trainer = 0;
  } else if (!queue_.empty() && queue_.front().validation()) {
    w = queue_.front();
    queue_.pop_front();
  } else if (validation_done_ + validation_dropped_ < validation_issued_) {
    // The held-out set comes first: training waits for it (it also fits the normalisers),
    // and training data must not fill the buffer before it has arrived.
    defer = true;
    return w;
  } else if (!queue_.empty() && !time_over) {
    w = queue_.front();
    queue_.pop_front();
  } else if (committed < budget_ && !time_over) {
    w.sample = static_cast<std::int64_t>(state_.position++);
    w.params = full_params(sampler_->next());
  } else if (!running_.empty()) {
    defer = true;  // a failure may still need this group
    return w;
  } else {
    return w;
  }
  w.sim_id = next_sim_id_++;
  if (!w.validation()) {
    const int group = (leader - roles_.trainers) / roles_.ranks_per_sim;
    w.trainer = options_.assignment == "by_group" ? group % roles_.trainers
                                                  : static_cast<int>(issued_training_ % roles_.trainers);
    ++issued_training_;
  }
  return w;
}

bool Coordinator::serve(int leader) {
  bool defer = false;
  pr::WorkItem w;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    w = next_item(leader, defer);
    if (defer) return false;
    if (w.stop())
      ++groups_stopped_;
    else
      running_[w.sim_id] = w;
  }
  if (!w.stop()) {
    // The receiving trainer starts the simulation's timeout clock now, before any data.
    const double assign[2] = {double(w.sim_id), double(w.sample)};
    if (w.trainer == 0 && local_assign_)
      local_assign_(w.sim_id, w.sample);
    else
      MPI_Send(assign, 2, MPI_DOUBLE, w.trainer, pr::ASSIGN, online_);
  }
  const auto buffer = w.encode();
  MPI_Send(buffer.data(), static_cast<int>(buffer.size()), MPI_DOUBLE, leader, pr::WORK, online_);
  return true;
}

bool Coordinator::poll() {
  bool progress = false;
  for (;;) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, pr::RESULT, online_, &flag, &st);
    if (!flag) break;
    int n = 0;
    MPI_Get_count(&st, MPI_BYTE, &n);
    std::vector<char> bytes(static_cast<std::size_t>(n));
    MPI_Recv(bytes.data(), n, MPI_BYTE, st.MPI_SOURCE, pr::RESULT, online_, MPI_STATUS_IGNORE);
    on_result(pr::Result::decode(bytes));
    progress = true;
  }
  for (;;) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, pr::REQUEST, online_, &flag, &st);
    if (!flag) break;
    std::int64_t hello = 0;
    MPI_Recv(&hello, 1, MPI_INT64_T, st.MPI_SOURCE, pr::REQUEST, online_, MPI_STATUS_IGNORE);
    waiting_.push_back(st.MPI_SOURCE);
    progress = true;
  }
  // Held-back requests are answered in arrival order once there is work or nothing left.
  while (!waiting_.empty() && serve(waiting_.front())) {
    waiting_.pop_front();
    progress = true;
  }
  return progress;
}

void Coordinator::on_result(const pr::Result& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = running_.find(r.sim_id);
  if (it == running_.end()) return;  // already judged (e.g. timed out, then reported)
  pr::WorkItem item = it->second;
  running_.erase(it);
  if (!r.failed) {
    if (item.validation())
      ++validation_done_;
    else {
      state_.done.insert(item.sample);
      ++sims_ok_;
    }
    return;
  }
  ++state_.failures;
  const std::string kind = r.reason.find("timeout") != std::string::npos      ? "timeout"
                           : r.reason.find("non-finite") != std::string::npos ? "non-finite"
                           : r.reason.find("checksum") != std::string::npos   ? "corrupt"
                                                                               : "error";
  ++state_.failure_reasons[kind];
  failure_log_.push_back({{"sim_id", r.sim_id}, {"sample", item.sample}, {"attempt", item.attempt},
                          {"kind", kind}, {"reason", r.reason}});
  const bool retry = item.validation() || options_.on_failure == "retry";
  if (retry && item.attempt < options_.max_retries) {
    item.attempt += 1;
    item.sim_id = -1;
    queue_.push_front(item);
  } else if (item.validation()) {
    ++validation_dropped_;
  } else if (options_.on_failure == "redraw") {
    state_.redrawn.insert(item.sample);
  } else {
    state_.skipped.insert(item.sample);
  }
}

void Coordinator::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = true;
}

bool Coordinator::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return groups_stopped_ >= roles_.groups();
}

bool Coordinator::work_complete() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!running_.empty() || !queue_.empty()) return false;
  if (stopping_) return true;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const bool time_over = options_.time_budget > 0 && elapsed >= options_.time_budget;
  return time_over || static_cast<std::int64_t>(state_.done.size() + state_.skipped.size()) >= budget_;
}

CoordinatorState Coordinator::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

nlohmann::json Coordinator::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::int64_t running_training = 0;
  for (const auto& [id, item] : running_) running_training += item.validation() ? 0 : 1;
  return {{"sims_done", static_cast<std::int64_t>(state_.done.size())},
          {"sims_running", running_training},
          {"sims_failed", state_.failures},
          {"sims_queued", static_cast<std::int64_t>(queue_.size())},
          {"budget", budget_},
          {"validation_done", validation_done_},
          {"failure_reasons", state_.failure_reasons}};
}

nlohmann::json Coordinator::failure_log() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_log_;
}

std::int64_t Coordinator::validation_expected() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return options_.validation_path.empty() ? options_.validation_samples - validation_dropped_ : 0;
}

std::int64_t Coordinator::validation_resolved() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return validation_done_ + validation_dropped_;
}

}  // namespace pdestream::online_training
