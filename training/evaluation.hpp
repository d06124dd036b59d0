#pragma once
// Evaluating a trained surrogate on whole trajectories: the model file is all it needs
// (architecture, task and normalisers travel in the .safetensors metadata).
//
//   field_at_time   every stored time predicted from (params, t)
//   operator        the target frame predicted from the input frame
//   autoregressive  a rollout from the first `history` frames over the horizon; the error
//                   is also reported per rollout step

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "surrogates/normalizer.hpp"
#include "surrogates/surrogate.hpp"
#include "surrogates/tasks.hpp"

namespace pdestream::training {

struct LoadedSurrogate {
  std::shared_ptr<surrogates::Surrogate> model;
  std::shared_ptr<surrogates::Task> task;
  surrogates::UnitGaussianNormalizer input{nullptr}, target{nullptr};
  std::map<std::string, std::string> metadata;

  // Reads a model.safetensors written by the trainer; a file without the architecture or
  // task metadata is a clear error.
  static LoadedSurrogate from_file(const std::string& path);
  // Physical-unit predictions for raw inputs [B, ...].
  torch::Tensor predict(const torch::Tensor& x) const;
};

struct TrajectoryEvaluation {
  std::vector<double> times;   // times of the predicted frames
  torch::Tensor prediction;    // [T, C, *spatial]
  torch::Tensor truth;         // [T, C, *spatial]
  double relative_l2 = 0;      // over the whole predicted trajectory
  std::vector<double> per_step;  // relative L2 of each predicted frame
};

TrajectoryEvaluation evaluate_trajectory(const LoadedSurrogate& surrogate, const surrogates::Trajectory& trajectory);

// A frame [C, *spatial] as a Field (x slowest, channel fastest) with the given channel names.
Field to_field(const torch::Tensor& frame, const std::vector<std::string>& channels);

}  // namespace pdestream::training
