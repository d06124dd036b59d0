#pragma once
// What the Trainer minimises. A surrogate family whose training is special (a denoising
// loss, an unrolled rollout, a pointwise loss) adds an Objective here instead of a second
// training loop: the allreduce, clipping, EMA, schedules and checkpoints stay the Trainer's.
//
//   [training]
//   objective = "supervised"   # registered objectives: objective_names()
//   loss = "rel_l2"            # supervised: rel_l2 (in physical units) | mse (normalised)
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

// Per-example relative L2 error ||pred - y|| / ||y|| over all non-batch dimensions.
torch::Tensor relative_l2(const torch::Tensor& pred, const torch::Tensor& y);

}  // namespace pdestream::training
