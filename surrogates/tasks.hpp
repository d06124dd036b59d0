#pragma once
// Tasks: how one trajectory of a PDE becomes (input, target) examples, and the model shape
// that follows from the data.
//
//   field_at_time   (params, t [, coordinates]) -> u(t)      heat2d (online-training paper)
//     vector layout (MLP): input [p_1..p_P, t], target the flattened field [C * N]
//     field layout: input P + 1 constant channels (params, t) broadcast over the grid,
//                   plus `coordinates` channels x, y, z in [0, 1] when enabled (leave it
//                   off for FNO, which appends its own grid), target [C, *spatial]
//     one example per stored time (include_initial = false skips t_0)
//   operator        u(t[input_index]) -> u(t[t_index])       Burgers (FNO paper)
//     one example per trajectory; negative indices count from the end (t_index = -1: T)
//   pointwise       M (x, t) points of one trajectory -> the values there       DeepONet
//     input [D, M]: the points' physical coordinates (D = spatial axes + time; the grid's
//     own, bound from the data), each scaled to [-1, 1] over `domain` ([[x0, x1], ...])
//     and `time_range` ([[t0, t1]]), taken from the training data's grid and times when not
//     given and kept in the model file; target [C, M]; the branch input is cond: the task's
//     condition (branch = "condition") or the first frame at `sensors` evenly spaced grid
//     points (branch = "sensors", cond [C * sensors]). The Nt x N points of a trajectory
//     (Nt - 1 without include_initial) are split into blocks of `points` by a fixed
//     permutation (`seed`): example i is block i, the last one wrapping around. Models
//     that take points: vector models (mlp, applied per point), deeponet.
//   autoregressive  u(t_{i-k+1}..t_i) stacked on channels -> u(t_{i+1})   Navier-Stokes
//     `history` k frames; `unroll` m next frames as the target, stacked on channels
//     ([m * C, *spatial]: unrolled training, objective = "rollout"; field models only);
//     Nt - k - m + 1 examples per trajectory; `horizon` is the number of rollout steps
//     evaluation uses (0: to the end of the trajectory). `stride` s > 1: the model steps s
//     stored frames (pdearena's time_step = 4 on KS): an example takes frames i, i + s, ...
//     for every i (all phases: Nt - s (k + m - 1) examples), and rollouts (validation,
//     evaluate) take frames 0, s, 2s, ... of any trajectory they read
//
// Every task may also condition the model on named PDE parameters ([task] condition, see
// condition.hpp): each example then carries cond [P], and the model shape cond_dim = P.
//
// Examples are unbatched ([C_in, *spatial] or [F]); collate() stacks them. Vector-layout
// tasks flatten fields channel-major ([C, *spatial] -> [C * N]).
//
//   [task]
//   kind = "autoregressive"
//   history = 10

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "surrogates/condition.hpp"
#include "surrogates/normalizer.hpp"
#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {

class OptionReader;

struct Trajectory {
  std::vector<double> params;  // the PDE parameters, in the order of the data's parameter names
  std::vector<double> times;   // Nt output times, the initial state included
  torch::Tensor frames;        // [Nt, C, *spatial] float32

  // Throws unless frames is [Nt, C, *spatial] (1-3 spatial axes) with Nt == times.size().
  void validate() const;
};

struct TrajectoryShape {
  std::int64_t num_params = 0;
  std::int64_t num_times = 0;
  std::int64_t channels = 0;
  std::vector<std::int64_t> spatial;
  std::vector<std::string> param_names;  // may be empty when only the count is known
  // The grid points' physical coordinates per spatial axis and the output times (empty
  // when unknown): what pointwise tasks turn into coordinates.
  std::vector<std::vector<double>> coordinates;
  std::vector<double> times;

  static TrajectoryShape of(const Trajectory& t);
  std::int64_t num_points() const;
};

// The resolution a task trains and predicts at: every reduce_x-th grid point along each
// axis and every reduce_t-th frame of the data (PDEBench's reduced_resolution and
// reduced_resolution_t), so a full-resolution file (PDEBench's 1024 x 201) trains and
// evaluates as it is.
//   [task]
//   reduce_x = 8
//   reduce_t = 5
struct Resolution {
  std::int64_t x = 1, t = 1;

  bool identity() const { return x == 1 && t == 1; }
  // frames[::t, :, ::x(, ::x(, ::x))], times[::t], params unchanged.
  Trajectory apply(const Trajectory& trajectory) const;
  // The kept points of a grid axis of n points, or of n frames: ceil(n / step).
  static std::int64_t kept(std::int64_t n, std::int64_t step) { return (n + step - 1) / step; }
  static Resolution read(OptionReader& reader);
  void to_json(nlohmann::json& options) const;  // nothing at full resolution
};

struct Example {
  torch::Tensor input;
  torch::Tensor target;
  torch::Tensor cond;  // [P] (batched [B, P]) when the task has a condition, else undefined
};

// Stack unbatched examples into one batch.
Example collate(const std::vector<Example>& examples);

class Task {
 public:
  explicit Task(Layout layout) : layout_(layout) {}
  virtual ~Task() = default;

