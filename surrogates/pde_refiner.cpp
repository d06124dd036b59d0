#include "surrogates/pde_refiner.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "core/error.hpp"
#include "core/random.hpp"

namespace pdestream::surrogates {

void PdeRefinerOptions::validate() const {
  PDS_CHECK(dim == 1 || dim == 2, "pde_refiner: expected dim 1 or 2, got " << dim);
  PDS_CHECK(num_refinement_steps >= 1 && num_refinement_steps <= 100,
            "pde_refiner: num_refinement_steps: expected 1..100, got " << num_refinement_steps);
  PDS_CHECK(min_noise_std > 0 && min_noise_std < 1, "pde_refiner: min_noise_std: expected a value in (0, 1), got "
                                                        << min_noise_std);
  PDS_CHECK(difference_weight >= 0, "pde_refiner: difference_weight: expected >= 0, got " << difference_weight);
  PDS_CHECK(difference_weight == 0 || in_channels % out_channels == 0,
            "pde_refiner: difference_weight: expected input channels that are frames of the "
                << out_channels << " output channels, got " << in_channels);
}

nlohmann::json PdeRefinerOptions::to_json() const {
  return {{"name", "pde_refiner"},
          {"dim", dim},
          {"in_channels", in_channels},
          {"out_channels", out_channels},
          {"cond_dim", cond_dim},
          {"num_refinement_steps", num_refinement_steps},
          {"min_noise_std", min_noise_std},
          {"difference_weight", difference_weight},
          {"seed", seed}};
}

PdeRefinerImpl::PdeRefinerImpl(const PdeRefinerOptions& o, std::shared_ptr<UnetModernImpl> base)
    : options_(o), model_(std::move(base)), generator_(at::make_generator<at::CPUGeneratorImpl>(o.seed)) {
  o.validate();
  PDS_CHECK(model_, "pde_refiner: expected a base model");
  const auto& b = model_->options();
  PDS_CHECK(b.dim == o.dim && b.in_channels == o.in_channels + o.out_channels && b.out_channels == o.out_channels,
            "pde_refiner: expected a base unet_modern " << o.in_channels + o.out_channels << " -> " << o.out_channels
                                                        << " channels in " << o.dim << "D, got " << b.in_channels
                                                        << " -> " << b.out_channels << " in " << b.dim << "D");
  PDS_CHECK(b.cond_dim == o.cond_dim, "pde_refiner: the base model must take the " << o.cond_dim
                                                                                   << " conditioning parameter(s), got "
                                                                                   << b.cond_dim);
  PDS_CHECK(b.difference_weight == 0, "pde_refiner: the base model's difference_weight must be 0 (the refiner "
                                      "predicts the difference itself), got "
                                          << b.difference_weight);
  register_module("model", model_);
  const auto k = o.num_refinement_steps;
  double prod = 1;
  for (std::int64_t j = 0; j <= k; ++j) {
    betas_.push_back(std::pow(o.min_noise_std, static_cast<double>(k - j) / static_cast<double>(k)));
    prod *= 1 - betas_.back();
    alphas_cumprod_.push_back(prod);
  }
}

torch::Tensor PdeRefinerImpl::forward(const torch::Tensor& x) { return forward(x, torch::Tensor()); }

torch::Tensor PdeRefinerImpl::denoise(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& step,
                                      const torch::Tensor& cond) {
  const double multiplier = 1000.0 / static_cast<double>(options_.num_refinement_steps);
  return model_->forward_with_time(torch::cat({x, y}, 1), step.to(x.options()) * multiplier, cond);
}

torch::Tensor PdeRefinerImpl::target_to_y(const torch::Tensor& x, const torch::Tensor& target) const {
  if (options_.difference_weight == 0) return target;
  return (target - last_frame(x, options_.out_channels)) / options_.difference_weight;
}

torch::Tensor PdeRefinerImpl::y_to_target(const torch::Tensor& x, const torch::Tensor& y) const {
  if (options_.difference_weight == 0) return y;
  return last_frame(x, options_.out_channels) + options_.difference_weight * y;
}

void PdeRefinerImpl::set_noise_seeds(std::vector<std::uint64_t> seeds) {
  seeds_ = std::move(seeds);
  draws_ = 0;
}

torch::Tensor PdeRefinerImpl::noise_like(const torch::Tensor& y) {
  if (seeds_.empty()) return torch::randn(y.sizes(), generator_, y.options());
  PDS_CHECK(static_cast<std::int64_t>(seeds_.size()) == y.size(0),
            "pde_refiner: " << seeds_.size() << " noise seeds set for a batch of " << y.size(0));
  std::vector<torch::Tensor> parts;
  for (std::size_t b = 0; b < seeds_.size(); ++b) {
    auto g = at::make_generator<at::CPUGeneratorImpl>(splitmix64(splitmix64(seeds_[b]) ^ draws_));
    parts.push_back(torch::randn(y[0].sizes(), g, y.options()));
  }
  ++draws_;
  return torch::stack(parts);
}

torch::Tensor PdeRefinerImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  const auto& o = options_;
  PDS_CHECK(x.dim() == 2 + o.dim && x.size(1) == o.in_channels,
            "pde_refiner: expected input [B, " << o.in_channels << (o.dim == 1 ? ", X]" : ", X, Y]") << ", got "
                                               << shape_str(x));
  auto sizes = x.sizes().vec();
  sizes[1] = o.out_channels;
  auto y = noise_like(torch::empty(sizes, x.options()));
  for (std::int64_t j = o.num_refinement_steps; j >= 0; --j) {
    const auto pred = denoise(x, y, torch::full({x.size(0)}, static_cast<double>(j), x.options()), cond);
    const double abar = alphas_cumprod_[j], abar_prev = j > 0 ? alphas_cumprod_[j - 1] : 1.0;
    const double beta = betas_[j], alpha = 1 - beta;
    const auto x0 = std::sqrt(abar) * y - std::sqrt(1 - abar) * pred;
    y = (std::sqrt(abar_prev) * beta / (1 - abar)) * x0 + (std::sqrt(alpha) * (1 - abar_prev) / (1 - abar)) * y;
    if (j > 0) y = y + std::sqrt(std::max((1 - abar_prev) / (1 - abar) * beta, 1e-20)) * noise_like(y);
  }
  return y_to_target(x, y);
}

