#include "surrogates/unet_modern.hpp"

#include <cmath>

#include "core/error.hpp"

namespace pdestream::surrogates {

namespace {

torch::nn::AnyModule conv(int dim, std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                          const std::string& padding) {
  torch::nn::detail::conv_padding_mode_t mode = torch::kZeros;
  if (padding == "circular") mode = torch::kCircular;
  if (dim == 1)
    return torch::nn::AnyModule(
        torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, k).stride(stride).padding(k / 2).padding_mode(mode)));
  return torch::nn::AnyModule(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).padding_mode(mode)));
}

// pdearena's Upsample: a transposed convolution k4, stride 2, padding 1 (zero padding).
torch::nn::AnyModule upsample(int dim, std::int64_t c) {
  if (dim == 1)
    return torch::nn::AnyModule(
        torch::nn::ConvTranspose1d(torch::nn::ConvTranspose1dOptions(c, c, 4).stride(2).padding(1)));
  return torch::nn::AnyModule(
      torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(c, c, 4).stride(2).padding(1)));
}

void zero_parameters(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.zero_();
}

torch::nn::Sequential embedding_mlp(std::int64_t in, std::int64_t out) {
  return torch::nn::Sequential(torch::nn::Linear(in, out), torch::nn::GELU(), torch::nn::Linear(out, out));
}

}  // namespace

nlohmann::json UnetModernOptions::to_json() const {
  return {{"name", "unet_modern"}, {"dim", dim},           {"in_channels", in_channels},
          {"out_channels", out_channels}, {"hidden", hidden}, {"ch_mults", ch_mults},
          {"n_blocks", n_blocks},  {"norm", norm},         {"padding", padding},
          {"cond_dim", cond_dim}, {"difference_weight", difference_weight}};
}

void UnetModernOptions::validate() const {
  PDS_CHECK(dim == 1 || dim == 2, "unet_modern: expected dim 1 or 2, got " << dim);
  PDS_CHECK(hidden >= 8 && hidden % 8 == 0 && hidden % 2 == 0,
            "unet_modern: hidden: expected a multiple of 8 (GroupNorm(8) at the output), got " << hidden);
  PDS_CHECK(!ch_mults.empty(), "unet_modern: ch_mults: expected at least one level");
  for (auto m : ch_mults) PDS_CHECK(m >= 1, "unet_modern: ch_mults: expected multipliers >= 1, got " << m);
  PDS_CHECK(n_blocks >= 1, "unet_modern: n_blocks: expected >= 1, got " << n_blocks);
  PDS_CHECK(difference_weight >= 0, "unet_modern: difference_weight: expected >= 0, got " << difference_weight);
  PDS_CHECK(difference_weight == 0 || in_channels % out_channels == 0,
            "unet_modern: difference_weight: expected input channels that are frames of the "
                << out_channels << " output channels, got " << in_channels);
  PDS_CHECK(padding == "circular" || padding == "zeros",
            "unet_modern: padding: expected circular or zeros, got \"" << padding << "\"");
}

torch::Tensor fourier_embedding(const torch::Tensor& t, std::int64_t dim, double max_period) {
  const auto half = dim / 2;
  const auto freqs =
      torch::exp(-std::log(max_period) * torch::arange(half, t.options().dtype(torch::kFloat32)) / half);
  const auto args = t.to(torch::kFloat32).view({-1, 1}) * freqs.view({1, -1});
  return torch::cat({torch::cos(args), torch::sin(args)}, 1);
}

ModernResidualBlockImpl::ModernResidualBlockImpl(int dim, std::int64_t in, std::int64_t out, std::int64_t emb_dim,
                                                 bool norm, const std::string& padding)
    : dim_(dim) {
  conv1_ = conv(dim, in, out, 3, 1, padding);
  register_module("conv1", conv1_.ptr());
  conv2_ = conv(dim, out, out, 3, 1, padding);
  register_module("conv2", conv2_.ptr());
  zero_parameters(*conv2_.ptr());  // the block starts as its shortcut
  if (norm) {
    norm1_ = register_module("norm1", torch::nn::GroupNorm(1, in));
    norm2_ = register_module("norm2", torch::nn::GroupNorm(1, out));
  }
  if (in != out) {
    shortcut_ = conv(dim, in, out, 1, 1, padding);
    register_module("shortcut", shortcut_.ptr());
  }
  cond_emb_ = register_module("cond_emb", torch::nn::Linear(emb_dim, out));
}

