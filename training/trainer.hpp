#pragma once
// The one training engine for every model, task and data path (offline now, online next).
//
// Data parallel over the trainer communicator: rank 0's initial weights are broadcast, each
// rank computes the loss of its shard weighted by shard/global batch size, and one
// MPI_Allreduce per step sums the gradients (see distributed.hpp), so R ranks follow the
// same trajectory as 1 rank with the same global batch, to rounding.
//
// Life cycle:  Trainer t(model, options, comm, run_dir);   // create
//              t.set_normalizers(in, out);                   // optional, fitted beforehand
//              t.resume_if_possible();                       // --resume
//              t.fit(train_source, &validation_source);      // step
//              t.save_model(run_dir + "/model.safetensors", metadata);

#include <mpi.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/config.hpp"
#include "surrogates/normalizer.hpp"
#include "surrogates/surrogate.hpp"
#include "training/data_source.hpp"
#include "training/distributed.hpp"
#include "training/objective.hpp"

namespace torch::serialize {
class InputArchive;
class OutputArchive;
}

namespace torch::optim {
class Optimizer;
}

namespace pdestream::training {

struct TrainerOptions {
  std::int64_t epochs = 10;
  std::int64_t batch_size = 20;      // global batch over all trainer ranks
  double lr = 1e-3;
  std::string optimizer = "adam";    // adam | adamw
  double weight_decay = 0.0;
  // Schedules count in optimiser steps. Their horizon is max_steps, else epochs x the
  // epoch length when the data source knows it, else what the caller estimated
  // (Trainer::set_horizon; an online job estimates it from its sample budget).
  std::string schedule = "none";     // none | step | cosine
  std::int64_t step_every = 0;       // step schedule: multiply lr by gamma every step_every steps
  std::int64_t step_epochs = 100;    //   (0: every step_epochs epochs, where the epoch length is known)
  double gamma = 0.5;
  double min_lr = 0.0;               // cosine floor
  std::int64_t warmup_steps = 0;     // linear warm-up from lr / warmup_steps to lr
  std::string objective = "supervised";  // a registered training::Objective (objective.hpp)
  nlohmann::json objective_options;       // its own [training] keys, as it read them
  std::string loss = "rel_l2";       // rel_l2 | mse: the per-example error objectives use
  double clip_grad_norm = 0.0;       // 0: off
  double ema_decay = 0.0;            // 0: off; else validation and the saved model use EMA weights
  // Per-channel unit-Gaussian normalisers on inputs and targets (set_normalizers). Off: the
  // model works in physical units, as pdearena's models do (PDE-Refiner's noise levels are
  // set against the data's own scale).
  bool normalize = true;
  std::uint64_t seed = 0;
  std::int64_t checkpoint_every = 0; // steps; 0: at the end of every epoch only
  std::int64_t validate_every = 0;   // steps; 0: at the end of every epoch only
  // Validate by rolling out each held-out trajectory over the autoregressive task's horizon
  // (the error that matters for these models), not by one-step predictions.
  bool validate_rollout = false;
  std::int64_t log_every = 10;       // steps between metrics lines
  std::int64_t max_steps = 0;        // stop after this many steps in all (0: no limit)
  int threads = 0;                   // torch intra-op threads per rank; 0: cores / ranks on the node

