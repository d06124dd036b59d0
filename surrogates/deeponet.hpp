#pragma once
// DeepONet for sound fields from parameterised sources (Borrel-Jensen et al., PNAS 2024;
// dtu-act/deeponet-acoustic-wave-prop): the branch net takes the conditioning vector (the
// source position), the trunk net a space-time point, and
//
//   G(cond)(y) = sum_i b_i(cond) t_i(y) + b0            (latent size 100 by default)
//
// On the pointwise task's points x [B, D, M] (each coordinate scaled to [-1, 1]) with cond
// [B, P] it returns [B, C, M]; C > 1 output channels get C latent blocks from the branch.
//
// Both nets are "modified MLPs": two gates U = act(W_U y), V = act(W_V y) of the net's input,
// and after every hidden layer h <- h * U + (1 - h) * V. With the sine activation the first
// layers see omega0 (= 30) times their input (SIREN) and are initialised uniformly in
// +-1/fan_in, the others in +-sqrt(6/fan_in)/omega0; with tanh or gelu, Xavier-uniform and
// omega0 = 1. Biases start at zero. The trunk may first expand its input with Fourier
// features y -> [y, cos(2 pi f y) for each f, sin(2 pi f y) for each f] at the given
// frequencies (cycles per unit of the scaled coordinate; the paper's [1.458, 0.729, 0.486]
// are 500, 250, 167 Hz over c for a 2 m room scaled to [-1, 1]).
//
// Parameter names: branch.U, branch.V, branch.linears.0 .. depth (the last is the output
// layer), the same under trunk., and b0: the reference's transformerU_bn, linear_bn_i, b0.

#include <cstdint>
#include <string>
#include <vector>

#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {

struct ModifiedMlpOptions {
  std::int64_t in_features = 1;
  std::int64_t out_features = 1;
  std::int64_t width = 256;
  std::int64_t depth = 4;           // hidden layers
  std::string activation = "sin";   // sin | tanh | gelu
  double omega0 = 30.0;             // sine only: the first layer's frequency factor
  bool modified = true;             // the U/V gates (false: a plain MLP)
};

// One of DeepONet's two nets.
class ModifiedMlpImpl : public torch::nn::Module {
 public:
  explicit ModifiedMlpImpl(const ModifiedMlpOptions& options);
  torch::Tensor forward(const torch::Tensor& y);  // [..., in] -> [..., out]
  const ModifiedMlpOptions& options() const { return options_; }

 private:
  torch::Tensor act(const torch::Tensor& x) const;
  ModifiedMlpOptions options_;
  torch::nn::Linear U{nullptr}, V{nullptr};
  torch::nn::ModuleList linears{nullptr};
};
TORCH_MODULE(ModifiedMlp);

struct DeepOnetOptions {
  std::int64_t in_channels = 4;     // trunk coordinates D (x, y, z, t)
  std::int64_t out_channels = 1;    // C
  std::int64_t cond_dim = 3;        // branch input P (the source position)
  std::int64_t latent = 100;
  std::int64_t branch_width = 256, branch_depth = 4;
  std::int64_t trunk_width = 256, trunk_depth = 4;
  std::string activation = "sin";
  double omega0 = 30.0;
  bool modified = true;
  std::vector<double> fourier_features;  // trunk input frequencies (empty: none)

  nlohmann::json to_json() const;
  void validate() const;  // one-line Error naming the bad option
};

class DeepOnetImpl : public Surrogate {
 public:
  explicit DeepOnetImpl(const DeepOnetOptions& options = {});
  // DeepONet needs its branch input: forward(x) without cond is a one-line error.
  torch::Tensor forward(const torch::Tensor& x) override;
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond) override;
  std::int64_t cond_dim() const override { return options_.cond_dim; }
  std::string kind() const override { return "deeponet"; }
  Layout layout() const override { return Layout::Vector; }
  nlohmann::json options_json() const override { return options_.to_json(); }
  void pretty_print(std::ostream& os) const override;
  const DeepOnetOptions& options() const { return options_; }

  // The two halves, so a caller can evaluate the branch once per source and the trunk once
  // per point set: branch [B, P] -> [B, C, latent]; trunk points [M, D] -> [M, latent].
  torch::Tensor branch_latent(const torch::Tensor& cond);
  torch::Tensor trunk_latent(const torch::Tensor& points);
  // sum_i b_i t_i + b0: [B, C, latent] x [M, latent] -> [B, C, M] (the same points for all B).
  torch::Tensor combine(const torch::Tensor& branch, const torch::Tensor& trunk) const;

 private:
  torch::Tensor features(const torch::Tensor& points) const;
  DeepOnetOptions options_;
  ModifiedMlp branch{nullptr}, trunk{nullptr};
  torch::Tensor b0;
  torch::Tensor frequencies_;  // [F]
};
TORCH_MODULE(DeepOnet);

}  // namespace pdestream::surrogates
