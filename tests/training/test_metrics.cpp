// The evaluation metrics on fields whose answers are known: nRMSE, Pearson correlation,
// the conservation error and the high-correlation time.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "training/evaluation.hpp"

using namespace pdestream::training;

namespace {

// [T = 3, C = 2, 8, 6] smooth, non-constant fields.
torch::Tensor truth() {
  auto x = torch::linspace(0, 1, 8, torch::kFloat64).view({1, 1, 8, 1});
  auto y = torch::linspace(0, 1, 6, torch::kFloat64).view({1, 1, 1, 6});
  auto t = torch::arange(3, torch::kFloat64).view({3, 1, 1, 1});
  auto c = torch::arange(2, torch::kFloat64).view({1, 2, 1, 1});
  return torch::sin(3 * x + 2 * y + t + c) + 0.5;
}

}  // namespace

TEST(Metrics, PerfectScaledAndShiftedPredictions) {
  const auto u = truth();
  auto n = nrmse_per_step(u, u), r = correlation_per_step(u, u), s = conservation_sq(u, u);
  EXPECT_TRUE(torch::allclose(n, torch::zeros({3}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(r, torch::ones({3}, torch::kFloat64)));
  EXPECT_EQ(s.sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_TRUE(torch::allclose(s, torch::zeros({2, 3}, torch::kFloat64)));
  // 2u: the RMSE equals the RMS of u (nRMSE 1), the correlation stays 1.
  EXPECT_TRUE(torch::allclose(nrmse_per_step(2 * u, u), torch::ones({3}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(correlation_per_step(2 * u, u), torch::ones({3}, torch::kFloat64)));
  // -u correlates at -1; u + 0.25 at +1, with a conservation error of exactly 0.25.
  EXPECT_TRUE(torch::allclose(correlation_per_step(-u, u), -torch::ones({3}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(correlation_per_step(u + 0.25, u), torch::ones({3}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(conservation_sq(u + 0.25, u).sqrt(), torch::full({2, 3}, 0.25, torch::kFloat64)));
  // A constant offset is its own RMSE, whatever the field; a vanishing true field leaves the
  // RMSE defined (the nRMSE divides by its RMS).
  EXPECT_TRUE(torch::allclose(rmse_per_step(u + 0.25, u), torch::full({3}, 0.25, torch::kFloat64)));
  const auto tiny = u * 1e-19;
  EXPECT_TRUE(torch::allclose(rmse_per_step(tiny + 0.25, tiny), torch::full({3}, 0.25, torch::kFloat64)));
  EXPECT_GT(nrmse_per_step(tiny + 0.25, tiny).min().item<double>(), 1e15);
}

TEST(Metrics, NrmseIsPerChannelThenAveraged) {
  const auto u = truth();
  auto p = u.clone();
  p.select(1, 1).mul_(3.0);  // channel 1 off by 2x its RMS, channel 0 exact
  EXPECT_TRUE(torch::allclose(nrmse_per_step(p, u), torch::ones({3}, torch::kFloat64)));  // (0 + 2) / 2
  // The RMSE too: (0 + 2 RMS(u_1)) / 2, per frame.
  const auto rms1 = u.select(1, 1).flatten(1).pow(2).mean(1).sqrt();
  EXPECT_TRUE(torch::allclose(rmse_per_step(p, u), rms1));
}

TEST(Metrics, UncorrelatedNoiseAndTheHighCorrelationTime) {
  torch::manual_seed(0);
  const auto u = torch::randn({1, 1, 64, 64}, torch::kFloat64);
  const auto v = torch::randn({1, 1, 64, 64}, torch::kFloat64);
  EXPECT_LT(std::abs(correlation_per_step(v, u)[0].item<double>()), 0.05);
  EXPECT_EQ(high_correlation_steps({0.99, 0.97, 0.93, 0.85, 0.7}, 0.8), 4);
  EXPECT_EQ(high_correlation_steps({0.99, 0.97, 0.93, 0.85, 0.7}, 0.95), 2);
  EXPECT_EQ(high_correlation_steps({0.99, 0.97}, 0.9), 2);  // never below: the whole horizon
  EXPECT_EQ(high_correlation_steps({std::nan("")}, 0.9), 0);  // a NaN rollout is not correlated
}
