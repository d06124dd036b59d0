#pragma once
// The trainer side of an online job. Each trainer rank runs one Server: a thread that
// receives the blocks of the simulations assigned to it, assembles each output step into a
// global field, checks it, turns finished simulations into examples (through the Task) and
// puts them into the rank's buffer, while the training loop draws from that buffer. On
// trainer rank 0 the same thread is the Coordinator: it owns the parameter sampler and the
// work queue, answers the simulation groups' requests and keeps the accounts.
//
// Memory is bounded: when the buffer refuses examples the thread stops receiving DATA, so
// no credits go back and the simulations wait (they are never dropped).

#include <mpi.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/grid.hpp"
#include "core/parameter_space.hpp"
#include "online_training/buffer.hpp"
#include "online_training/online_options.hpp"
#include "online_training/protocol.hpp"
#include "surrogates/tasks.hpp"

namespace pdestream::online_training {

// A JSON integer that fits int64, else a one-line Error naming `what` (nlohmann converts
// 1e30 or 2^64 - 1 with undefined behaviour or wrap-around).
std::int64_t json_int(const nlohmann::json& v, const std::string& what);

// What the coordinator keeps in a checkpoint, and what resume restores.
struct CoordinatorState {
  std::uint64_t position = 0;      // training samples drawn from the sampler so far
  std::set<std::int64_t> done;     // samples whose examples reached a trainer's buffer
  std::set<std::int64_t> redrawn;  // failed samples replaced by new draws (not in the budget)
  std::set<std::int64_t> skipped;  // failed samples given up (they count in the budget)
  std::int64_t failures = 0;
  std::map<std::string, std::int64_t> failure_reasons;
  nlohmann::json to_json() const;
  static CoordinatorState from_json(const nlohmann::json& j);
};

class Coordinator {
 public:
  // `space`/`sampler_kind`/`seed`: the training sampler; validation samples come from the
  // same space with another seed. `budget`: training simulations wanted.
  Coordinator(ParameterSpace space, std::string sampler_kind, std::uint64_t seed, std::vector<std::string> solver_params,
              Parameters defaults, std::int64_t budget, const OnlineOptions& options, const Roles& roles,
              MPI_Comm online);

  void restore(const CoordinatorState& state);
  // Handle REQUEST and RESULT messages and deferred requests; true if anything happened.
  bool poll();
  void on_result(const protocol::Result& result);  // from this rank's own Server, or a message
  void stop();                                       // answer every request with STOP from now on
  bool finished() const;                             // every group has been told STOP
  // No training simulation runs or waits, and the budget (samples or time) is used up: no
  // more training data will come.
  bool work_complete() const;

  CoordinatorState state() const;
  nlohmann::json counters() const;     // sims done/running/failed, queued...
  nlohmann::json failure_log() const;  // one object per failed simulation
  // Rank 0's own Server takes ASSIGNs for trainer 0 directly (no message to itself).
  void set_local_assign(std::function<void(std::int64_t sim_id, std::int64_t sample)> f) {
    local_assign_ = std::move(f);
  }
  std::int64_t validation_expected() const;
  std::int64_t validation_resolved() const;

 private:
  bool serve(int leader);
  std::vector<double> full_params(const Parameters& p) const;
  protocol::WorkItem next_item(int leader, bool& defer);

  ParameterSpace space_;
  std::unique_ptr<ParameterSampler> sampler_, validation_sampler_;
  std::vector<std::string> solver_params_;
  Parameters defaults_;
  std::int64_t budget_;
  OnlineOptions options_;
  Roles roles_;
  MPI_Comm online_;
  std::chrono::steady_clock::time_point start_;

