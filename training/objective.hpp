#pragma once
// What the Trainer minimises. A surrogate family whose training is special (a denoising
// loss, an unrolled rollout, a pointwise loss) adds an Objective here instead of a second
// training loop: the allreduce, clipping, EMA, schedules and checkpoints stay the Trainer's.
//
//   [training]
//   objective = "supervised"   # registered objectives: objective_names()
//   loss = "rel_l2"            # the per-example error: rel_l2 (physical units) | mse (normalised)
//
//   objective = "rollout"      # unrolled training: the autoregressive task's unroll = m
//   curriculum = "tanh"        #   none | linear | tanh: how many steps feed predictions back
//   pushforward = false        #   no gradient through the fed-back predictions
//   input_noise = 0.0          #   Gaussian noise (std, normalised units) on the input frames
//   unroll_loss = "all"        #   all | last: the loss of every unrolled step, or the last
//
//   objective = "cape"         # the rollout objective (same keys) for a model "cape", plus
//   aux_weight = 1e-3          #   the CAPE block's own one-step loss (`loss` of its
//                              #   output to the next window) times aux_weight, and
//   block_warmup_steps = 0     #   first steps in which only the block trains, on that loss
//
//   objective = "pde_refiner"  # PDE-Refiner's denoising loss (model "pde_refiner" only; it
//                              #   is the objective that model requires)
//
// Randomness: an objective draws its noise, noise levels, rollout lengths or points from
// ObjectiveInput::generator(i), seeded by (training.seed, step, the example's position in
// the global batch) only, so R trainer ranks follow 1 rank and a resume continues bit for
// bit.

#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "surrogates/normalizer.hpp"
#include "surrogates/surrogate.hpp"
#include "training/data_source.hpp"

namespace pdestream::training {

// One step's shard and everything an objective may use.
struct ObjectiveInput {
  const Batch& batch;
  surrogates::Surrogate& model;
  surrogates::UnitGaussianNormalizerImpl* input = nullptr;   // null: inputs are used raw
  surrogates::UnitGaussianNormalizerImpl* target = nullptr;  // null: targets are used raw
  std::uint64_t seed = 0;
  std::int64_t step = 0;
  std::int64_t horizon = 0;  // the run's steps in all (Trainer::horizon), 0 if unknown

  // A generator for example i of this shard, seeded by (seed, step, batch.offset + i).
  torch::Generator generator(std::int64_t i) const;
};

struct ObjectiveOutput {
  torch::Tensor loss;                          // [b] per example, differentiable
  std::map<std::string, torch::Tensor> terms;  // [b] per example each, for metrics only
};

class Objective {
 public:
  virtual ~Objective() = default;
  virtual std::string kind() const = 0;
  // Names of the extra terms compute() returns (the same on every rank, also for b = 0).
  virtual std::vector<std::string> term_names() const { return {}; }
  // Called with b >= 1 examples.
  virtual ObjectiveOutput compute(const ObjectiveInput& in) = 0;
};

// An objective's options are read from [training] when the options are, and kept as JSON
// (TrainerOptions::objective_options), so the Trainer can rebuild the objective anywhere.
struct ObjectiveRegistration {
  std::function<nlohmann::json(SectionReader& training)> read_options;
  std::function<std::unique_ptr<Objective>(const nlohmann::json& options)> make;
};
void register_objective(const std::string& name, ObjectiveRegistration registration);
std::vector<std::string> objective_names();
// Reads `name`'s keys from the [training] section.
nlohmann::json read_objective_options(const std::string& name, SectionReader& training);
std::unique_ptr<Objective> make_objective(const std::string& name, const nlohmann::json& options);

// The rollout objective's curriculum: how many of m unrolled steps feed the model's own
// prediction back (the rest get the true frames: teacher forcing), at `progress` in [0, 1]
// of training. none: m; linear: tau = progress; tanh (CAPE): tau = (1 + tanh((progress -
// 1/2) / 0.2)) / 2; then t_ar = clip(floor(m tau), 1, m).
std::int64_t curriculum_steps(const std::string& kind, double progress, std::int64_t m);

// Per-example relative L2 error ||pred - y|| / ||y|| over all non-batch dimensions.
torch::Tensor relative_l2(const torch::Tensor& pred, const torch::Tensor& y);

}  // namespace pdestream::training
