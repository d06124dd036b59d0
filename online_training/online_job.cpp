#include "online_training/online_job.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "io/hdf5_dataset.hpp"
#include "online_training/checkpoint_files.hpp"
#include "online_training/client.hpp"
#include "online_training/server.hpp"
#include "online_training/stream_source.hpp"
#include "solvers/solver.hpp"
#include "surrogates/field_tensor.hpp"
#include "surrogates/registry.hpp"
#include "training/dataset_layout.hpp"
#include "training/dataset_source.hpp"
#include "training/evaluation.hpp"

namespace pdestream::online_training {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct CommGuard {
  MPI_Comm* comms[2];
  ~CommGuard() {
    for (auto* c : comms)
      if (*c != MPI_COMM_NULL) MPI_Comm_free(c);
  }
};

// The draw ledger: one line per step, the (sample, example) pairs this rank trained on.
std::string draws_path(const std::string& dir, int rank) {
  return dir + "/draws_" + std::to_string(rank) + ".jsonl";
}

// After an error: tell the simulations to stop. If they do not leave in time, the error
// must not end in MPI_Finalize (which would wait for them forever): it becomes this rank's
// own error, and main aborts the job.
void shutdown_after_error(Server& server, const OnlineOptions& opt) {
  if (server.shutdown()) return;
  std::string what = "unknown error";
  try {
    throw;
  } catch (const Error& e) {
    what = e.message();
  } catch (const std::exception& e) {
    what = e.what();
  }
  std::ostringstream os;
  os << what << "; then waited " << opt.shutdown_timeout << " s ([online] shutdown_timeout) for the simulations "
     << "to stop, and these did not: " << server.not_left();
  throw Error(os.str());
}

// Validation trajectories from trainer rank 0 to every trainer rank.
void broadcast_trajectories(std::vector<surrogates::Trajectory>& trajs, const surrogates::TrajectoryShape& shape,
                            MPI_Comm comm) {
  std::int64_t n = static_cast<std::int64_t>(trajs.size());
  MPI_Bcast(&n, 1, MPI_INT64_T, 0, comm);
  trajs.resize(static_cast<std::size_t>(n));
  std::vector<std::int64_t> fshape = {shape.num_times, shape.channels};
  fshape.insert(fshape.end(), shape.spatial.begin(), shape.spatial.end());
  for (auto& t : trajs) {
    if (!t.frames.defined()) {
      t.frames = torch::empty(fshape, torch::kFloat32);
      t.params.resize(static_cast<std::size_t>(shape.num_params));
      t.times.resize(static_cast<std::size_t>(shape.num_times));
    }
    t.frames = t.frames.contiguous();
    PDS_CHECK(t.frames.sizes() == torch::IntArrayRef(fshape), "validation trajectory has shape "
                                                                 << t.frames.sizes() << ", expected " << fshape);
    MPI_Bcast(t.frames.data_ptr<float>(), static_cast<int>(t.frames.numel()), MPI_FLOAT, 0, comm);
    MPI_Bcast(t.params.data(), static_cast<int>(t.params.size()), MPI_DOUBLE, 0, comm);
    MPI_Bcast(t.times.data(), static_cast<int>(t.times.size()), MPI_DOUBLE, 0, comm);
  }
}

// The counters every metrics line and the summary sum over trainer ranks.
std::vector<double> local_counters(const Server& server, const SampleBuffer& buffer, const StreamSource& stream) {
  const auto s = server.stats();
  const auto b = buffer.stats();
  std::vector<double> v = {double(s.blocks),     s.bytes,           double(s.steps),      double(s.examples),
                           double(s.sims_ok),    double(s.sims_failed), double(s.discarded_blocks),
                           double(s.data_sent),  s.sim_credit_wait, s.sim_solve_seconds,
                           double(b.size),       double(b.capacity), double(stream.examples_drawn()),
                           stream.wait_seconds()};
  for (std::size_t k = 0; k < 8; ++k) v.push_back(k < b.histogram.size() ? double(b.histogram[k]) : 0.0);
  return v;
}
enum Counter { BLOCKS, BYTES, STEPS, EXAMPLES, SIMS_OK, SIMS_FAILED, DISCARDED, DATA_SENT, CREDIT_WAIT, SOLVE_S,
               BUF_SIZE, BUF_CAP, DRAWN, WAIT_S, HIST0 };

std::string eta_text(double elapsed, double done, double total) {
  if (done <= 0 || total <= done) return "-";
  const double s = elapsed / done * (total - done);
  std::ostringstream os;
  if (s >= 60)
    os << static_cast<int>(s / 60) << "m" << static_cast<int>(s) % 60 << "s";
  else
    os << static_cast<int>(s) << "s";
  return os.str();
}

// The held-out simulations as a pdestream dataset, so `pdestream evaluate --data` can
// compare the trained model with them (and Python can read them).
void write_validation(const std::string& path, const std::vector<surrogates::Trajectory>& trajs,
                      const solvers::Solver& solver, const Config& config) {
  auto layout = training::dataset_layout(solver, config, static_cast<int>(trajs.size()), trajs.front().times);
  io::DatasetWriter writer(path + ".partial", layout, MPI_COMM_SELF);
  std::vector<std::vector<double>> params;
  for (std::size_t n = 0; n < trajs.size(); ++n) {
    const auto& t = trajs[n];
    params.push_back(t.params);
    for (std::int64_t k = 0; k < t.frames.size(0); ++k) {
      const Field f = surrogates::to_field(t.frames[k], layout.channels);
      writer.write_frame(static_cast<int>(n), static_cast<int>(k), &f);
    }
  }
  writer.write_params(params);
  writer.close();
  fs::rename(path + ".partial", path);
}

// Every rank reads the whole config, so a mistake is one error on every rank.
struct JobSetup {
  std::unique_ptr<solvers::Solver> solver;
  std::shared_ptr<surrogates::Task> task;
  std::shared_ptr<surrogates::Surrogate> model;
  surrogates::TrajectoryShape tshape;
};

JobSetup set_up_models(const OnlineJobSpec& spec, const Roles& roles, MPI_Comm world, MPI_Comm local) {
  JobSetup job;
  collective_try(world, [&] {
    // Trainer ranks need the solver's grid and parameters only: a copy on their own.
    job.solver = solvers::make_solver("", spec.config, roles.trainer() ? MPI_COMM_SELF : local);
    const auto known = job.solver->parameter_names();
    for (const auto& name : spec.space.names())
      PDS_CHECK(std::find(known.begin(), known.end(), name) != known.end(),
                spec.config.source() << ": [parameters] " << name << ": solver " << job.solver->name()
                                     << " has no such parameter");
    PDS_CHECK(spec.space.size() > 0, spec.config.source() << ": [parameters] is empty; online training needs at "
                                                             "least one sampled parameter (name = [low, high])");
    PDS_CHECK(spec.samples > 0, "online training needs a sample budget: [simulation] samples >= 1");
    SectionReader m(spec.config, "model");
    const std::string name = m.get_string("name", std::nullopt, surrogates::model_names());
    SectionReader ts(spec.config, "task");
    job.task = surrogates::make_task(ts, surrogates::model_layout(name));
    // Online, the solver runs at the resolution the model trains at: there is no full-resolution
    // file to reduce, and simulating points that are thrown away would only cost time.
    PDS_CHECK(job.task->resolution().identity(),
              spec.config.source() << ": [task] reduce_x = " << job.task->resolution().x << ", reduce_t = "
                                   << job.task->resolution().t
                                   << ": an online job simulates at the training resolution; expected 1 and 1 "
                                      "(set [solver] nx and the output interval instead)");
    // Parameters keep the solver's names and order; min-max ranges are the sampled ones.
    std::map<std::string, std::pair<double, double>> ranges;
    for (const auto& r : spec.space.ranges()) ranges[r.name] = {r.low, r.high};
    auto& t = job.tshape;
    t.num_params = static_cast<std::int64_t>(known.size());
    t.param_names = known;
    t.num_times = job.solver->num_outputs() + 1;
    t.channels = static_cast<std::int64_t>(job.solver->channels().size());
    for (int a = 0; a < job.solver->grid().dim; ++a) {
      t.spatial.push_back(job.solver->grid().shape[a]);
      t.coordinates.push_back(job.solver->grid().coordinates(a));
    }
    t.times = job.solver->output_times();
    job.task->bind(t, ranges, "solver " + job.solver->name());
    if (spec.training.validate_rollout) surrogates::rollout_validation_task(*job.task, t);  // checks the kind
    PDS_CHECK(job.task->num_examples(t) > 0, "task " << job.task->kind() << " makes no examples from "
                                                     << t.num_times << " output times");
    // training.seed decides the initial weights too, so a run is reproducible.
    torch::manual_seed(spec.training.seed);
    job.model = surrogates::make_model(m, job.task->model_shape(t));
  });
  return job;
}

// What a trainer rank's steps below share.
struct TrainerRank {
  const OnlineJobSpec& spec;
  const OnlineOptions& opt;
  const Roles& roles;
  MPI_Comm local;
  int rank, size;
  JobSetup& job;
  SampleBuffer& buffer;
  Coordinator* coordinator;  // rank 0 only
  Server& server;
  training::Trainer& trainer;
};

// A stream has no epoch length: schedules and curricula run over the steps the sample
// budget should take (each example drawn once, pseudo_epochs times for firo).
void set_schedule_horizon(TrainerRank& t) {
  const auto& o = t.trainer.options();
  if (o.max_steps > 0) return;
  const auto per_sim = t.job.task->num_examples(t.job.tshape);
  const auto passes = t.opt.buffer.kind == "firo" ? t.opt.buffer.pseudo_epochs : 1;
  const auto estimate = (t.spec.samples * per_sim * passes + o.batch_size - 1) / o.batch_size;
  t.trainer.set_horizon(estimate);
  std::ostringstream os;
  os << "[online] schedule \"" << o.schedule << "\" and objective \"" << o.objective << "\" over " << estimate
     << " steps, estimated from the budget: " << t.spec.samples << " simulations x " << per_sim << " examples"
     << (passes > 1 ? " x " + std::to_string(passes) + " draws" : std::string()) << " / batch " << o.batch_size
     << " (training.max_steps sets it exactly)";
  print0(t.local, os.str());
}

// --resume: the model from checkpoint.pt, the accounts from online_state_<step>.json, each
// rank's buffer from buffer_<rank>_<step>.pt; the ledgers and metrics rewound to the step.
// Killed before the first checkpoint, the job starts over. Returns whether it resumed.
bool resume_job(TrainerRank& t, bool validation_from_run) {
  bool resumed = false;
  collective_try(t.local, [&] {
    resumed = t.trainer.resume_if_possible();
    if (!resumed) {
      t.trainer.rewind_metrics(0);
      training::truncate_jsonl_after(draws_path(t.spec.run_dir, t.rank), 0);
      return;
    }
    const auto step = t.trainer.step();
    training::truncate_jsonl_after(draws_path(t.spec.run_dir, t.rank), step);
    if (t.rank == 0) {
      const auto state = read_online_state(state_path(t.spec.run_dir, step), step);
      t.coordinator->restore(state);
      t.server.restore_done(state.done);
    }
    auto samples = load_samples(buffer_path(t.spec.run_dir, t.rank, step));
    const auto fit = std::min<std::size_t>(samples.size(), static_cast<std::size_t>(t.buffer.options().capacity));
    t.server.restore_pending({samples.begin() + static_cast<std::ptrdiff_t>(fit), samples.end()});
    samples.resize(fit);
    t.buffer.restore(std::move(samples));
  });
  if (resumed) {
    // A job that ended with its stream continues with a new pass: the samples beyond the
    // old budget (a larger [simulation] samples) are new simulations.
    t.trainer.set_epochs(t.trainer.epoch() + 1);
    print0(t.local, "[train] resumed " + t.spec.run_dir + " at step " + std::to_string(t.trainer.step()));
  } else {
    print0(t.local, "[train] --resume " + t.spec.run_dir + ": no checkpoint yet, the job starts over" +
                        (validation_from_run ? " (validation set from validation.h5)" : ""));
  }
  return resumed;
}

// The held-out trajectories on every trainer rank: from a file, or from the validation
// simulations (then written to <run>/validation.h5).
std::vector<surrogates::Trajectory> validation_set(TrainerRank& t) {
  std::vector<surrogates::Trajectory> trajs;
  const auto& path = t.opt.validation_path;
  collective_try(t.local, [&] {
    if (t.rank != 0) return;
    if (!path.empty()) {
      training::TrajectoryStore store(path);
      PDS_CHECK(store.shape().spatial == t.job.tshape.spatial && store.shape().channels == t.job.tshape.channels,
                path << ": its fields do not match the solver's grid and channels");
      for (std::int64_t i = 0; i < store.size(); ++i) trajs.push_back(store.get(i));
    } else {
      trajs = t.server.take_validation([&] { return t.coordinator->validation_expected(); });
    }
  });
  auto shape = t.job.tshape;
  if (!path.empty()) {
    // The file's trajectories may have another length than the solver's.
    std::int64_t nt = t.rank == 0 ? trajs.front().frames.size(0) : 0;
    MPI_Bcast(&nt, 1, MPI_INT64_T, 0, t.local);
    shape.num_times = nt;
  }
  broadcast_trajectories(trajs, shape, t.local);
  if (t.rank == 0 && path.empty())
    write_validation(t.spec.run_dir + "/validation.h5", trajs, *t.job.solver, t.spec.config);
  return trajs;
}

// Past sim_timeout with nothing moving, the stream ends (budget used up) or fails.
void set_watchdog(TrainerRank& t, StreamSource& stream) {
  StreamSource::Watchdog watchdog;
  watchdog.idle = [&t] { return t.server.idle_seconds(); };
  watchdog.limit = t.opt.sim_timeout;
  watchdog.complete = [&t] { return t.coordinator && t.coordinator->work_complete(); };
  watchdog.describe = [&t] {
    if (!t.coordinator) return std::string();
    const auto c = t.coordinator->counters();
    std::ostringstream os;
    os << c["sims_done"] << " of " << t.spec.samples << " simulations done, " << c["sims_running"] << " running, "
       << c["sims_queued"] << " queued";
    return os.str();
  };
  stream.set_watchdog(watchdog);
}

// Metrics: the trainer's line plus the stream's, summed over trainer ranks; a progress line
// every 5 s on rank 0.
void set_metrics_hook(TrainerRank& t, StreamSource& stream, Clock::time_point start) {
  auto last_print = std::make_shared<double>(0.0);
  t.trainer.set_metrics_hook([&t, &stream, start, last_print](std::map<std::string, double>& f) {
    auto v = local_counters(t.server, t.buffer, stream);
    std::vector<double> g(v.size());
    MPI_Allreduce(v.data(), g.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_SUM, t.local);
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    f["examples_received"] = g[EXAMPLES];
    f["steps_received"] = g[STEPS];
    f["received_per_s"] = g[STEPS] / std::max(s, 1e-9);
    f["mb_per_s"] = g[BYTES] / 1e6 / std::max(s, 1e-9);
    f["buffer_size"] = g[BUF_SIZE];
    f["buffer_occupancy"] = g[BUF_SIZE] / std::max(1.0, g[BUF_CAP]);
    f["trainer_wait_s"] = g[WAIT_S] / t.size;
    f["sim_credit_wait_s"] = g[CREDIT_WAIT];
    for (int k = 0; k < 8; ++k) f["seen_" + std::to_string(k)] = g[HIST0 + k];
    if (!t.coordinator) return;
    const auto c = t.coordinator->counters();
    f["sims_done"] = c["sims_done"].get<double>();
    f["sims_running"] = c["sims_running"].get<double>();
    f["sims_failed"] = c["sims_failed"].get<double>();
    if (s - *last_print < 5.0) return;
    *last_print = s;
    std::ostringstream os;
    os.precision(4);
    os << "[online] sims " << c["sims_done"] << "/" << t.spec.samples << " done, " << c["sims_running"]
       << " running, " << c["sims_failed"] << " failed | examples " << g[EXAMPLES] << " | step " << t.trainer.step()
       << " loss " << t.trainer.last_loss() << " | buffer " << g[BUF_SIZE] << " | ETA "
       << eta_text(s, c["sims_done"].get<double>(), double(t.spec.samples));
    std::printf("%s\n", os.str().c_str());
    std::fflush(stdout);
  });
}

// After every step: the draw ledger (flushed, so at a checkpoint it holds every step up to
// it) and the injected trainer faults.
void set_step_hook(TrainerRank& t, StreamSource& stream, std::ofstream& draws) {
  t.trainer.set_step_hook([&t, &stream, &draws](std::int64_t step) {
    if (!stream.last_drawn().empty()) {
      nlohmann::json ids = nlohmann::json::array();
      for (const auto& [sample, index] : stream.last_drawn()) ids.push_back({sample, index});
      draws << nlohmann::json{{"step", step}, {"draws", ids}}.dump() << "\n" << std::flush;
    }
    if (t.rank != t.size - 1) return;
    if (t.opt.trainer_fault("step", step))
      kill_self("trainer rank " + std::to_string(t.rank) + " dies after step " + std::to_string(step));
    if (t.opt.fault == "crash_trainer" && step == t.opt.fault_step) {
      std::fprintf(stderr, "pdestream train: injected fault: trainer rank %d exits at step %lld\n", t.rank,
                   static_cast<long long>(step));
      std::fflush(stderr);
      std::_Exit(3);
    }
  });
}

// The checkpoint's side files: each rank's buffer and the coordinator's accounts (with the
// samples done on every rank), keyed by the step. The files of checkpoint.pt's step and of
// checkpoint.prev.pt's stay until a newer checkpoint replaces them, so that a resume can
// fall back to either. `previous_step`: the step checkpoint.pt holds now.
void set_checkpoint_hook(TrainerRank& t, std::int64_t previous_step) {
  auto kept = std::make_shared<std::pair<std::int64_t, std::int64_t>>(previous_step, -1);
  t.trainer.set_checkpoint_hook([&t, kept](std::int64_t step) {
    const auto& dir = t.spec.run_dir;
    auto snap = t.server.snapshot();
    // A rank whose write fails (a full disk) stops every rank, not only itself.
    collective_try(t.local, [&] { save_samples(buffer_path(dir, t.rank, step), snap.samples, *t.job.task); });
    if (t.rank == t.size - 1 && t.opt.trainer_fault("checkpoint", step))
      kill_self("trainer rank " + std::to_string(t.rank) + " dies in the step-" + std::to_string(step) +
                " checkpoint, after its buffer file");
    std::vector<std::int64_t> mine(snap.done.begin(), snap.done.end());
    int n = static_cast<int>(mine.size());
    std::vector<int> counts(static_cast<std::size_t>(t.size)), offsets(static_cast<std::size_t>(t.size));
    MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, t.local);
    int total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) offsets[r] = total, total += counts[r];
    std::vector<std::int64_t> all(static_cast<std::size_t>(std::max(total, 1)));
    MPI_Gatherv(mine.data(), n, MPI_INT64_T, all.data(), counts.data(), offsets.data(), MPI_INT64_T, 0, t.local);
    collective_try(t.local, [&] {
      if (t.rank != 0) return;
      auto state = snap.coordinator;
      state.done.clear();
      state.done.insert(all.begin(), all.begin() + total);
      // A sample finalised after the coordinator's position was read is still covered.
      if (!state.done.empty()) state.position = std::max<std::uint64_t>(state.position, *state.done.rbegin() + 1);
      write_online_state(state_path(dir, step), step, state);
    });
    for (const auto& entry : fs::directory_iterator(dir)) {
      const auto name = entry.path().filename().string();
      const bool mine_file = name.rfind("buffer_" + std::to_string(t.rank) + "_", 0) == 0 ||
                             (t.rank == 0 && name.rfind("online_state_", 0) == 0);
      if (!mine_file) continue;
      const auto us = name.rfind('_'), dot = name.find('.', us);
      const auto digits = name.substr(us + 1, dot == std::string::npos ? std::string::npos : dot - us - 1);
      if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos)
        continue;  // not a file of ours
      const auto s = std::stoll(digits);
      if (s != step && s != kept->first && s != kept->second) fs::remove(entry.path());
    }
    *kept = {step, kept->first};
    if (t.rank == t.size - 1 && t.opt.trainer_fault("checkpoint_state", step))
      kill_self("trainer rank " + std::to_string(t.rank) + " dies in the step-" + std::to_string(step) +
                " checkpoint, after the accounts, before checkpoint.pt");
  });
}

