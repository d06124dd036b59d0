#include "surrogates/deeponet.hpp"

#include <cmath>

#include "core/error.hpp"

namespace pdestream::surrogates {

namespace {

bool sine(const std::string& activation) { return activation == "sin"; }

}  // namespace

ModifiedMlpImpl::ModifiedMlpImpl(const ModifiedMlpOptions& o) : options_(o) {
  if (!sine(o.activation)) options_.omega0 = 1.0;
  U = register_module("U", torch::nn::Linear(o.in_features, o.width));
  V = register_module("V", torch::nn::Linear(o.in_features, o.width));
  linears = register_module("linears", torch::nn::ModuleList());
  std::int64_t in = o.in_features;
  for (std::int64_t l = 0; l < o.depth; ++l) {
    linears->push_back(torch::nn::Linear(in, o.width));
    in = o.width;
  }
  linears->push_back(torch::nn::Linear(in, o.out_features));
  if (!o.modified) {
    // A plain MLP keeps no gates (their parameters would be dead weight in the file).
    unregister_module("U");
    unregister_module("V");
    U = nullptr;
    V = nullptr;
  }
  torch::NoGradGuard no_grad;
  const auto init = [&](torch::nn::LinearImpl& layer, bool first) {
    const double fan_in = static_cast<double>(layer.weight.size(1));
    if (sine(options_.activation)) {
      const double bound = first ? 1.0 / fan_in : std::sqrt(6.0 / fan_in) / 30.0;
      layer.weight.uniform_(-bound, bound);
    } else {
      torch::nn::init::xavier_uniform_(layer.weight);
    }
    layer.bias.zero_();
  };
  if (U) init(*U, true), init(*V, true);
  for (std::size_t l = 0; l < linears->size(); ++l) init(*linears[l]->as<torch::nn::Linear>(), l == 0);
}

torch::Tensor ModifiedMlpImpl::act(const torch::Tensor& x) const {
  if (options_.activation == "sin") return torch::sin(x);
  if (options_.activation == "tanh") return torch::tanh(x);
  return torch::gelu(x);
}

torch::Tensor ModifiedMlpImpl::forward(const torch::Tensor& y) {
  torch::Tensor u, v;
  if (options_.modified) {
    u = act(U->forward(y));
    v = act(V->forward(y));
  }
  const auto depth = static_cast<std::int64_t>(linears->size()) - 1;
  torch::Tensor h = y;
  for (std::int64_t l = 0; l < depth; ++l) {
    auto* layer = linears[l]->as<torch::nn::Linear>();
    // SIREN: omega0 scales the first layer's input product, not its bias.
    h = l == 0 ? act(options_.omega0 * torch::matmul(h, layer->weight.t()) + layer->bias) : act(layer->forward(h));
    if (options_.modified) h = h * u + (1 - h) * v;
  }
  return linears[depth]->as<torch::nn::Linear>()->forward(h);
}

nlohmann::json DeepOnetOptions::to_json() const {
  return {{"name", "deeponet"},          {"in_channels", in_channels},   {"out_channels", out_channels},
          {"cond_dim", cond_dim},        {"latent", latent},             {"branch_width", branch_width},
          {"branch_depth", branch_depth}, {"trunk_width", trunk_width},  {"trunk_depth", trunk_depth},
          {"activation", activation},    {"omega0", omega0},             {"modified", modified},
          {"fourier_features", fourier_features}};
}

void DeepOnetOptions::validate() const {
  PDS_CHECK(in_channels >= 1 && out_channels >= 1,
            "deeponet: expected at least 1 trunk coordinate and 1 output channel, got " << in_channels << " -> "
                                                                                       << out_channels);
  PDS_CHECK(cond_dim >= 1, "deeponet: expected a branch input (cond_dim >= 1: [task] condition = [\"x0\", ...] or "
                           "branch = \"sensors\"), got cond_dim = "
                               << cond_dim);
  PDS_CHECK(latent >= 1 && branch_width >= 1 && trunk_width >= 1 && branch_depth >= 1 && trunk_depth >= 1,
            "deeponet: expected latent, widths and depths >= 1, got latent " << latent << ", branch " << branch_depth
                                                                            << " x " << branch_width << ", trunk "
                                                                            << trunk_depth << " x " << trunk_width);
  PDS_CHECK(activation == "sin" || activation == "tanh" || activation == "gelu",
            "deeponet: activation: expected sin, tanh or gelu, got \"" << activation << "\"");
  PDS_CHECK(omega0 > 0, "deeponet: omega0: expected > 0, got " << omega0);
  for (double f : fourier_features)
    PDS_CHECK(std::isfinite(f) && f > 0, "deeponet: fourier_features: expected frequencies > 0, got " << f);
}

DeepOnetImpl::DeepOnetImpl(const DeepOnetOptions& o) : options_(o) {
  o.validate();
  const auto nf = static_cast<std::int64_t>(o.fourier_features.size());
  ModifiedMlpOptions b{o.cond_dim, o.out_channels * o.latent, o.branch_width, o.branch_depth, o.activation, o.omega0,
                       o.modified};
  ModifiedMlpOptions t{o.in_channels * (1 + 2 * nf), o.latent, o.trunk_width, o.trunk_depth, o.activation, o.omega0,
                       o.modified};
  branch = register_module("branch", ModifiedMlp(b));
  trunk = register_module("trunk", ModifiedMlp(t));
  b0 = register_parameter("b0", torch::zeros({o.out_channels}));
  std::vector<float> f(o.fourier_features.begin(), o.fourier_features.end());
  frequencies_ = torch::tensor(f, torch::kFloat32);
}

torch::Tensor DeepOnetImpl::features(const torch::Tensor& y) const {
  if (options_.fourier_features.empty()) return y;
  // [..., D] -> [..., D (1 + 2F)]: y, then cos for each f (all coordinates), then sin.
  auto angles = 2.0 * M_PI * y.unsqueeze(-2) * frequencies_.to(y.dtype()).view({-1, 1});  // [..., F, D]
  auto flat = [&](const torch::Tensor& a) { return a.flatten(-2); };
  return torch::cat({y, flat(torch::cos(angles)), flat(torch::sin(angles))}, -1);
}

torch::Tensor DeepOnetImpl::branch_latent(const torch::Tensor& cond) {
  PDS_CHECK(cond.defined() && cond.dim() == 2 && cond.size(1) == options_.cond_dim,
            "deeponet: expected the branch input cond [B, " << options_.cond_dim << "], got "
                                                            << (cond.defined() ? shape_str(cond) : "none"));
  return branch->forward(cond).view({cond.size(0), options_.out_channels, options_.latent});
}

torch::Tensor DeepOnetImpl::trunk_latent(const torch::Tensor& points) {
  PDS_CHECK(points.dim() == 2 && points.size(1) == options_.in_channels,
            "deeponet: expected trunk points [M, " << options_.in_channels << "], got " << shape_str(points));
  return trunk->forward(features(points));
}

torch::Tensor DeepOnetImpl::combine(const torch::Tensor& branch, const torch::Tensor& trunk) const {
  return torch::einsum("bcl,ml->bcm", {branch, trunk}) + b0.view({1, -1, 1});
}

torch::Tensor DeepOnetImpl::forward(const torch::Tensor& x) { return forward(x, torch::Tensor()); }

torch::Tensor DeepOnetImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  PDS_CHECK(x.defined() && x.dim() == 3 && x.size(1) == options_.in_channels,
            "deeponet: expected points [B, " << options_.in_channels << ", M], got "
                                             << (x.defined() ? shape_str(x) : "none"));
  check_cond("deeponet", cond, x.size(0), options_.cond_dim);
  auto b = branch_latent(cond);                             // [B, C, L]
  auto t = trunk->forward(features(x.transpose(1, 2)));     // [B, M, L]
  return torch::einsum("bcl,bml->bcm", {b, t}) + b0.view({1, -1, 1});
}

void DeepOnetImpl::pretty_print(std::ostream& os) const {
  const auto& o = options_;
  os << "DeepONet(branch " << o.cond_dim << " -> " << o.branch_depth << " x " << o.branch_width << " -> "
     << o.out_channels * o.latent << ", trunk " << o.in_channels;
  if (!o.fourier_features.empty()) os << " + " << 2 * o.fourier_features.size() << " Fourier features each";
  os << " -> " << o.trunk_depth << " x " << o.trunk_width << " -> " << o.latent << ", " << o.activation
     << (o.modified ? ", modified MLPs" : "") << ")";
}

}  // namespace pdestream::surrogates
