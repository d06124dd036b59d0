#include "surrogates/cape.hpp"

#include <sstream>

#include "core/error.hpp"

namespace pdestream::surrogates {

namespace {

torch::nn::AnyModule conv(int dim, std::int64_t in, std::int64_t out, std::int64_t k, bool bias,
                          std::int64_t groups = 1) {
  if (dim == 2)
    return torch::nn::AnyModule(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(k / 2).bias(bias).groups(groups)));
  return torch::nn::AnyModule(
      torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, k).padding(k / 2).bias(bias).groups(groups)));
}

// cond [B, d] as [B, d, 1(, 1)]: a per-channel scale over the grid.
torch::Tensor per_channel(const torch::Tensor& a, int dim) {
  return dim == 2 ? a.unsqueeze(-1).unsqueeze(-1) : a.unsqueeze(-1);
}

}  // namespace

void CapeOptions::validate() const {
  PDS_CHECK(dim == 1 || dim == 2, "cape: expected field data of dimension 1 or 2, got " << dim);
  PDS_CHECK(in_channels >= 1 && out_channels >= 1,
            "cape: expected at least 1 input and 1 output channel, got " << in_channels << " -> " << out_channels);
  PDS_CHECK(cond_dim >= 1, "cape: expected at least one conditioning parameter ([task] condition), got none");
  PDS_CHECK(width >= 2 && width % 2 == 0, "cape: width: expected an even number >= 2, got " << width);
  PDS_CHECK(kernel >= 1 && kernel % 2 == 1, "cape: kernel: expected an odd size, got " << kernel);
  PDS_CHECK(pool >= 1, "cape: pool: expected >= 1, got " << pool);
  PDS_CHECK(static_cast<int>(spatial.size()) == dim,
            "cape: expected the training grid's " << dim << " sizes (the LayerNorm's shape), got "
                                                  << shape_str(spatial));
  for (auto n : spatial) {
    PDS_CHECK(n >= pool, "cape: expected grid sizes >= pool = " << pool << ", got " << shape_str(spatial));
    // The pooled grid's half spectrum along the last axis (and full along the others).
    PDS_CHECK(modes >= 1 && modes <= (n / pool) / 2 + 1,
              "cape: modes: expected 1.." << (n / pool) / 2 + 1 << " on the pooled grid " << n / pool << " (grid "
                                          << shape_str(spatial) << " / pool " << pool << "), got " << modes);
  }
}

nlohmann::json CapeOptions::to_json() const {
  return {{"name", "cape"}, {"dim", dim},       {"in_channels", in_channels}, {"out_channels", out_channels},
          {"cond_dim", cond_dim}, {"width", width}, {"kernel", kernel},       {"modes", modes},
          {"pool", pool},   {"spatial", spatial}};
}

CapeBlockImpl::CapeBlockImpl(const CapeOptions& o) : options_(o) {
  o.validate();
  const auto d = o.width, h = o.width / 2, c = o.in_channels;
  cnn_0_ = conv(o.dim, c, h, o.kernel, false);
  register_module("CNN_0", cnn_0_.ptr());
  cnn_sc_ = register_module("CNN_SC", SpectralConv(o.dim, h, d, std::vector<std::int64_t>(o.dim, o.modes)));
  cnn_ad_ = conv(o.dim, h, d, o.kernel, false, h);
  register_module("CNN_AD", cnn_ad_.ptr());
  cnn_ac_ = conv(o.dim, h, d, 1, true);
  register_module("CNN_AC", cnn_ac_.ptr());
  cnn_1_ = conv(o.dim, h, d, 1, true);
  register_module("CNN_1", cnn_1_.ptr());
  cnn_2_ = conv(o.dim, d, c, 1, true);
  register_module("CNN_2", cnn_2_.ptr());
  for (int k = 0; k < 3; ++k) {
    fc_a_[k] = register_module("fc" + std::to_string(k) + "a", torch::nn::Linear(o.cond_dim, h));
    fc_b_[k] = register_module("fc" + std::to_string(k) + "b", torch::nn::Linear(h, d));
  }
  ln_ = register_module("LN", torch::nn::LayerNorm(torch::nn::LayerNormOptions(o.spatial).eps(1e-5)));
}

