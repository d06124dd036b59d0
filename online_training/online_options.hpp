#pragma once
// The [online] section and the split of the job's ranks into roles.
//
//   [online]
//   enabled = true
//   trainer_ranks = 1              # world ranks 0..R-1 train; the rest form simulation groups
//   assignment = "round_robin"     # round_robin (by simulation) | by_group (group g -> trainer g % R)
//   buffer = "reservoir"           # fifo | firo | reservoir (buffer.hpp)
//   buffer_capacity = 1000         # examples per trainer rank
//   buffer_threshold = 100
//   pseudo_epochs = 4              # firo
//   credits = 4                    # in-flight DATA messages per simulation rank
//   validation_samples = 8         # held-out simulations, run first, drawn with [sampler] seed + 1
//                                  # (or validation_path = "x.h5")
//   time_budget = 0                # seconds; 0: only the sample budget ([simulation] samples)
//   sim_timeout = 60               # seconds without a message before a simulation is failed; also
//                                  # the longest the trainer waits (for validation or training data)
//                                  # while no simulation sends anything, before a one-line error
//   on_failure = "redraw"          # retry | redraw | skip
//   max_retries = 2
//   keep_partial = false           # keep the examples of a failed simulation's complete steps
//   wait_timeout = 1.0             # seconds a trainer rank waits for a full shard of a batch
//   shutdown_timeout = 60          # seconds to wait for simulations to leave at the end; past it the
//                                  # job saves its outputs and aborts with a one-line error
//   fault = "none"                 # tests: throw | nan | hang | corrupt_data | kill_sim | crash_trainer |
//                                  # kill_trainer (corrupt_data flips bits of a DATA block after its
//                                  # checksum was computed, as a faulty link would)
//   fault_samples = [3]            # sample indices that fail (first attempt only; -1, -2, ...: the
//                                  # validation simulations)
//   fault_step = 2                 # output index; trainer step for crash_trainer and kill_trainer;
//                                  # validation simulations received for kill_trainer at "validation"
//   fault_at = "step"              # kill_trainer: step | checkpoint (after this rank's buffer file,
//                                  # before the accounts) | checkpoint_state (after the accounts,
//                                  # before checkpoint.pt) | validation
//   fault_hang = 5.0               # seconds a "hang" sleeps
//
// kill_sim and kill_trainer end the process with SIGKILL, as `kill -9` would: mpirun then
// takes the whole job down, and `train --resume` must finish it.

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "online_training/buffer.hpp"

namespace pdestream::online_training {

struct OnlineOptions {
  bool enabled = false;
  int trainer_ranks = 1;
  std::string assignment = "round_robin";
  BufferOptions buffer;
  int credits = 4;
  std::int64_t validation_samples = 8;
  std::string validation_path;
  double time_budget = 0;
  double sim_timeout = 60;
  std::string on_failure = "redraw";
  int max_retries = 2;
  bool keep_partial = false;
  double wait_timeout = 1.0;
  double shutdown_timeout = 60;
  std::string fault = "none";
  std::vector<std::int64_t> fault_samples;
  std::int64_t fault_step = 1;
  std::string fault_at = "step";
  double fault_hang = 5.0;

  static OnlineOptions from_section(SectionReader& section);
  // Whether `sample` (first attempt) gets the configured simulation fault.
  bool faulty(std::int64_t sample, std::int64_t attempt) const;
  // Whether the trainer's configured fault strikes at `point` (step | checkpoint |
  // checkpoint_state | validation) with counter `count` (a step, or validation sims received).
  bool trainer_fault(const std::string& point, std::int64_t count) const;
};

// Ends this process as `kill -9` would (fault tests), after one line on stderr.
[[noreturn]] void kill_self(const std::string& what);

// World ranks 0..trainers-1 train (rank 0 also coordinates); the others form groups of
// ranks_per_sim consecutive ranks.
struct Roles {
  int world_rank = 0, world_size = 1;
  int trainers = 1;
  int ranks_per_sim = 1;
  bool trainer() const { return world_rank < trainers; }
  int groups() const { return (world_size - trainers) / ranks_per_sim; }
  int group() const { return trainer() ? -1 : (world_rank - trainers) / ranks_per_sim; }
  int group_leader(int g) const { return trainers + g * ranks_per_sim; }
  int sim_ranks() const { return world_size - trainers; }

  // Throws a one-line error unless the ranks split into R trainers and >= 1 whole group.
  static Roles split(MPI_Comm world, int trainers, int ranks_per_sim);
};

}  // namespace pdestream::online_training
