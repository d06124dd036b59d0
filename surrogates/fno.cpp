#include "surrogates/fno.hpp"

#include <sstream>

#include "core/error.hpp"

namespace pdestream::surrogates {

namespace {

std::vector<std::int64_t> spatial_dims(int dim) {
  std::vector<std::int64_t> d;
  for (int a = 0; a < dim; ++a) d.push_back(2 + a);
  return d;
}

// [B, C, *S] <-> [B, *S, C]: the reference applies its Linear layers channels-last.
torch::Tensor to_channels_last(const torch::Tensor& x) {
  std::vector<std::int64_t> p{0};
  for (std::int64_t a = 2; a < x.dim(); ++a) p.push_back(a);
  p.push_back(1);
  return x.permute(p);
}

torch::Tensor to_channels_first(const torch::Tensor& x) {
  std::vector<std::int64_t> p{0, x.dim() - 1};
  for (std::int64_t a = 1; a < x.dim() - 1; ++a) p.push_back(a);
  return x.permute(p);
}

torch::nn::AnyModule pointwise_conv(int dim, std::int64_t channels) {
  switch (dim) {
    case 1: return torch::nn::AnyModule(torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, channels, 1)));
    case 2: return torch::nn::AnyModule(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 1)));
    default: return torch::nn::AnyModule(torch::nn::Conv3d(torch::nn::Conv3dOptions(channels, channels, 1)));
  }
}

const char* einsum_equation(int dim) {
  switch (dim) {
    case 1: return "bix,iox->box";
    case 2: return "bixy,ioxy->boxy";
    default: return "bixyz,ioxyz->boxyz";
  }
}

}  // namespace

std::vector<std::int64_t> FnoOptions::modes_per_axis() const {
  PDS_CHECK(modes.size() == 1 || static_cast<int>(modes.size()) == dim,
            "fno: modes: expected 1 or " << dim << " values (one per axis), got " << modes.size());
  return modes.size() == 1 ? std::vector<std::int64_t>(dim, modes[0]) : modes;
}

nlohmann::json FnoOptions::to_json() const {
  return {{"name", "fno"},         {"dim", dim},       {"in_channels", in_channels},
          {"out_channels", out_channels}, {"width", width},   {"modes", modes_per_axis()},
          {"layers", layers},      {"projection", projection}, {"grid", grid},
          {"padding", padding},    {"cond_dim", cond_dim}};
}

// ---------------------------------------------------------------------------------------

SpectralConvImpl::SpectralConvImpl(int dim, std::int64_t in_channels, std::int64_t out_channels,
                                   std::vector<std::int64_t> modes)
    : dim_(dim), in_(in_channels), out_(out_channels), modes_(std::move(modes)) {
  PDS_CHECK(dim_ >= 1 && dim_ <= 3, "fno: expected dim in [1, 3], got " << dim_);
  PDS_CHECK(static_cast<int>(modes_.size()) == dim_, "fno: expected " << dim_ << " modes, got " << modes_.size());
  std::vector<std::int64_t> shape{in_, out_};
  shape.insert(shape.end(), modes_.begin(), modes_.end());
  shape.push_back(2);
  // Same distribution as the reference's scale * torch.rand(..., dtype=cfloat): real and
  // imaginary parts uniform in [0, scale).
  const double scale = 1.0 / static_cast<double>(in_ * out_);
  const int corners = 1 << (dim_ - 1);
  for (int c = 0; c < corners; ++c)
    weights_.push_back(register_parameter("weights" + std::to_string(c + 1), scale * torch::rand(shape)));
}

torch::Tensor SpectralConvImpl::forward(const torch::Tensor& x) {
  const auto dims = spatial_dims(dim_);
  std::vector<std::int64_t> sizes(x.sizes().begin() + 2, x.sizes().end());
  auto x_ft = torch::fft::rfftn(x, c10::nullopt, dims);
  auto out_shape = x_ft.sizes().vec();
  out_shape[1] = out_;
  auto out_ft = torch::zeros(out_shape, x_ft.options());
  for (std::size_t c = 0; c < weights_.size(); ++c) {
    // The corner as narrow() views rather than index() with TensorIndex lists: torch 1.13's
    // TensorIndex copy reads an uninitialised bool (UBSan, make test-asan).
    auto in_corner = x_ft, out_corner = out_ft;
    for (int a = 0; a < dim_; ++a) {
      // The last axis of rfftn holds non-negative frequencies only: always the low end.
      const bool high = a < dim_ - 1 && ((c >> a) & 1);
      const std::int64_t n = x_ft.size(2 + a), m = std::min<std::int64_t>(modes_[a], n);
      in_corner = in_corner.narrow(2 + a, high ? n - m : 0, m);
      out_corner = out_corner.narrow(2 + a, high ? n - m : 0, m);
    }
    auto w = torch::view_as_complex(weights_[c]);
    out_corner.copy_(torch::einsum(einsum_equation(dim_), {in_corner, w}));
  }
  return torch::fft::irfftn(out_ft, sizes, dims);
}

void SpectralConvImpl::pretty_print(std::ostream& os) const {
  os << "SpectralConv" << dim_ << "d(" << in_ << ", " << out_ << ", modes=" << shape_str(modes_)
     << ", corners=" << weights_.size() << ")";
}

// ---------------------------------------------------------------------------------------