// online_summary.json (rank 0): the job's accounts and the stream's counters.
nlohmann::json summarise(TrainerRank& t, StreamSource& stream, double validation_error,
                         std::int64_t validation_examples, bool clean, Clock::time_point start) {
  auto v = local_counters(t.server, t.buffer, stream);
  std::vector<double> g(v.size());
  MPI_Allreduce(v.data(), g.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_SUM, t.local);
  if (t.rank != 0) return nlohmann::json::object();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const auto c = t.coordinator->counters();
  std::vector<double> hist(g.begin() + HIST0, g.begin() + HIST0 + 8);
  nlohmann::json summary = {{"wall_s", wall},
                            {"steps", t.trainer.step()},
                            {"loss", t.trainer.last_loss()},
                            {"validation_rel_l2", validation_error},
                            {"validation_examples", validation_examples},
                            {"sims_done", c["sims_done"]},
                            {"sims_failed", c["sims_failed"]},
                            {"failure_reasons", c["failure_reasons"]},
                            {"failures", t.coordinator->failure_log()},
                            {"budget", t.spec.samples},
                            {"data_sent", g[DATA_SENT]},
                            {"data_received", g[BLOCKS]},
                            {"discarded_blocks", g[DISCARDED]},
                            {"steps_received", g[STEPS]},
                            {"examples_received", g[EXAMPLES]},
                            {"examples_drawn", g[DRAWN]},
                            {"mb_received", g[BYTES] / 1e6},
                            {"received_per_s", g[STEPS] / wall},
                            {"mb_per_s", g[BYTES] / 1e6 / wall},
                            {"trainer_wait_s", g[WAIT_S] / t.size},
                            {"trainer_idle_fraction", g[WAIT_S] / t.size / wall},
                            {"sim_credit_wait_s", g[CREDIT_WAIT]},
                            {"sim_solve_s", g[SOLVE_S]},
                            {"seen_histogram", hist},
                            {"buffer", t.opt.buffer.kind},
                            {"trainer_ranks", t.size},
                            {"simulation_groups", t.roles.groups()},
                            {"ranks_per_sim", t.roles.ranks_per_sim},
                            {"clean_shutdown", clean},
                            {"done_samples", t.coordinator->state().done}};
  std::ofstream(t.spec.run_dir + "/online_summary.json") << summary.dump(1) << "\n";
  return summary;
}

}  // namespace

