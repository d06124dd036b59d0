#pragma once
// Which named PDE parameters condition a model, and how each is scaled: the conditioning
// vector cond [P] of every example, [B, P] in a batch.
//
//   [task]
//   condition = ["nu", "beta"]             # names from the solver, the sampler or the file
//   condition_transform = ["log", "none"]  # per name: none | log | minmax | log_minmax
//   condition_range = [[0.5, 1.5], [0.1, 4.0]]  # optional: the [low, high] min-max maps to [0, 1]
//
// minmax maps [low, high] to [0, 1]; log_minmax does so in log space. A range left out comes
// from the data when the job binds the condition: online, the [parameters] range the sampler
// draws from; offline, the training trajectories' smallest and largest value. Bound ranges
// go into the task's options, so a model file conditions exactly as its training did.
// No condition (the default) leaves cond undefined and the model unconditioned; ic_seed and
// every other parameter condition nothing unless named.

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace pdestream::surrogates {

class OptionReader;

class Condition {
 public:
  struct Parameter {
    std::string name;
    std::string transform = "none";
    double low = 0.0, high = 0.0;
    bool has_range = false;
  };

  Condition() = default;
  // Reads condition, condition_transform and condition_range (all optional).
  static Condition read(OptionReader& reader);
  static const std::vector<std::string>& transforms();

  bool empty() const { return parameters_.empty(); }
  std::int64_t size() const { return static_cast<std::int64_t>(parameters_.size()); }
  const std::vector<Parameter>& parameters() const { return parameters_; }

  // Finds each name among the data's parameter names (a one-line error names a missing one
  // and lists those there are) and takes a min-max range not given from `ranges`.
  // `data_origin` says where the names came from ("train_data.h5", "solver heat2d").
  void bind(const std::vector<std::string>& names, const std::map<std::string, std::pair<double, double>>& ranges,
            const std::string& data_origin);
  bool bound() const { return empty() || !index_.empty(); }
  // cond [P] float32 of one trajectory's parameter values (in the bound names' order).
  torch::Tensor vector(const std::vector<double>& params) const;
  // The condition keys (with bound ranges) into a task's options; nothing when empty.
  void to_json(nlohmann::json& options) const;
  // The conditioning vector's normaliser, for readers of a model file that do not rebuild the
  // task (Python): cond_i = scale_i * (log v_i if log_i else v_i) + shift_i, as
  // {"names": [...], "log": [...], "scale": [...], "shift": [...]}; null when empty.
  nlohmann::json normalizer_json() const;

 private:
  std::vector<Parameter> parameters_;
  std::vector<std::size_t> index_;  // position of each parameter in the data's list
};

// [low, high] of each named parameter over `values` (rows: trajectories).
std::map<std::string, std::pair<double, double>> parameter_ranges(const std::vector<std::string>& names,
                                                                  const std::vector<std::vector<double>>& values);

}  // namespace pdestream::surrogates
