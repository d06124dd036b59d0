#pragma once
// Unit-Gaussian normaliser per channel: encode(x) = (x - mean) / (std + eps), decode the
// inverse, as the FNO reference's UnitGaussianNormalizer but with one mean/std per channel
// (the choice: it does not tie the model to one grid size).
//
// Channels are axis 1 of a batch: [B, C, *spatial] fields or [B, C] feature vectors. A
// flattened field [B, C * N] (the MLP's target) is read channel-major as [B, C, N].
//
// Fitting is streaming (online training never holds the whole data set): update() merges
// a batch's per-channel count, mean and variance into running statistics (Chan et al.'s
// parallel formula, in float64), and merge() combines the statistics of two normalisers,
// e.g. gathered from the trainer ranks.
//
// State, as buffers of this module (so torch::save archives and named_buffers() carry them;
// the model file stores them under the prefix the trainer registers the normaliser with,
// by convention "input_normalizer." and "target_normalizer."):
//   mean  float64 [C]     running mean
//   var   float64 [C]     running population variance
//   count float64 []      number of values seen per channel
// eps is an option (json), not state.

#include <cstdint>

#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {

class UnitGaussianNormalizerImpl : public torch::nn::Module {
 public:
  explicit UnitGaussianNormalizerImpl(std::int64_t channels = 1, double eps = 1e-5);

  std::int64_t channels() const { return channels_; }
  double eps() const { return eps_; }
  bool fitted() const;

  // Add a batch [B, C, ...] (or [B, C * N]) to the running statistics.
  void update(const torch::Tensor& batch);
  // Add statistics computed elsewhere (count values per channel with this mean and
  // population variance).
  void merge(double count, const torch::Tensor& mean, const torch::Tensor& var);
  void merge(const UnitGaussianNormalizerImpl& other);

  torch::Tensor encode(const torch::Tensor& x) const;
  torch::Tensor decode(const torch::Tensor& x) const;

  torch::Tensor mean() const { return mean_; }
  torch::Tensor std() const { return var_.sqrt(); }
  double count() const;

  nlohmann::json options_json() const { return {{"channels", channels_}, {"eps", eps_}}; }
  void pretty_print(std::ostream& os) const override;

 private:
  // x viewed as [B, C, M] with the statistics shaped [1, C, 1].
  torch::Tensor as_channels(const torch::Tensor& x, const char* what) const;
  std::int64_t channels_;
  double eps_;
  torch::Tensor mean_, var_, count_;
};
TORCH_MODULE(UnitGaussianNormalizer);

}  // namespace pdestream::surrogates