torch::Tensor CapeBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  const auto& o = options_;
  std::vector<std::int64_t> expected = {o.in_channels};
  expected.insert(expected.end(), o.spatial.begin(), o.spatial.end());
  PDS_CHECK(x.defined() && x.dim() == o.dim + 2 && x.sizes().slice(1).vec() == expected,
            "cape: expected input [B, " << shape_str(expected).substr(1) << ", got " << shape_str(x));
  check_cond("cape", cond, x.size(0), o.cond_dim);
  torch::Tensor q = cond;
  if (o.dim == 2) {
    PDS_CHECK((cond > 0).all().item<bool>(), "cape: the 2D block embeds sigmoid(log p) and expects positive "
                                             "parameters (condition_transform = \"none\"), got a value <= 0");
    q = torch::sigmoid(torch::log(cond));
  }
  torch::Tensor a[3];
  for (int k = 0; k < 3; ++k) a[k] = per_channel(fc_b_[k]->forward(torch::gelu(fc_a_[k]->forward(q))), o.dim);
  const auto y = torch::gelu(cnn_0_.forward(x));
  const auto pooled = o.dim == 2 ? torch::avg_pool2d(y, {o.pool, o.pool}) : torch::avg_pool1d(y, {o.pool});
  const auto spectral = torch::nn::functional::interpolate(
      cnn_sc_->forward(pooled) * a[0],
      torch::nn::functional::InterpolateFuncOptions().size(o.spatial).mode(torch::kNearest));
  const auto z = torch::gelu(spectral + cnn_ac_.forward(y) * a[1] + cnn_ad_.forward(y) * a[2] + cnn_1_.forward(y));
  const auto out = ln_->forward(cnn_2_.forward(z));
  return o.dim == 2 ? x * (1 + out) : x + out;
}

CapeImpl::CapeImpl(const CapeOptions& o, std::shared_ptr<Surrogate> base) : options_(o), base_(std::move(base)) {
  o.validate();
  PDS_CHECK(base_, "cape: expected a base model");
  PDS_CHECK(base_->layout() == Layout::Field, "cape: the base model must be a field model, got " << base_->kind());
  PDS_CHECK(base_->cond_dim() == 0, "cape: the base model takes no cond of its own (CAPE embeds the parameters), got "
                                        << base_->kind() << " with cond_dim " << base_->cond_dim());
  register_module("model", base_);
  blocks_ = register_module("PrmEmb_Pre", torch::nn::ModuleList());
  blocks_->push_back(CapeBlock(o));
  mix_emb_ = conv(o.dim, 2 * o.out_channels, o.out_channels, 1, true);
  register_module("mix_emb", mix_emb_.ptr());
}

torch::Tensor CapeImpl::forward(const torch::Tensor& x) { return forward(x, torch::Tensor()); }

torch::Tensor CapeImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  return forward_with_block(x, cond).first;
}

std::pair<torch::Tensor, torch::Tensor> CapeImpl::forward_with_block(const torch::Tensor& x, const torch::Tensor& cond) {
  PDS_CHECK(cond.defined(), "cape: expected the PDE parameters cond [B, " << options_.cond_dim
                                                                           << "] ([task] condition), got none");
  auto e = blocks_[0]->as<CapeBlockImpl>()->forward(x, cond);
  auto y = base_->forward(torch::cat({x, e}, 1));
  return {mix_emb_.forward(y), e};
}

nlohmann::json CapeImpl::options_json() const {
  auto j = options_.to_json();
  j["base"] = base_->options_json();
  return j;
}

std::vector<torch::Tensor> CapeImpl::block_parameters() const { return blocks_->parameters(); }

void CapeImpl::pretty_print(std::ostream& os) const {
  os << "Cape" << options_.dim << "d(width " << options_.width << ", kernel " << options_.kernel << ", modes "
     << options_.modes << ", grid " << shape_str(options_.spatial) << ", base " << base_->kind() << ")";
}

}  // namespace pdestream::surrogates
