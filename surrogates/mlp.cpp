#include "surrogates/mlp.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace pdestream::surrogates {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names{"relu", "gelu", "tanh", "silu"};
  return names;
}

torch::nn::AnyModule make_activation(const std::string& name) {
  if (name == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
  if (name == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  if (name == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
  if (name == "silu") return torch::nn::AnyModule(torch::nn::SiLU());
  PDS_FAIL("activation: expected one of relu, gelu, tanh, silu, got \"" << name << "\"");
}

torch::Tensor apply_activation(const std::string& name, const torch::Tensor& x) {
  if (name == "relu") return torch::relu(x);
  if (name == "gelu") return torch::gelu(x);
  if (name == "tanh") return torch::tanh(x);
  if (name == "silu") return torch::silu(x);
  PDS_FAIL("activation: expected one of relu, gelu, tanh, silu, got \"" << name << "\"");
}

nlohmann::json MlpOptions::to_json() const {
  return {{"name", "mlp"},   {"in_channels", in_features}, {"out_channels", out_features},
          {"hidden", hidden}, {"activation", activation}, {"cond_dim", cond_dim}};
}

MlpImpl::MlpImpl(const MlpOptions& o) : options_(o) {
  PDS_CHECK(o.in_features >= 1 && o.out_features >= 1,
            "mlp: expected at least 1 input and 1 output feature, got " << o.in_features << " -> " << o.out_features);
  for (auto h : o.hidden) PDS_CHECK(h >= 1, "mlp: hidden: expected sizes >= 1, got " << shape_str(o.hidden));
  make_activation(o.activation);  // validates the name
  layers_ = torch::nn::Sequential();
  std::int64_t in = o.in_features + o.cond_dim;
  for (auto h : o.hidden) {
    layers_->push_back(torch::nn::Linear(in, h));
    layers_->push_back(make_activation(o.activation));
    in = h;
  }
  layers_->push_back(torch::nn::Linear(in, o.out_features));
  register_module("layers", layers_);
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) { return forward(x, torch::Tensor()); }

torch::Tensor MlpImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  PDS_CHECK(x.defined() && (x.dim() == 2 || x.dim() == 3) && x.size(1) == options_.in_features,
            "mlp: expected input [B, " << options_.in_features << "] (or points [B, " << options_.in_features
                                       << ", M]), got " << shape_str(x));
  check_cond("mlp", cond, x.size(0), options_.cond_dim);
  if (x.dim() == 2) return layers_->forward(cond.defined() ? torch::cat({x, cond}, 1) : x);
  // Points (the pointwise task): the same network at each of the M points, cond shared.
  auto points = x.transpose(1, 2);  // [B, M, F]
  if (cond.defined()) points = torch::cat({points, cond.unsqueeze(1).expand({-1, x.size(2), -1})}, 2);
  return layers_->forward(points).transpose(1, 2).contiguous();  // [B, out, M]
}

void MlpImpl::pretty_print(std::ostream& os) const {
  os << "MLP(" << options_.in_features << (options_.cond_dim ? "+" + std::to_string(options_.cond_dim) + " cond" : "")
     << " -> " << shape_str(options_.hidden) << " -> " << options_.out_features
     << ", " << options_.activation << ")";
}

}  // namespace pdestream::surrogates
