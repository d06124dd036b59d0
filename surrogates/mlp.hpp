#pragma once
// Fully connected baseline (the FCN of the online-training paper, Meyer et al. 2023:
// PDE parameters and time in, the whole flattened field out), [B, F_in] -> [B, F_out]; on
// points [B, F_in, M] (the pointwise task) it is one coordinate network applied at every
// point, cond [B, P] joining each point's features.
//
// Registered as one Sequential named `layers` holding Linear and activation modules in
// turn, exactly like a Python nn.Sequential(Linear, ReLU, Linear, ReLU, Linear): the
// parameter keys are layers.0.weight, layers.0.bias, layers.2.weight, ... (activations take
// the odd indices and own no parameters).

#include <cstdint>
#include <string>
#include <vector>

#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {

struct MlpOptions {
  std::int64_t in_features = 1;
  std::int64_t out_features = 1;
  std::vector<std::int64_t> hidden{256, 256};
  std::string activation = "relu";  // relu | gelu | tanh | silu
  std::int64_t cond_dim = 0;        // PDE parameters, appended to the input features

  nlohmann::json to_json() const;
};

const std::vector<std::string>& activation_names();
// An activation module by name (for Sequential containers).
torch::nn::AnyModule make_activation(const std::string& name);
// The same activation as a function.
torch::Tensor apply_activation(const std::string& name, const torch::Tensor& x);

class MlpImpl : public Surrogate {
 public:
  explicit MlpImpl(const MlpOptions& options = {});
  torch::Tensor forward(const torch::Tensor& x) override;
  // Conditioned: cond [B, cond_dim] joins the input features.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond) override;
  std::int64_t cond_dim() const override { return options_.cond_dim; }
  std::string kind() const override { return "mlp"; }
  Layout layout() const override { return Layout::Vector; }
  nlohmann::json options_json() const override { return options_.to_json(); }
  void pretty_print(std::ostream& os) const override;
  const MlpOptions& options() const { return options_; }

 private:
  MlpOptions options_;
  torch::nn::Sequential layers_{nullptr};
};
TORCH_MODULE(Mlp);

}  // namespace pdestream::surrogates