nlohmann::json run_online_job(const OnlineJobSpec& spec, MPI_Comm world) {
  const auto start = Clock::now();
  int level = 0;
  MPI_Query_thread(&level);
  PDS_CHECK(level >= MPI_THREAD_MULTIPLE, "online training needs MPI_THREAD_MULTIPLE (the trainer receives on a "
                                          "thread of its own); this MPI library provides level "
                                              << level);
  Roles roles;
  collective_try(world, [&] { roles = Roles::split(world, spec.online.trainer_ranks, spec.ranks_per_sim); });
  MPI_Comm online = MPI_COMM_NULL, local = MPI_COMM_NULL;
  MPI_Comm_dup(world, &online);
  MPI_Comm_split(world, roles.trainer() ? 0 : 1 + roles.group(), roles.world_rank, &local);
  CommGuard guard{{&online, &local}};
  // Collective over the whole job: the simulations share the nodes' cores with the trainers.
  const int node_threads = training::default_threads(world);
  JobSetup job = set_up_models(spec, roles, world, local);
  if (!roles.trainer()) {
    run_client(*job.solver, local, online, roles, spec.online);
    return nlohmann::json::object();
  }

  // ---- trainer ranks ----
  const int rank = comm_rank(local), size = comm_size(local);
  OnlineOptions opt = spec.online;
  // A resumed job keeps the held-out set its first run wrote: the same set, and no
  // validation simulations to wait for while the restored buffer may be full.
  const std::string saved_validation = spec.run_dir + "/validation.h5";
  int from_run = spec.resume && opt.validation_path.empty() && fs::exists(saved_validation) ? 1 : 0;
  MPI_Bcast(&from_run, 1, MPI_INT, 0, local);
  if (from_run) opt.validation_path = saved_validation;
  BufferOptions bo = opt.buffer;
  bo.seed = spec.training.seed * 1000003ull + static_cast<std::uint64_t>(rank);
  std::unique_ptr<SampleBuffer> buffer;
  collective_try(local, [&] { buffer = make_buffer(bo); });
  std::unique_ptr<Coordinator> coordinator;
  if (rank == 0)
    coordinator = std::make_unique<Coordinator>(spec.space, spec.sampler_kind, spec.sampler_seed,
                                                job.solver->parameter_names(), job.solver->default_parameters(),
                                                spec.samples, opt, roles, online);
  Server server(online, roles, opt, job.solver->grid(), static_cast<int>(job.tshape.channels), job.task, *buffer,
                coordinator.get());

  training::TrainerOptions trainer_options = spec.training;
  trainer_options.epochs = 1;  // one pass over the stream
  if (trainer_options.threads == 0) trainer_options.threads = node_threads;
  training::Trainer trainer(job.model, trainer_options, local, spec.run_dir);
  TrainerRank t{spec, opt, roles, local, rank, size, job, *buffer, coordinator.get(), server, trainer};
  set_schedule_horizon(t);
  surrogates::UnitGaussianNormalizer input_norm(job.task->input_channels(job.tshape)),
      target_norm(job.task->target_channels(job.tshape));
  trainer.set_normalizers(input_norm, target_norm);
  bool resumed = false;
  if (spec.resume) try {
    resumed = resume_job(t, from_run);
  } catch (...) {
    server.start();  // only to tell the simulation groups to stop
    shutdown_after_error(server, opt);
    throw;
  }
  server.start();

  // Everything from here on must end with the server shut down: simulation ranks wait for
  // STOP, and an error on a trainer rank must not leave them waiting forever.
  nlohmann::json summary = nlohmann::json::object();
  bool clean = true;
  try {
    const auto validation_trajs = validation_set(t);
    std::vector<surrogates::Example> val_examples;
    // Normalisers see one-step examples; validation may be a rollout over the horizon.
    std::vector<surrogates::Example> fit_examples;
    const std::shared_ptr<const surrogates::Task> val_task =
        trainer_options.validate_rollout ? surrogates::rollout_validation_task(*job.task, job.tshape) : job.task;
    for (const auto& traj : validation_trajs) {
      const auto shape = surrogates::TrajectoryShape::of(traj);
      for (std::int64_t i = 0; i < val_task->num_examples(shape); ++i) val_examples.push_back(val_task->example(traj, i));
      if (trainer_options.validate_rollout)
        for (std::int64_t i = 0; i < job.task->num_examples(shape); ++i) fit_examples.push_back(job.task->example(traj, i));
    }
    auto val = surrogates::collate(val_examples);
    auto fit = trainer_options.validate_rollout ? surrogates::collate(fit_examples) : val;
    training::TensorDataSource validation(val.input, val.target, trainer_options.batch_size, 0, rank, size, false,
                                          val.cond);
    if (!resumed) {
      // Normalisers from the held-out simulations: same distribution, known before training.
      input_norm->update(fit.input);
      target_norm->update(fit.target.dim() > 2 ? surrogates::frames_as_batch(fit.target, target_norm->channels())
                                               : fit.target);
    }
    auto in_shape = fit.input.sizes().slice(1).vec(), out_shape = fit.target.sizes().slice(1).vec();
    StreamSource stream(*buffer, trainer_options.batch_size, local, opt.wait_timeout, in_shape, out_shape,
                        job.task->condition().size(), job.task);
    set_watchdog(t, stream);
    set_metrics_hook(t, stream, start);
    std::ofstream draws(draws_path(spec.run_dir, rank), spec.resume ? std::ios::app : std::ios::trunc);
    set_step_hook(t, stream, draws);
    // After a resume, checkpoint.pt holds the resumed step's files until the next one.
    set_checkpoint_hook(t, resumed ? trainer.step() : -1);
    {
      std::ostringstream os;
      os << "[online] " << job.model->kind() << " (" << job.model->num_parameters() << " parameters), " << size
         << " trainer rank(s), " << roles.groups() << " simulation group(s) of " << roles.ranks_per_sim
         << " rank(s), buffer " << buffer->kind() << " (" << opt.buffer.capacity << " per trainer), "
         << val_examples.size() << " validation examples from " << validation_trajs.size() << " simulations";
      print0(local, os.str());
    }
    collective_try(local, [&] { trainer.fit(stream, &validation); });
    clean = server.shutdown();
    PDS_CHECK(server.error().empty(), "the receiving thread failed: " << server.error());
    const double val_error = trainer.validate(validation);
    summary = summarise(t, stream, val_error, static_cast<std::int64_t>(val_examples.size()), clean, start);
    trainer.save_model(spec.run_dir + "/model.safetensors", training::model_file_metadata(*job.task, spec.config));
  } catch (...) {
    shutdown_after_error(server, opt);
    throw;
  }
  // The outputs are saved; simulations that never left would keep MPI_Finalize waiting, so
  // this is a rank's own error (main aborts the job), not a collective one.
  if (!clean) {
    std::ostringstream os;
    os << "training finished and its outputs are saved, but after waiting " << opt.shutdown_timeout
       << " s ([online] shutdown_timeout) these simulation ranks had not left: " << server.not_left();
    throw Error(os.str());
  }
  return summary;
}

}  // namespace pdestream::online_training
