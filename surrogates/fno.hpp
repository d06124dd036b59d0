#pragma once
// Fourier Neural Operator (Li et al. 2021) in 1, 2 and 3 dimensions, one implementation
// parameterised by the dimension, structured and named like the reference
// (fourier_1d.py / fourier_2d.py / fourier_3d.py, neuraloperator/fourier_neural_operator):
//
//   [grid channels appended] -> fc0 (Linear in -> width)
//   -> L x { conv{k} (spectral) + w{k} (1x1 Conv{1,2,3}d), GELU except after the last }
//   -> fc1 (Linear width -> 128) -> GELU -> fc2 (Linear 128 -> out)
//
// Parameter names and shapes match the reference, so a state dict moves both ways:
//   fc0.weight [width, in + dim], conv{k}.weights{c} [width, width, m1, .., md, 2],
//   w{k}.weight [width, width, 1, ..], fc1.*, fc2.*
// Spectral weights are real tensors with a trailing 2 (real, imaginary) viewed as complex
// in forward: libtorch 1.13's Adam mishandles complex parameters (DESIGN.md). A reference
// checkpoint with complex weights converts with torch.view_as_real.
//
// Modes: the spectral conv keeps the low-frequency corners of rfftn's half spectrum:
// 1 corner in 1D (weights1), 2 in 2D (weights1: low x, weights2: high x), 4 in 3D
// (weights1..4: x low/high in bit 0, y low/high in bit 1), as the reference does.
// Padding (for non-periodic problems) appends `padding` zero points at the end of every
// spatial axis before the Fourier layers and crops them after, as the reference's
// F.pad(x, [0, padding, ...]).

#include <cstdint>
#include <string>
#include <vector>

#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {

struct FnoOptions {
  int dim = 1;
  std::int64_t in_channels = 1;   // data channels; grid channels are added on top
  std::int64_t out_channels = 1;
  std::int64_t width = 64;
  std::vector<std::int64_t> modes{16};  // per axis; one value applies to every axis
  std::int64_t layers = 4;
  std::int64_t projection = 128;  // hidden size of the projection (fc1)
  bool grid = true;               // append normalised coordinates x, y, z in [0, 1]
  std::int64_t padding = 0;       // points appended per axis (0: periodic problem)
  std::int64_t cond_dim = 0;      // PDE parameters, appended as constant channels before fc0

  // modes expanded to one value per axis; throws on a wrong count.
  std::vector<std::int64_t> modes_per_axis() const;
  std::int64_t lift_in_features() const { return in_channels + cond_dim + (grid ? dim : 0); }
  nlohmann::json to_json() const;
};

class SpectralConvImpl : public torch::nn::Module {
 public:
  SpectralConvImpl(int dim, std::int64_t in_channels, std::int64_t out_channels,
                   std::vector<std::int64_t> modes);
  // x: [B, in, *spatial] real -> [B, out, *spatial]
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& os) const override;

  const std::vector<torch::Tensor>& weights() const { return weights_; }

 private:
  int dim_;
  std::int64_t in_, out_;
  std::vector<std::int64_t> modes_;
  std::vector<torch::Tensor> weights_;
};
TORCH_MODULE(SpectralConv);

class FnoImpl : public Surrogate {
 public:
  explicit FnoImpl(const FnoOptions& options = {});
  torch::Tensor forward(const torch::Tensor& x) override;
  // Conditioned: cond [B, cond_dim] joins the input as constant channels.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond) override;
  std::int64_t cond_dim() const override { return options_.cond_dim; }
  std::string kind() const override { return "fno"; }
  Layout layout() const override { return Layout::Field; }
  nlohmann::json options_json() const override { return options_.to_json(); }
  void pretty_print(std::ostream& os) const override;

  const FnoOptions& options() const { return options_; }
  // Throws unless a grid of this size (before padding) can carry the configured modes.
  void check_spatial(const std::vector<std::int64_t>& spatial) const;

 private:
  FnoOptions options_;
  std::vector<std::int64_t> modes_;
  torch::nn::Linear fc0_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
  std::vector<SpectralConv> convs_;
  std::vector<torch::nn::AnyModule> ws_;  // Conv1d/2d/3d by dimension
};
TORCH_MODULE(Fno);

}  // namespace pdestream::surrogates
