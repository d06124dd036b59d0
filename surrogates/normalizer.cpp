#include "surrogates/normalizer.hpp"

#include "core/error.hpp"

namespace pdestream::surrogates {

UnitGaussianNormalizerImpl::UnitGaussianNormalizerImpl(std::int64_t channels, double eps)
    : channels_(channels), eps_(eps) {
  PDS_CHECK(channels >= 1, "normalizer: expected at least 1 channel, got " << channels);
  PDS_CHECK(eps > 0, "normalizer: expected eps > 0, got " << eps);
  mean_ = register_buffer("mean", torch::zeros({channels}, torch::kFloat64));
  var_ = register_buffer("var", torch::ones({channels}, torch::kFloat64));
  count_ = register_buffer("count", torch::zeros({}, torch::kFloat64));
}

bool UnitGaussianNormalizerImpl::fitted() const { return count() > 0; }

double UnitGaussianNormalizerImpl::count() const { return count_.item<double>(); }

torch::Tensor UnitGaussianNormalizerImpl::as_channels(const torch::Tensor& x, const char* what) const {
  PDS_CHECK(x.defined() && x.dim() >= 2 && x.size(1) > 0 &&
                (x.size(1) == channels_ || (x.dim() == 2 && x.size(1) % channels_ == 0)),
            "normalizer: " << what << ": expected [B, " << channels_ << ", ...] or [B, " << channels_
                           << " * N], got " << shape_str(x));
  return x.reshape({x.size(0), channels_, -1});
}

void UnitGaussianNormalizerImpl::update(const torch::Tensor& batch) {
  torch::NoGradGuard no_grad;
  auto x = as_channels(batch, "update").to(torch::kFloat64);
  const double n = static_cast<double>(x.size(0) * x.size(2));
  if (n == 0) return;
  auto per_channel = x.transpose(0, 1).reshape({channels_, -1});
  auto mean = per_channel.mean(1);
  auto var = per_channel.var(1, /*unbiased=*/false);
  merge(n, mean, var);
}

void UnitGaussianNormalizerImpl::merge(double n_b, const torch::Tensor& mean_b, const torch::Tensor& var_b) {
  torch::NoGradGuard no_grad;
  PDS_CHECK(mean_b.numel() == channels_ && var_b.numel() == channels_,
            "normalizer: merge: expected statistics of " << channels_ << " channels, got mean "
                                                        << shape_str(mean_b) << " and var " << shape_str(var_b));
  if (n_b <= 0) return;
  const double n_a = count();
  const double n = n_a + n_b;
  auto mb = mean_b.to(torch::kFloat64).reshape({channels_});
  auto vb = var_b.to(torch::kFloat64).reshape({channels_});
  auto delta = mb - mean_;
  auto m2 = var_ * n_a + vb * n_b + delta * delta * (n_a * n_b / n);
  mean_.add_(delta * (n_b / n));
  var_.copy_(m2 / n);
  count_.fill_(n);
}

void UnitGaussianNormalizerImpl::merge(const UnitGaussianNormalizerImpl& other) {
  merge(other.count(), other.mean_, other.var_);
}

torch::Tensor UnitGaussianNormalizerImpl::encode(const torch::Tensor& x) const {
  PDS_CHECK(fitted(), "normalizer: encode before any data was seen (call update() first)");
  auto v = as_channels(x, "encode");
  auto mean = mean_.to(x.scalar_type()).view({1, channels_, 1});
  auto scale = (var_.sqrt() + eps_).to(x.scalar_type()).view({1, channels_, 1});
  return ((v - mean) / scale).reshape(x.sizes());
}

torch::Tensor UnitGaussianNormalizerImpl::decode(const torch::Tensor& x) const {
  PDS_CHECK(fitted(), "normalizer: decode before any data was seen (call update() first)");
  auto v = as_channels(x, "decode");
  auto mean = mean_.to(x.scalar_type()).view({1, channels_, 1});
  auto scale = (var_.sqrt() + eps_).to(x.scalar_type()).view({1, channels_, 1});
  return (v * scale + mean).reshape(x.sizes());
}

void UnitGaussianNormalizerImpl::pretty_print(std::ostream& os) const {
  os << "UnitGaussianNormalizer(channels=" << channels_ << ", eps=" << eps_ << ", count=" << count() << ")";
}

}  // namespace pdestream::surrogates
