#pragma once
// CAPE: channel attention guided by the PDE parameters (Takamoto, Alesiani, Niepert, ICML 2023,
// "Learning Neural PDE Solvers with Parameter-Guided Channel Attention"), structured and
// named as the authors' reference (CAPE-ML4Sci, PrmEmbd.py), in 1D and 2D.
//
// The CAPE block (PrmEmb_Block_1d / _2d), C = input channels, d = width, p = cond [B, n_p]:
//   CNN_0   conv C -> d/2, kernel K, no bias                 y = GELU(CNN_0(x))
//   three branches, each scaled per channel by its own parameter MLP
//   fc{k}a  Linear n_p -> d/2, GELU, fc{k}b Linear d/2 -> d:  a_k = fc{k}b(GELU(fc{k}a(q)))
//     (a) average pool x4 -> CNN_SC spectral conv d/2 -> d (modes) -> nearest upsample x4, * a_0
//     (b) CNN_AC  1x1 conv d/2 -> d, * a_1
//     (c) CNN_AD  depthwise conv d/2 -> d (groups d/2), kernel K, no bias, * a_2
//   CNN_1   1x1 conv d/2 -> d (the skip)                     z = GELU(a + b + c + CNN_1(y))
//   CNN_2   1x1 conv d -> C                                  y = CNN_2(z)
//   LN      LayerNorm over space (the training grid)         1D: x + LN(y);  2D: x (1 + LN(y))
// In 1D q = p; in 2D q = sigmoid(log p) (so p must be positive there). Convolutions pad with
// zeros ('same'), as the reference's padding='same'. The LayerNorm's affine weights have the
// training grid's shape, so a CAPE model runs on the grid it was trained on.
//
// The model "cape" wraps any registered field model (the reference's _wrap_model):
//   PrmEmb_Pre.0   the CAPE block                             e = CAPE(x, p)
//   model          the base model on [x, e] (2C channels) -> 2 C_out channels
//   mix_emb        1x1 conv 2 C_out -> C_out                  out = mix_emb(model([x, e]))
// forward_with_block() also returns e, whose distance to the next frame is CAPE's auxiliary
// loss. The base model sees no cond (CAPE consumes it); its options nest under "base".
//
//   [model]
//   name = "cape"
//   width = 64          # d (the reference's widening_factor)
//   kernel = 5
//   modes = 16          # of CNN_SC (default 16 in 1D, 9 in 2D)
//   [model.base]
//   name = "fno"
//   width = 20

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "surrogates/fno.hpp"
#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {

struct CapeOptions {
  int dim = 1;                      // 1 or 2
  std::int64_t in_channels = 1;
  std::int64_t out_channels = 1;
  std::int64_t cond_dim = 1;        // n_p
  std::int64_t width = 64;          // d, even
  std::int64_t kernel = 5;          // odd
  std::int64_t modes = 16;          // of the spectral branch, per axis
  std::int64_t pool = 4;            // the spectral branch's pooling factor
  std::vector<std::int64_t> spatial;  // the training grid (the LayerNorm's shape)

  void validate() const;
  nlohmann::json to_json() const;  // without the base model
};

class CapeBlockImpl : public torch::nn::Module {
 public:
  explicit CapeBlockImpl(const CapeOptions& options);
  // x [B, C, *spatial], cond [B, n_p] -> [B, C, *spatial]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond);

 private:
  CapeOptions options_;
  torch::nn::AnyModule cnn_0_, cnn_ad_, cnn_ac_, cnn_1_, cnn_2_;
  SpectralConv cnn_sc_{nullptr};
  torch::nn::Linear fc_a_[3] = {nullptr, nullptr, nullptr}, fc_b_[3] = {nullptr, nullptr, nullptr};
  torch::nn::LayerNorm ln_{nullptr};
};
TORCH_MODULE(CapeBlock);

class CapeImpl : public Surrogate {
 public:
  CapeImpl(const CapeOptions& options, std::shared_ptr<Surrogate> base);
  // CAPE needs the parameters: forward(x) without cond is an error naming them.
  torch::Tensor forward(const torch::Tensor& x) override;
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond) override;
  // (the prediction, the CAPE block's own output e) for the auxiliary loss.
  std::pair<torch::Tensor, torch::Tensor> forward_with_block(const torch::Tensor& x, const torch::Tensor& cond);
  std::int64_t cond_dim() const override { return options_.cond_dim; }
  std::string kind() const override { return "cape"; }
  Layout layout() const override { return Layout::Field; }
  nlohmann::json options_json() const override;
  void pretty_print(std::ostream& os) const override;

  const CapeOptions& options() const { return options_; }
  Surrogate& base() { return *base_; }
  // The CAPE block's parameters (what its warm-up trains alone).
  std::vector<torch::Tensor> block_parameters() const;

 private:
  CapeOptions options_;
  std::shared_ptr<Surrogate> base_;
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::AnyModule mix_emb_;
};
TORCH_MODULE(Cape);

}  // namespace pdestream::surrogates