torch::Tensor PdeRefinerImpl::infer(const torch::Tensor& x, const torch::Tensor& cond) {
  torch::NoGradGuard no_grad;
  return forward(x, cond);
}

std::pair<torch::Tensor, torch::Tensor> PdeRefinerImpl::infer_samples(const torch::Tensor& x, const torch::Tensor& cond,
                                                                       std::int64_t samples, std::uint64_t seed) {
  PDS_CHECK(samples >= 2, "pde_refiner: expected at least 2 samples for a spread, got " << samples);
  const auto b = x.size(0);
  // Sample-major: rows s * B .. s * B + B - 1 hold sample s of every example.
  std::vector<std::uint64_t> seeds;
  for (std::int64_t s = 0; s < samples; ++s)
    for (std::int64_t i = 0; i < b; ++i)
      seeds.push_back(splitmix64(splitmix64(seed ^ static_cast<std::uint64_t>(i)) ^ static_cast<std::uint64_t>(s)));
  set_noise_seeds(seeds);
  auto repeat = [&](const torch::Tensor& t) {
    if (!t.defined()) return t;
    std::vector<std::int64_t> reps(t.dim(), 1);
    reps[0] = samples;
    return t.repeat(reps);
  };
  auto sizes = x.sizes().vec();
  sizes[1] = options_.out_channels;
  sizes.insert(sizes.begin(), samples);
  const auto all = infer(repeat(x), repeat(cond)).reshape(sizes);
  set_noise_seeds({});
  return {all.mean(0), all.std(0)};
}

nlohmann::json PdeRefinerImpl::options_json() const {
  auto j = options_.to_json();
  j["base"] = model_->options_json();
  return j;
}

void PdeRefinerImpl::pretty_print(std::ostream& os) const {
  os << "PdeRefiner" << options_.dim << "d(K " << options_.num_refinement_steps << ", min noise std "
     << options_.min_noise_std << ", difference x " << options_.difference_weight << ")";
}

}  // namespace pdestream::surrogates