  static TrainerOptions from_section(SectionReader& section);
};

// Writes `archive` to `path` (no rename): a failed or short write, as on a full disk, is a
// one-line Error and leaves no file behind.
void write_archive(torch::serialize::OutputArchive& archive, const std::string& path);

class Trainer {
 public:
  Trainer(std::shared_ptr<surrogates::Surrogate> model, TrainerOptions options, MPI_Comm comm,
          std::string run_dir);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Inputs are encoded with `input`, targets with `target` (the model learns normalised
  // targets; predictions are decoded before the relative L2 and in predict()).
  void set_normalizers(surrogates::UnitGaussianNormalizer input, surrogates::UnitGaussianNormalizer target);

  // An objective built in code instead of options.objective (one that holds data of its
  // own, e.g. DCDM's matrix). Its terms may not reuse the trainer's metric names.
  void set_objective(std::unique_ptr<Objective> objective);

  // Train from the current state until options.epochs (or max_steps). Checkpoints,
  // validation and metrics follow the options.
  void fit(DataSource& train, DataSource* validation = nullptr);

  // Mean per-example relative L2 error in physical units over a whole pass of `source`.
  double validate(DataSource& source);
  // Physical-unit predictions for a batch of raw inputs (and their cond [B, P], if any).
  torch::Tensor predict(const torch::Tensor& x, const torch::Tensor& cond = {});

  // Checkpoint: model, optimizer, EMA, normalisers, step/epoch/position, RNG. Written by
  // rank 0 to a temporary name and renamed; the one before it is kept as
  // checkpoint.prev.pt. A write that fails (a full disk) is a one-line error that leaves
  // both untouched. resume() loads it on every rank.
  std::string checkpoint_path() const { return run_dir_ + "/checkpoint.pt"; }
  std::string previous_checkpoint_path() const { return run_dir_ + "/checkpoint.prev.pt"; }
  void save_checkpoint();
  // True if a checkpoint was found and loaded. An unreadable checkpoint.pt (truncated,
  // corrupt, or missing after a kill between the two renames) falls back to
  // checkpoint.prev.pt with a warning; with none usable the error is one line. metrics.jsonl
  // then loses the lines of steps after the checkpoint (they belong to a run that was lost)
  // and gains a "resume" event.
  bool resume_if_possible();
  // Drops metrics.jsonl lines of steps after `step` (rank 0): a job that restarts from
  // `step` rewrites that part of its history.
  void rewind_metrics(std::int64_t step);

  // The model (EMA weights when enabled) and normalisers as .safetensors (rank 0 writes).
  void save_model(const std::string& path, std::map<std::string, std::string> metadata) const;

  // A resumed job may train for more epochs than it was started with.
  void set_epochs(std::int64_t epochs) { options_.epochs = epochs; }
  // The schedule's horizon in steps when neither max_steps nor the epoch length gives one.
  void set_horizon(std::int64_t steps) { horizon_ = steps; }
  // The learning rate of step `step` (0-based) under the options' schedule and warm-up;
  // `steps_per_epoch` <= 0 when unknown. Throws a one-line error when the schedule needs a
  // horizon or an epoch length that nothing gives.
  double scheduled_lr(std::int64_t step, std::int64_t steps_per_epoch) const;
  // Steps in all: max_steps, else epochs x steps_per_epoch (> 0), else set_horizon()'s; 0: unknown.
  std::int64_t horizon(std::int64_t steps_per_epoch) const;
  std::int64_t step() const { return step_; }
  std::int64_t epoch() const { return epoch_; }
  double last_loss() const { return last_loss_; }
  // The objective's extra terms of the last step (means over the global batch).
  const std::map<std::string, double>& last_terms() const { return last_terms_; }
  double last_validation() const { return last_validation_; }
  double learning_rate() const;
  surrogates::Surrogate& model() { return *model_; }
  const TrainerOptions& options() const { return options_; }

  // Extra fields for every metrics line (e.g. the online trainer's buffer occupancy).
  void set_metrics_hook(std::function<void(std::map<std::string, double>&)> hook) { hook_ = std::move(hook); }
  // Called on every rank after each step (online training's progress line, fault tests).
  void set_step_hook(std::function<void(std::int64_t step)> hook) { step_hook_ = std::move(hook); }
  // Called on every rank at the end of each epoch with the epoch's mean training loss (over
  // the examples of its steps; a resumed epoch counts the steps before the kill too).
  void set_epoch_hook(std::function<void(std::int64_t epoch, double mean_loss)> hook) { epoch_hook_ = std::move(hook); }
  // Where rank 0's progress line goes at the end of each epoch (default: stdout).
  void set_progress(std::function<void(const std::string& line)> progress) { progress_ = std::move(progress); }
  // Called on every rank inside save_checkpoint(), before checkpoint.pt is replaced, so a
  // caller's own state (the online job's accounts and buffers) is saved with it.
  void set_checkpoint_hook(std::function<void(std::int64_t step)> hook) { checkpoint_hook_ = std::move(hook); }

 private:
  // Loads `path` into the model, optimizer and counters; a one-line Error if it cannot.
  void load_checkpoint(const std::string& path);
  void restore_checkpoint(torch::serialize::InputArchive& archive, const std::string& path);
  double train_step(const Batch& batch);
  void apply_schedule(std::int64_t steps_per_epoch);
  void update_ema();
  void log(const std::map<std::string, double>& fields, const std::string& event);
  void progress_line(std::int64_t steps_per_epoch, double loss, double samples_per_s);

  std::shared_ptr<surrogates::Surrogate> model_;
  std::shared_ptr<surrogates::Surrogate> ema_;  // EMA copy (same architecture)
  surrogates::UnitGaussianNormalizer input_norm_{nullptr}, target_norm_{nullptr};
  TrainerOptions options_;
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  std::string run_dir_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  GradientAllreduce allreduce_;
  std::int64_t step_ = 0, epoch_ = 0, batch_in_epoch_ = 0;
  std::int64_t horizon_ = 0;
  std::int64_t steps_per_epoch_ = -1;  // of the source fit() trains on
  double last_loss_ = 0, last_validation_ = -1;
  double epoch_loss_sum_ = 0, epoch_examples_ = 0;  // this epoch's loss x examples, examples
  std::unique_ptr<Objective> objective_;
  std::map<std::string, double> last_terms_;
  std::ofstream metrics_;
  std::chrono::steady_clock::time_point start_;
  double elapsed_before_ = 0;  // wall time of earlier runs of a resumed job
  std::function<void(std::map<std::string, double>&)> hook_;
  std::function<void(std::int64_t)> step_hook_, checkpoint_hook_;
  std::function<void(std::int64_t, double)> epoch_hook_;
  std::function<void(const std::string&)> progress_;
};

// Keeps the JSON Lines of `path` whose "step" is at most `step` (lines without one stay),
// atomically; returns how many it dropped. A missing file is left missing.
std::int64_t truncate_jsonl_after(const std::string& path, std::int64_t step);

// Intra-op threads so that ranks on one node do not oversubscribe its cores.
int default_threads(MPI_Comm comm);

}  // namespace pdestream::training