torch::Tensor ModernResidualBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& emb) {
  auto h = conv1_.forward(torch::gelu(norm1_ ? norm1_->forward(x) : x));
  auto e = cond_emb_->forward(emb);
  std::vector<std::int64_t> view{e.size(0), e.size(1)};
  view.resize(2 + dim_, 1);
  h = h + e.view(view);
  h = conv2_.forward(torch::gelu(norm2_ ? norm2_->forward(h) : h));
  return h + (shortcut_.is_empty() ? x : shortcut_.forward(x));
}

UnetModernStageImpl::UnetModernStageImpl(ModernResidualBlock res) : res_(register_module("res", std::move(res))) {}

UnetModernStageImpl::UnetModernStageImpl(torch::nn::AnyModule conv) : conv_(std::move(conv)) {
  register_module("conv", conv_.ptr());
}

torch::Tensor UnetModernStageImpl::forward(const torch::Tensor& x, const torch::Tensor& emb) {
  return is_block() ? res_->forward(x, emb) : conv_.forward(x);
}

UnetModernImpl::UnetModernImpl(const UnetModernOptions& options) : options_(options) {
  const auto& o = options_;
  o.validate();
  const int d = o.dim;
  const auto emb_dim = 4 * o.hidden;
  image_proj_ = conv(d, o.in_channels, o.hidden, 3, 1, o.padding);
  register_module("image_proj", image_proj_.ptr());
  time_embed_ = register_module("time_embed", embedding_mlp(o.hidden, emb_dim));
  if (o.cond_dim > 0) {
    auto list = register_module("pde_emb", torch::nn::ModuleList());
    for (std::int64_t p = 0; p < o.cond_dim; ++p) {
      pde_emb_.push_back(embedding_mlp(o.hidden, emb_dim));
      list->push_back(pde_emb_.back());
    }
  }
  // Down: n_blocks blocks per level, the channels multiplied (cumulatively) at its first.
  auto down = register_module("down", torch::nn::ModuleList());
  const auto levels = static_cast<std::int64_t>(o.ch_mults.size());
  std::int64_t in = o.hidden, out = o.hidden;
  for (std::int64_t l = 0; l < levels; ++l) {
    out = in * o.ch_mults[l];
    for (std::int64_t b = 0; b < o.n_blocks; ++b) {
      down_.push_back(UnetModernStage(ModernResidualBlock(d, in, out, emb_dim, o.norm, o.padding)));
      in = out;
    }
    if (l + 1 < levels) down_.push_back(UnetModernStage(conv(d, in, in, 3, 2, o.padding)));
  }
  for (auto& s : down_) down->push_back(s);
  auto middle = register_module("middle", std::make_shared<torch::nn::Module>());
  middle1_ = middle->register_module("res1", ModernResidualBlock(d, out, out, emb_dim, o.norm, o.padding));
  middle2_ = middle->register_module("res2", ModernResidualBlock(d, out, out, emb_dim, o.norm, o.padding));
  // Up: n_blocks blocks on [x, skip of the same width], then one that also takes the skip from
  // the level above and divides the channels by the level's multiplier.
  auto up = register_module("up", torch::nn::ModuleList());
  in = out;
  for (std::int64_t l = levels - 1; l >= 0; --l) {
    out = in;
    for (std::int64_t b = 0; b < o.n_blocks; ++b)
      up_.push_back(UnetModernStage(ModernResidualBlock(d, in + out, out, emb_dim, o.norm, o.padding)));
    out = in / o.ch_mults[l];
    up_.push_back(UnetModernStage(ModernResidualBlock(d, in + out, out, emb_dim, o.norm, o.padding)));
    in = out;
    if (l > 0) up_.push_back(UnetModernStage(upsample(d, in)));
  }
  for (auto& s : up_) up->push_back(s);
  norm_ = register_module("norm", torch::nn::GroupNorm(8, o.hidden));
  final_ = conv(d, o.hidden, o.out_channels, 3, 1, o.padding);
  register_module("final", final_.ptr());
  zero_parameters(*final_.ptr());
}

