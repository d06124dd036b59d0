#include "surrogates/unet.hpp"

#include <numeric>

#include "core/error.hpp"
#include "surrogates/mlp.hpp"

namespace pdestream::surrogates {

namespace {

torch::nn::AnyModule conv(int dim, std::int64_t in, std::int64_t out, std::int64_t k) {
  if (dim == 1)
    return torch::nn::AnyModule(torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, k).padding(k / 2)));
  return torch::nn::AnyModule(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(k / 2)));
}

torch::nn::AnyModule up_conv(int dim, std::int64_t in, std::int64_t out) {
  if (dim == 1)
    return torch::nn::AnyModule(torch::nn::ConvTranspose1d(torch::nn::ConvTranspose1dOptions(in, out, 2).stride(2)));
  return torch::nn::AnyModule(torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(in, out, 2).stride(2)));
}

torch::Tensor pool(int dim, const torch::Tensor& x) {
  return dim == 1 ? torch::max_pool1d(x, {2}) : torch::max_pool2d(x, {2, 2});
}

// Up to 8 groups, dividing the channel count.
std::int64_t groups_for(std::int64_t channels) { return std::gcd<std::int64_t>(channels, 8); }

}  // namespace

nlohmann::json UnetOptions::to_json() const {
  return {{"name", "unet"},   {"dim", dim},       {"in_channels", in_channels},
          {"out_channels", out_channels}, {"width", width}, {"levels", levels},
          {"norm", norm},     {"activation", activation}, {"cond_dim", cond_dim}};
}

UnetBlockImpl::UnetBlockImpl(int dim, std::int64_t in, std::int64_t out, bool norm, std::string activation,
                             std::int64_t cond_dim)
    : dim_(dim), in_(in), out_(out), activation_(std::move(activation)) {
  conv1_ = conv(dim, in, out, 3);
  register_module("conv1", conv1_.ptr());
  if (norm) norm1_ = register_module("norm1", torch::nn::GroupNorm(groups_for(out), out));
  if (cond_dim > 0) film_ = register_module("film", torch::nn::Linear(cond_dim, 2 * out));
  conv2_ = conv(dim, out, out, 3);
  register_module("conv2", conv2_.ptr());
  if (norm) norm2_ = register_module("norm2", torch::nn::GroupNorm(groups_for(out), out));
}

torch::Tensor UnetBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  auto h = conv1_.forward(x);
  if (norm1_) h = norm1_->forward(h);
  if (film_) {
    auto ss = film_->forward(cond).chunk(2, 1);
    std::vector<std::int64_t> view{h.size(0), out_};
    view.resize(2 + dim_, 1);
    h = h * (1 + ss[0].view(view)) + ss[1].view(view);
  }
  h = apply_activation(activation_, h);
  h = conv2_.forward(h);
  if (norm2_) h = norm2_->forward(h);
  return apply_activation(activation_, h);
}

void UnetBlockImpl::pretty_print(std::ostream& os) const {
  os << "UnetBlock" << dim_ << "d(" << in_ << " -> " << out_ << (norm1_ ? ", groupnorm" : "")
     << (film_ ? ", film" : "") << ", " << activation_ << ")";
}

UnetUpImpl::UnetUpImpl(int dim, std::int64_t in, bool norm, std::string activation, std::int64_t cond_dim) {
  up_ = up_conv(dim, in, in / 2);
  register_module("up", up_.ptr());
  block_ = register_module("block", UnetBlock(dim, in, in / 2, norm, std::move(activation), cond_dim));
}

torch::Tensor UnetUpImpl::forward(const torch::Tensor& x, const torch::Tensor& skip, const torch::Tensor& cond) {
  return block_->forward(torch::cat({up_.forward(x), skip}, 1), cond);
}