  mutable std::mutex mutex_;
  CoordinatorState state_;
  std::deque<protocol::WorkItem> queue_;        // retries and resumed samples
  std::map<std::int64_t, protocol::WorkItem> running_;  // by sim id
  std::deque<int> waiting_;                      // leaders whose request is held back
  std::int64_t next_sim_id_ = 0;
  std::int64_t validation_issued_ = 0, validation_done_ = 0, validation_dropped_ = 0;
  std::int64_t issued_training_ = 0;  // round-robin counter
  std::int64_t groups_stopped_ = 0;
  std::int64_t sims_ok_ = 0;
  bool stopping_ = false;
  nlohmann::json failure_log_ = nlohmann::json::array();
  std::function<void(std::int64_t, std::int64_t)> local_assign_;
};

struct ServerStats {
  std::int64_t blocks = 0;        // DATA messages received
  double bytes = 0;
  std::int64_t steps = 0;         // output steps assembled
  std::int64_t sims_ok = 0, sims_failed = 0;
  std::int64_t examples = 0;      // examples put into the buffer
  std::int64_t discarded_blocks = 0;  // blocks of failed or late simulations
  std::int64_t data_sent = 0;     // DATA the simulation ranks said (BYE) they sent here
  double sim_credit_wait = 0;     // simulation ranks' credit wait (from END reports)
  double sim_solve_seconds = 0;
  nlohmann::json to_json() const;
};

class Server {
 public:
  Server(MPI_Comm online, const Roles& roles, const OnlineOptions& options, Grid grid, int channels,
         std::shared_ptr<const surrogates::Task> task, SampleBuffer& buffer, Coordinator* coordinator);
  ~Server();

  void start();
  // Training is over: discard further data, tell groups to stop, and wait (at most
  // options.shutdown_timeout) for every simulation rank to leave. Returns false on timeout.
  bool shutdown();
  // Blocks until the thread ended by itself (all simulation ranks left) or shutdown().
  void join();
  bool running() const { return !finished_; }

  // Validation trajectories received (rank 0: validation sims are all sent there).
  // Waits until `expected()` have arrived (the count can drop while it waits: the
  // coordinator gives up on a validation simulation that keeps failing). Never forever:
  // once no simulation has sent anything for options.sim_timeout seconds it throws,
  // naming how many arrived.
  std::vector<surrogates::Trajectory> take_validation(const std::function<std::int64_t()>& expected);
  // What a checkpoint keeps of this rank, taken under the server's lock so that the three
  // agree: samples finalised here, the buffer's content (plus examples not yet in it), and
  // on rank 0 the coordinator's accounts.
  struct Snapshot {
    std::set<std::int64_t> done;
    std::vector<Sample> samples;
    CoordinatorState coordinator;
  };
  Snapshot snapshot();
  void restore_done(const std::set<std::int64_t>& done);
  // Examples of a checkpoint that do not fit the buffer (it was full, some were pending).
  void restore_pending(std::vector<Sample> samples);
  ServerStats stats() const;
  std::string error() const;  // a fatal error of the thread ("" if none)
  // Seconds since the thread last made progress (a message from a simulation rank, an
  // example into the buffer, a timeout judged): the trainer's waits are bounded by it.
  double idle_seconds() const;
  // After a shutdown() that timed out: the simulation ranks that did not leave, and why.
  std::string not_left() const;

 private:
  struct Staging;
  void loop();
  bool poll_control();
  bool poll_data();
  bool flush_pending();
  void take_block(const std::vector<char>& bytes, int source);
  void try_finalize(std::int64_t sim_id);
  void fail(std::int64_t sim_id, const std::string& reason);
  // The task's examples of a trajectory, queued for the buffer; returns how many.
  std::int64_t queue_examples(std::int64_t sample, const surrogates::Trajectory& t);
  void report(const protocol::Result& result);
  void check_timeouts();
  void hold_timeouts();  // backpressure: no simulation can send, so none is late
  bool all_left() const;
  void mark_progress();
  bool timed_out_ = false;
  std::atomic<std::int64_t> last_progress_ns_{0};  // steady clock

  MPI_Comm online_;
  Roles roles_;
  OnlineOptions options_;
  Grid grid_;
  int channels_;
  std::shared_ptr<const surrogates::Task> task_;
  SampleBuffer& buffer_;
  Coordinator* coordinator_;

  std::thread thread_;
  std::atomic<bool> stop_{false}, finished_{false};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::int64_t, std::unique_ptr<Staging>> staging_;
  std::set<std::int64_t> dead_;  // sim ids judged failed: their late data is discarded
  std::deque<Sample> pending_;   // examples the buffer has not accepted yet
  std::set<std::int64_t> done_;  // training samples finalised here
  std::vector<std::pair<std::int64_t, surrogates::Trajectory>> validation_;  // by sample
  std::map<int, std::int64_t> data_from_, ends_from_;  // per simulation rank
  std::map<int, protocol::Bye> bye_;
  ServerStats stats_;
  std::string error_;
};

}  // namespace pdestream::online_training