  virtual std::string kind() const = 0;
  Layout layout() const { return layout_; }

  virtual std::int64_t num_examples(const TrajectoryShape& shape) const = 0;
  // Example i in [0, num_examples), with its cond when the task has a condition; throws
  // for an out-of-range index.
  Example example(const Trajectory& trajectory, std::int64_t i) const;
  // Channels (features), grid and cond_dim the model must take and produce for this data.
  ModelShape model_shape(const TrajectoryShape& shape) const;
  // Channels the input and target normalisers see (axis 1 of a batch).
  virtual std::int64_t input_channels(const TrajectoryShape& shape) const = 0;
  std::int64_t target_channels(const TrajectoryShape& shape) const { return shape.channels; }
  // "kind", every option and the condition, for the model file's metadata.
  nlohmann::json options_json() const;

  const Condition& condition() const { return condition_; }
  // Bind the task to the data: the condition to its parameter names (min-max ranges not
  // given from `ranges`), a pointwise task's coordinate scaling to its grid and times.
  // `origin` names the data in errors. Bound values go into options_json().
  void bind(const TrajectoryShape& shape, const std::map<std::string, std::pair<double, double>>& ranges,
            const std::string& origin) {
    if (!condition_.empty()) condition_.bind(shape.param_names, ranges, origin);
    bind_grid(shape, origin);
  }
  // Resolve the condition against the data's parameter names; see Condition::bind.
  void bind_condition(const std::vector<std::string>& names,
                      const std::map<std::string, std::pair<double, double>>& ranges, const std::string& origin) {
    condition_.bind(names, ranges, origin);
  }
  void set_condition(Condition condition) { condition_ = std::move(condition); }
  // The data resolution the task works at ([task] reduce_x, reduce_t); callers that load
  // trajectories apply it (TrajectoryStore::set_resolution, the online server).
  const Resolution& resolution() const { return resolution_; }
  void set_resolution(Resolution r) { resolution_ = r; }
  // cond [P] of a trajectory, undefined without a condition.
  torch::Tensor condition_vector(const Trajectory& trajectory) const;

 protected:
  virtual Example make_example(const Trajectory& trajectory, std::int64_t i) const = 0;
  virtual ModelShape make_model_shape(const TrajectoryShape& shape) const = 0;
  virtual nlohmann::json own_options() const = 0;
  virtual void bind_grid(const TrajectoryShape&, const std::string&) {}
  // [C, *spatial] -> [C * N] in vector layout, unchanged in field layout.
  torch::Tensor shape_field(const torch::Tensor& field) const;

 private:
  Layout layout_;
  Condition condition_;
  Resolution resolution_;
};

std::vector<std::string> task_kinds();
// From the [task] section (kind + options; unknown keys are errors). The layout is the
// model's (model_layout(name) in registry.hpp).
std::unique_ptr<Task> make_task(SectionReader& section, Layout layout);
std::unique_ptr<Task> make_task_from_json(const nlohmann::json& options, Layout layout,
                                          const std::string& origin = "task options");
std::unique_ptr<Task> make_task(const std::string& kind, OptionReader& reader, Layout layout);

// The task that validates `task` (autoregressive) by a full rollout: the same history,
// condition and binding, with the target the next `horizon` frames (the task's horizon
// option, else every frame after the history), one example per trajectory. The trainer
// predicts such unrolled targets autoregressively, so its validation error is the rollout's.
std::unique_ptr<Task> rollout_validation_task(const Task& task, const TrajectoryShape& shape);

// A pointwise task's example of every point of a trajectory (input [D, Nt' N], target
// [C, Nt' N], time-major), for evaluation on the full grid; `frames` returns the predicted
// frame count Nt'. Throws for other tasks.
Example pointwise_all_points(const Task& task, const Trajectory& trajectory, std::int64_t* frames = nullptr);

// A pointwise task's model input [D, M] for physical points coords [M, D] (grid axes, then
// time), scaled as the task scales its grid and times: what predicts a field anywhere, e.g.
// at receivers between grid points. Throws for other tasks.
torch::Tensor pointwise_input(const Task& task, const torch::Tensor& coords);

// Frames stacked on channels [B, m * C, *spatial] as a batch of frames [B * m, C, *spatial]
// (what the per-channel normalisers see of an unrolled target).
torch::Tensor frames_as_batch(const torch::Tensor& stacked, std::int64_t channels);

// Autoregressive rollout: initial_frames [B, k, C, *spatial] (the last k states), returns
// the next `steps` states [B, steps, C, *spatial], each prediction fed back as input.
// Vector-layout models get flattened frames. With normalisers, inputs are encoded and
// outputs decoded (the model works in normalised units). `cond` [B, P] (undefined: none)
// conditions every step. Runs under the caller's grad mode.
torch::Tensor rollout(Surrogate& model, const torch::Tensor& initial_frames, std::int64_t steps,
                      const UnitGaussianNormalizerImpl* input_normalizer = nullptr,
                      const UnitGaussianNormalizerImpl* target_normalizer = nullptr,
                      const torch::Tensor& cond = {});

}  // namespace pdestream::surrogates