UnetImpl::UnetImpl(const UnetOptions& o) : options_(o) {
  PDS_CHECK(o.dim == 1 || o.dim == 2, "unet: dim: expected 1 or 2, got " << o.dim);
  PDS_CHECK(o.in_channels >= 1 && o.out_channels >= 1,
            "unet: expected at least 1 input and 1 output channel, got " << o.in_channels << " -> " << o.out_channels);
  PDS_CHECK(o.width >= 1 && o.levels >= 1 && o.levels <= 8 && o.cond_dim >= 0,
            "unet: expected width >= 1, levels in [1, 8], cond_dim >= 0, got width " << o.width << ", levels "
                                                                                     << o.levels << ", cond_dim " << o.cond_dim);
  apply_activation(o.activation, torch::zeros({1}));  // validates the name
  inc_ = register_module("inc", UnetBlock(o.dim, o.in_channels, o.width, o.norm, o.activation, o.cond_dim));
  auto down = register_module("down", torch::nn::ModuleList());
  auto up = register_module("up", torch::nn::ModuleList());
  std::int64_t c = o.width;
  for (std::int64_t i = 0; i < o.levels; ++i, c *= 2) {
    down_.push_back(UnetBlock(o.dim, c, 2 * c, o.norm, o.activation, o.cond_dim));
    down->push_back(down_.back());
  }
  for (std::int64_t i = 0; i < o.levels; ++i, c /= 2) {
    up_.push_back(UnetUp(o.dim, c, o.norm, o.activation, o.cond_dim));
    up->push_back(up_.back());
  }
  outc_ = o.dim == 1 ? torch::nn::AnyModule(torch::nn::Conv1d(torch::nn::Conv1dOptions(o.width, o.out_channels, 1)))
                     : torch::nn::AnyModule(torch::nn::Conv2d(torch::nn::Conv2dOptions(o.width, o.out_channels, 1)));
  register_module("outc", outc_.ptr());
}

torch::Tensor UnetImpl::forward(const torch::Tensor& x) { return forward(x, torch::Tensor()); }

torch::Tensor UnetImpl::forward(const torch::Tensor& input, const torch::Tensor& cond) {
  const int d = options_.dim;
  PDS_CHECK(input.defined() && input.dim() == d + 2 && input.size(1) == options_.in_channels,
            "unet: expected input [B, " << options_.in_channels << (d == 1 ? ", X" : ", X, Y") << "], got "
                                        << shape_str(input));
  check_cond("unet", cond, input.size(0), options_.cond_dim);

  std::vector<std::int64_t> spatial(input.sizes().begin() + 2, input.sizes().end());
  const std::int64_t multiple = std::int64_t(1) << options_.levels;
  std::vector<std::int64_t> pad;
  bool padded = false;
  for (int a = d - 1; a >= 0; --a) {  // F.pad lists the last axis first
    const std::int64_t extra = (multiple - spatial[a] % multiple) % multiple;
    pad.insert(pad.end(), {0, extra});
    padded = padded || extra > 0;
  }
  torch::Tensor x = input;
  if (padded)
    x = torch::nn::functional::pad(x, torch::nn::functional::PadFuncOptions(pad).mode(torch::kReplicate));

  x = inc_->forward(x, cond);
  std::vector<torch::Tensor> skips{x};
  for (auto& block : down_) {
    x = block->forward(pool(d, x), cond);
    skips.push_back(x);
  }
  skips.pop_back();
  for (auto& up : up_) {
    x = up->forward(x, skips.back(), cond);
    skips.pop_back();
  }
  x = outc_.forward(x);
  if (padded)
    for (int a = 0; a < d; ++a) x = x.narrow(2 + a, 0, spatial[a]);
  return x.contiguous();
}

void UnetImpl::pretty_print(std::ostream& os) const {
  os << "UNet" << options_.dim << "d(in=" << options_.in_channels << ", out=" << options_.out_channels
     << ", width=" << options_.width << ", levels=" << options_.levels << (options_.norm ? ", groupnorm" : "")
     << ", " << options_.activation << (options_.cond_dim ? ", cond_dim=" + std::to_string(options_.cond_dim) : "")
     << ")";
}

}  // namespace pdestream::surrogates