FnoImpl::FnoImpl(const FnoOptions& o) : options_(o) {
  PDS_CHECK(o.dim >= 1 && o.dim <= 3, "fno: dim: expected 1, 2 or 3, got " << o.dim);
  PDS_CHECK(o.in_channels >= 1 && o.out_channels >= 1,
            "fno: expected at least 1 input and 1 output channel, got " << o.in_channels << " -> " << o.out_channels);
  PDS_CHECK(o.width >= 1 && o.layers >= 1 && o.projection >= 1 && o.padding >= 0,
            "fno: expected width, layers, projection >= 1 and padding >= 0, got width " << o.width << ", layers "
                                                                                    << o.layers << ", projection " << o.projection
                                                                                    << ", padding " << o.padding);
  modes_ = o.modes_per_axis();
  for (auto m : modes_) PDS_CHECK(m >= 1, "fno: modes: expected values >= 1, got " << shape_str(modes_));

  // Registration order follows the reference's __init__, so parameters() iterates alike.
  fc0_ = register_module("fc0", torch::nn::Linear(o.lift_in_features(), o.width));
  for (std::int64_t k = 0; k < o.layers; ++k)
    convs_.push_back(register_module("conv" + std::to_string(k), SpectralConv(o.dim, o.width, o.width, modes_)));
  for (std::int64_t k = 0; k < o.layers; ++k) {
    ws_.push_back(pointwise_conv(o.dim, o.width));
    register_module("w" + std::to_string(k), ws_.back().ptr());
  }
  fc1_ = register_module("fc1", torch::nn::Linear(o.width, o.projection));
  fc2_ = register_module("fc2", torch::nn::Linear(o.projection, o.out_channels));
}

void FnoImpl::check_spatial(const std::vector<std::int64_t>& spatial) const {
  PDS_CHECK(static_cast<int>(spatial.size()) == options_.dim,
            "fno: expected a " << options_.dim << "D grid, got " << shape_str(spatial));
  for (int a = 0; a < options_.dim; ++a) {
    const std::int64_t n = spatial[a] + options_.padding;
    // rfftn keeps n/2 + 1 frequencies on the last axis; the other axes hold the low and
    // the high corner, which must not overlap.
    const bool last = a == options_.dim - 1;
    const std::int64_t need = last ? 2 * (modes_[a] - 1) : 2 * modes_[a];
    PDS_CHECK(n >= need, "fno: axis " << a << " has " << spatial[a] << " points (+" << options_.padding
                                      << " padding): expected at least " << need << " for " << modes_[a]
                                      << " modes");
  }
}

torch::Tensor FnoImpl::forward(const torch::Tensor& input) { return forward(input, torch::Tensor()); }

torch::Tensor FnoImpl::forward(const torch::Tensor& input, const torch::Tensor& cond) {
  const int d = options_.dim;
  PDS_CHECK(input.defined() && input.dim() == d + 2 && input.size(1) == options_.in_channels,
            "fno: expected input [B, " << options_.in_channels << (d == 1 ? ", X" : d == 2 ? ", X, Y" : ", X, Y, Z")
                                       << "], got " << shape_str(input));
  std::vector<std::int64_t> spatial(input.sizes().begin() + 2, input.sizes().end());
  check_spatial(spatial);
  check_cond("fno", cond, input.size(0), options_.cond_dim);

  torch::Tensor x = cond.defined() ? torch::cat({input, cond_as_channels(cond, spatial)}, 1) : input;
  if (options_.grid) {
    // Coordinates as the reference's get_grid: linspace(0, 1, n) per axis, x first.
    std::vector<torch::Tensor> channels{x};
    for (int a = 0; a < d; ++a) {
      std::vector<std::int64_t> view(d + 2, 1);
      view[2 + a] = spatial[a];
      std::vector<std::int64_t> expand{input.size(0), 1};
      expand.insert(expand.end(), spatial.begin(), spatial.end());
      channels.push_back(torch::linspace(0.0, 1.0, spatial[a], input.options()).view(view).expand(expand));
    }
    x = torch::cat(channels, 1);
  }
  x = to_channels_first(fc0_->forward(to_channels_last(x)));
  if (options_.padding > 0) {
    std::vector<std::int64_t> pad;
    for (int a = 0; a < d; ++a) pad.insert(pad.end(), {0, options_.padding});
    x = torch::constant_pad_nd(x, pad, 0.0);
  }
  for (std::size_t k = 0; k < convs_.size(); ++k) {
    x = convs_[k]->forward(x) + ws_[k].forward(x);
    if (k + 1 < convs_.size()) x = torch::gelu(x);
  }
  if (options_.padding > 0)
    for (int a = 0; a < d; ++a) x = x.narrow(2 + a, 0, spatial[a]);
  x = fc1_->forward(to_channels_last(x));
  x = fc2_->forward(torch::gelu(x));
  return to_channels_first(x).contiguous();
}

void FnoImpl::pretty_print(std::ostream& os) const {
  os << "FNO" << options_.dim << "d(in=" << options_.in_channels
     << (options_.cond_dim ? "+" + std::to_string(options_.cond_dim) + " cond" : "") << (options_.grid ? "+grid" : "")
     << ", out=" << options_.out_channels << ", width=" << options_.width << ", modes=" << shape_str(modes_)
     << ", layers=" << options_.layers << ", padding=" << options_.padding << ")";
}

}  // namespace pdestream::surrogates
