#pragma once
// pdearena's "modern U-Net" (Gupta & Brandstetter 2022; the backbone of PDE-Refiner, Lippe et
// al. 2023), 1D and 2D: [B, C_in, *spatial] -> [B, C_out, *spatial], with a sinusoidal
// embedding of a scalar "time" (PDE-Refiner's refinement step) and of each conditioning
// parameter, added in every residual block.
//
//   image_proj            conv k3 (C_in -> hidden)
//   time_embed.{0,2}      Linear(hidden -> 4 hidden), GELU, Linear(4 hidden -> 4 hidden) on the
//                         Fourier embedding of t (hidden/2 frequencies 10000^(-i/(hidden/2)),
//                         [cos, sin])
//   pde_emb.{p}.{0,2}     the same MLP for each conditioning parameter; emb = time + sum of these
//   down.{i}              per level l: n_blocks ResidualBlocks (channels times ch_mults[l],
//                         cumulatively), then a Downsample (conv k3 stride 2) but after the last
//   middle.res1, res2     two ResidualBlocks at the bottom (no attention)
//   up.{i}                per level, top-down: n_blocks + 1 ResidualBlocks on [x, skip] (the
//                         last one reduces the channels by ch_mults[l]), then an Upsample
//                         (ConvTranspose k4 stride 2) but after the top level
//   norm, final           GroupNorm(8, hidden), GELU, conv k3 (hidden -> C_out)
//   ResidualBlock         h = conv1(act(norm1(x))) + cond_emb(emb); h = conv2(act(norm2(h)));
//                         h + shortcut(x) (1x1 conv when the channels change); GroupNorm with
//                         1 group; conv2 and `final` start at zero, so the untrained model is 0
//
// Every convolution but the transposed ones pads circularly (`padding = "circular"`, periodic
// data) or with zeros: pdearena's circular Conv1d does not reach its ConvTranspose1d, so the
// model is shift-equivariant only up to edge effects of the upsampling (tested). pdearena's Unetmod-1d-64 is hidden 64, ch_mults (1, 2, 2, 4), 2 blocks:
// channels 64, 128, 256, 1024 (the multipliers compound). The spatial size must be divisible
// by 2^(levels - 1).
//
// difference_weight w > 0 (pdearena's predict_difference / difference_weight): forward() returns
// the last input frame (the last out_channels input channels) plus w times the network's
// output, so the network learns the scaled change over one step; forward_with_time stays the
// bare network.
//
// forward(x, cond) embeds t = 0; forward_with_time(x, t, cond) takes t [B] (PDE-Refiner passes
// its step index times 1000 / K). cond [B, cond_dim] holds the parameters, each embedded by its
// own MLP (pdearena's scalar_N conditioning; scale them to about 0..10 first).

#include <cstdint>
#include <string>
#include <vector>

#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {

struct UnetModernOptions {
  int dim = 1;                                 // 1 or 2
  std::int64_t in_channels = 1;
  std::int64_t out_channels = 1;
  std::int64_t hidden = 64;
  std::vector<std::int64_t> ch_mults = {1, 2, 2, 4};
  std::int64_t n_blocks = 2;
  bool norm = true;
  std::string padding = "circular";            // circular | zeros
  std::int64_t cond_dim = 0;                   // conditioning parameters, each embedded
  double difference_weight = 0;                // 0: predict the next frame; w: its change / w

  nlohmann::json to_json() const;
  void validate() const;
};

// The last `channels` channels of x [B, k * channels, *spatial]: the latest frame of a history.
torch::Tensor last_frame(const torch::Tensor& x, std::int64_t channels);

// [B] -> [B, dim]: cos and sin of t times dim/2 frequencies 10000^(-i/(dim/2)).
torch::Tensor fourier_embedding(const torch::Tensor& t, std::int64_t dim, double max_period = 10000.0);

class ModernResidualBlockImpl : public torch::nn::Module {
 public:
  ModernResidualBlockImpl(int dim, std::int64_t in, std::int64_t out, std::int64_t emb_dim, bool norm,
                          const std::string& padding);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& emb);

 private:
  int dim_;
  torch::nn::AnyModule conv1_, conv2_, shortcut_;
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Linear cond_emb_{nullptr};
};
TORCH_MODULE(ModernResidualBlock);

// A level's block, holding its residual block as `res` (pdearena's DownBlock / UpBlock
// without attention), or a resampling convolution held as `conv`.
class UnetModernStageImpl : public torch::nn::Module {
 public:
  UnetModernStageImpl(ModernResidualBlock res);
  UnetModernStageImpl(torch::nn::AnyModule conv);
  bool is_block() const { return !res_.is_empty(); }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& emb);

 private:
  ModernResidualBlock res_{nullptr};
  torch::nn::AnyModule conv_;
};
TORCH_MODULE(UnetModernStage);

class UnetModernImpl : public Surrogate {
 public:
  explicit UnetModernImpl(const UnetModernOptions& options = {});
  torch::Tensor forward(const torch::Tensor& x) override;
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond) override;
  // t [B] (or a scalar, broadcast): the embedded time / refinement step.
  torch::Tensor forward_with_time(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& cond);
  std::int64_t cond_dim() const override { return options_.cond_dim; }
  std::string kind() const override { return "unet_modern"; }
  Layout layout() const override { return Layout::Field; }
  nlohmann::json options_json() const override { return options_.to_json(); }
  void pretty_print(std::ostream& os) const override;
  const UnetModernOptions& options() const { return options_; }

 private:
  torch::Tensor embedding(const torch::Tensor& t, const torch::Tensor& cond, std::int64_t batch);

  UnetModernOptions options_;
  torch::nn::AnyModule image_proj_, final_;
  torch::nn::Sequential time_embed_{nullptr};
  std::vector<torch::nn::Sequential> pde_emb_;
  std::vector<UnetModernStage> down_, up_;
  ModernResidualBlock middle1_{nullptr}, middle2_{nullptr};
  torch::nn::GroupNorm norm_{nullptr};
};
TORCH_MODULE(UnetModern);

}  // namespace pdestream::surrogates
