#pragma once
// U-Net in 1D and 2D: the usual convolutional baseline and the backbone that PDE-Refiner
// and CAPE reuse. [B, C_in, *spatial] -> [B, C_out, *spatial].
//
//   inc                  ConvBlock(in -> w)
//   down.{i}, i < L      max-pool 2, ConvBlock(w 2^i -> w 2^(i+1))
//   up.{i}               up (ConvTranspose k=2 s=2, halves the channels), concatenate the
//                        skip of the same level, block ConvBlock(2c -> c)
//   outc                 1x1 convolution (w -> out)
//   ConvBlock            conv1 (k=3) [norm1 GroupNorm] [FiLM] act, conv2 [norm2] act
//
// Grids that are not a multiple of 2^levels are padded at the end of each axis
// (replicating the edge values) and cropped back, so vertex grids (65, 129, ...) work.
//
// Conditioning (optional, cond_dim > 0): forward(x, cond) with cond [B, cond_dim]. Each
// ConvBlock owns `film`, a Linear(cond_dim -> 2 c_out) giving a per-channel scale and shift
// applied after norm1: h = h * (1 + scale) + shift (FiLM, Perez et al. 2018). PDE-Refiner
// feeds its time/noise-level embedding here, CAPE its parameter embedding. A conditioned
// U-Net requires cond; an unconditioned one rejects it.

#include <cstdint>
#include <string>
#include <vector>

#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {

struct UnetOptions {
  int dim = 2;                    // 1 or 2
  std::int64_t in_channels = 1;
  std::int64_t out_channels = 1;
  std::int64_t width = 32;        // channels of the first level; doubles per level
  std::int64_t levels = 3;        // number of down/up steps
  bool norm = true;               // GroupNorm after each convolution
  std::string activation = "gelu";
  std::int64_t cond_dim = 0;      // 0: no FiLM conditioning

  nlohmann::json to_json() const;
};

class UnetBlockImpl : public torch::nn::Module {
 public:
  UnetBlockImpl(int dim, std::int64_t in, std::int64_t out, bool norm, std::string activation,
                std::int64_t cond_dim);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond);
  void pretty_print(std::ostream& os) const override;

 private:
  int dim_;
  std::int64_t in_, out_;
  std::string activation_;
  torch::nn::AnyModule conv1_, conv2_;
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Linear film_{nullptr};
};
TORCH_MODULE(UnetBlock);

class UnetUpImpl : public torch::nn::Module {
 public:
  UnetUpImpl(int dim, std::int64_t in, bool norm, std::string activation, std::int64_t cond_dim);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& skip, const torch::Tensor& cond);

 private:
  torch::nn::AnyModule up_;
  UnetBlock block_{nullptr};
};
TORCH_MODULE(UnetUp);

class UnetImpl : public Surrogate {
 public:
  explicit UnetImpl(const UnetOptions& options = {});
  torch::Tensor forward(const torch::Tensor& x) override;
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond) override;
  std::int64_t cond_dim() const override { return options_.cond_dim; }
  std::string kind() const override { return "unet"; }
  Layout layout() const override { return Layout::Field; }
  nlohmann::json options_json() const override { return options_.to_json(); }
  void pretty_print(std::ostream& os) const override;
  const UnetOptions& options() const { return options_; }

 private:
  UnetOptions options_;
  UnetBlock inc_{nullptr};
  std::vector<UnetBlock> down_;
  std::vector<UnetUp> up_;
  torch::nn::AnyModule outc_;
};
TORCH_MODULE(Unet);

}  // namespace pdestream::surrogates