torch::Tensor UnetModernImpl::embedding(const torch::Tensor& t, const torch::Tensor& cond, std::int64_t batch) {
  auto tt = t.defined() ? t.to(torch::kFloat32).flatten() : torch::zeros({1});
  if (tt.numel() == 1) tt = tt.expand({batch});
  PDS_CHECK(tt.numel() == batch, "unet_modern: expected one time per example (" << batch << "), got " << tt.numel());
  auto emb = time_embed_->forward(fourier_embedding(tt, options_.hidden));
  if (options_.cond_dim > 0) {
    PDS_CHECK(cond.defined() && cond.dim() == 2 && cond.size(0) == batch && cond.size(1) == options_.cond_dim,
              "unet_modern: expected cond [" << batch << ", " << options_.cond_dim << "], got "
                                             << (cond.defined() ? shape_str(cond) : std::string("none")));
    for (std::int64_t p = 0; p < options_.cond_dim; ++p)
      emb = emb + pde_emb_[p]->forward(fourier_embedding(cond.select(1, p), options_.hidden));
  } else {
    PDS_CHECK(!cond.defined() || cond.numel() == 0,
              "unet_modern: built without conditioning (cond_dim 0), got cond " << shape_str(cond));
  }
  return emb;
}

torch::Tensor UnetModernImpl::forward(const torch::Tensor& x) { return forward(x, torch::Tensor()); }

torch::Tensor UnetModernImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  auto out = forward_with_time(x, {}, cond);
  if (options_.difference_weight == 0) return out;
  return last_frame(x, options_.out_channels) + options_.difference_weight * out;
}

torch::Tensor last_frame(const torch::Tensor& x, std::int64_t channels) {
  PDS_CHECK(x.dim() >= 2 && x.size(1) >= channels, "expected frames of " << channels << " channels, got "
                                                                          << shape_str(x));
  return x.narrow(1, x.size(1) - channels, channels);
}

torch::Tensor UnetModernImpl::forward_with_time(const torch::Tensor& x, const torch::Tensor& t,
                                                const torch::Tensor& cond) {
  const auto& o = options_;
  PDS_CHECK(x.dim() == 2 + o.dim && x.size(1) == o.in_channels,
            "unet_modern: expected input [B, " << o.in_channels << (o.dim == 1 ? ", X]" : ", X, Y]") << ", got "
                                               << shape_str(x));
  const std::int64_t factor = std::int64_t(1) << (o.ch_mults.size() - 1);
  for (int a = 0; a < o.dim; ++a)
    PDS_CHECK(x.size(2 + a) % factor == 0, "unet_modern: expected a grid divisible by " << factor << " ("
                                               << o.ch_mults.size() << " levels), got " << shape_str(x));
  const auto emb = embedding(t, cond, x.size(0));
  auto h = image_proj_.forward(x);
  std::vector<torch::Tensor> skips{h};
  for (auto& s : down_) {
    h = s->forward(h, emb);
    skips.push_back(h);
  }
  h = middle2_->forward(middle1_->forward(h, emb), emb);
  for (auto& s : up_) {
    if (s->is_block()) {
      h = torch::cat({h, skips.back()}, 1);
      skips.pop_back();
    }
    h = s->forward(h, emb);
  }
  return final_.forward(torch::gelu(norm_->forward(h)));
}

void UnetModernImpl::pretty_print(std::ostream& os) const {
  os << "UnetModern" << options_.dim << "d(" << options_.in_channels << " -> " << options_.out_channels << ", hidden "
     << options_.hidden << ", ch_mults [";
  for (std::size_t i = 0; i < options_.ch_mults.size(); ++i) os << (i ? ", " : "") << options_.ch_mults[i];
  os << "], " << options_.n_blocks << " blocks, " << options_.padding << " padding, cond " << options_.cond_dim;
  if (options_.difference_weight > 0) os << ", difference x " << options_.difference_weight;
  os << ")";
}

}  // namespace pdestream::surrogates
