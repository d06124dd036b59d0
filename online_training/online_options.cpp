#include "online_training/online_options.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"

namespace pdestream::online_training {

OnlineOptions OnlineOptions::from_section(SectionReader& s) {
  OnlineOptions o;
  o.enabled = s.get_bool("enabled", o.enabled);
  o.trainer_ranks = static_cast<int>(s.get_int("trainer_ranks", o.trainer_ranks, 1, 4096));
  o.assignment = s.get_string("assignment", o.assignment, {"round_robin", "by_group"});
  o.buffer.kind = s.get_string("buffer", "fifo", buffer_kinds());
  o.buffer.capacity = s.get_int("buffer_capacity", o.buffer.capacity, 1);
  o.buffer.threshold = s.get_int("buffer_threshold", o.buffer.threshold, 0);
  o.buffer.pseudo_epochs = s.get_int("pseudo_epochs", o.buffer.pseudo_epochs, 1);
  o.credits = static_cast<int>(s.get_int("credits", o.credits, 1, 1 << 20));
  o.validation_samples = s.get_int("validation_samples", o.validation_samples, 0);
  o.validation_path = s.get_string("validation_path", "");
  o.time_budget = s.get_double("time_budget", o.time_budget, 0.0);
  o.sim_timeout = s.get_double("sim_timeout", o.sim_timeout, 0.0);
  o.on_failure = s.get_string("on_failure", o.on_failure, {"retry", "redraw", "skip"});
  o.max_retries = static_cast<int>(s.get_int("max_retries", o.max_retries, 0, 1000));
  o.keep_partial = s.get_bool("keep_partial", o.keep_partial);
  o.wait_timeout = s.get_double("wait_timeout", o.wait_timeout, 0.0);
  o.shutdown_timeout = s.get_double("shutdown_timeout", o.shutdown_timeout, 0.0);
  o.fault = s.get_string("fault", o.fault, {"none", "throw", "nan", "hang", "corrupt_data", "kill_sim", "crash_trainer", "kill_trainer"});
  for (double v : s.get_doubles("fault_samples", std::vector<double>{})) {
    PDS_CHECK(v == std::floor(v), s.where("fault_samples")
                                      << ": expected sample indices (-1, -2, ... for validation), got " << v);
    o.fault_samples.push_back(static_cast<std::int64_t>(v));
  }
  o.fault_step = s.get_int("fault_step", o.fault_step, 0);
  o.fault_at = s.get_string("fault_at", o.fault_at, {"step", "checkpoint", "checkpoint_state", "validation"});
  o.fault_hang = s.get_double("fault_hang", o.fault_hang, 0.0);
  PDS_CHECK(!o.enabled || o.validation_samples > 0 || !o.validation_path.empty(),
            s.where("validation_samples") << ": online training needs a validation set (validation_samples >= 1 "
                                             "or validation_path), got none");
  return o;
}

bool OnlineOptions::faulty(std::int64_t sample, std::int64_t attempt) const {
  return fault != "none" && fault != "crash_trainer" && fault != "kill_trainer" && attempt == 0 &&
         std::find(fault_samples.begin(), fault_samples.end(), sample) != fault_samples.end();
}

bool OnlineOptions::trainer_fault(const std::string& point, std::int64_t count) const {
  return fault == "kill_trainer" && fault_at == point && count == fault_step;
}

void kill_self(const std::string& what) {
  std::fprintf(stderr, "pdestream train: injected fault: %s (SIGKILL)\n", what.c_str());
  std::fflush(stderr);
  std::raise(SIGKILL);
  std::_Exit(137);  // not reached
}

Roles Roles::split(MPI_Comm world, int trainers, int ranks_per_sim) {
  Roles r;
  MPI_Comm_rank(world, &r.world_rank);
  MPI_Comm_size(world, &r.world_size);
  r.trainers = trainers;
  r.ranks_per_sim = ranks_per_sim;
  PDS_CHECK(r.world_size > trainers,
            "online training needs more MPI ranks than [online] trainer_ranks = "
                << trainers << " (the rest run simulations), got " << r.world_size << " rank(s)");
  PDS_CHECK((r.world_size - trainers) % ranks_per_sim == 0,
            "[simulation] ranks_per_sim = " << ranks_per_sim << " must divide the " << r.world_size - trainers
                                            << " simulation ranks (" << r.world_size << " ranks - " << trainers
                                            << " trainer ranks)");
  return r;
}

}  // namespace pdestream::online_training
