// FNO: reference parameter counts and names, shapes in 1-3D, the spectral convolution's
// corner modes, gradients, discretisation invariance, overfitting, input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "core/error.hpp"
#include "surrogates/fno.hpp"
#include "tests/test_util.hpp"

using pdestream::testing::error_of;

using namespace pdestream::surrogates;

namespace {

class FnoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    torch::manual_seed(0);
  }
};

std::map<std::string, std::vector<int64_t>> shapes_of(const torch::nn::Module& m) {
  std::map<std::string, std::vector<int64_t>> s;
  for (const auto& p : m.named_parameters()) s[p.key()] = p.value().sizes().vec();
  return s;
}

FnoOptions options(int dim, int64_t in, int64_t out, int64_t width, int64_t modes, bool grid = true) {
  FnoOptions o;
  o.dim = dim;
  o.in_channels = in;
  o.out_channels = out;
  o.width = width;
  o.modes = {modes};
  o.grid = grid;
  return o;
}

}  // namespace

TEST_F(FnoTest, Fno1dMatchesReferenceParameterCountAndNames) {
  // fourier_1d.py: width 64, modes 16, input (a(x), x) -> 549,569 parameters.
  FnoImpl model(options(1, 1, 1, 64, 16));
  EXPECT_EQ(model.num_parameters(), 549569);
  auto s = shapes_of(model);
  EXPECT_EQ(s.size(), 18u);  // fc0, fc1, fc2: 6; conv0-3: 4; w0-3: 8
  EXPECT_EQ(s["fc0.weight"], (std::vector<int64_t>{64, 2}));
  EXPECT_EQ(s["conv0.weights1"], (std::vector<int64_t>{64, 64, 16, 2}));
  EXPECT_EQ(s["conv3.weights1"], (std::vector<int64_t>{64, 64, 16, 2}));
  EXPECT_EQ(s["w3.weight"], (std::vector<int64_t>{64, 64, 1}));
  EXPECT_EQ(s["w3.bias"], (std::vector<int64_t>{64}));
  EXPECT_EQ(s["fc1.weight"], (std::vector<int64_t>{128, 64}));
  EXPECT_EQ(s["fc2.weight"], (std::vector<int64_t>{1, 128}));
  EXPECT_EQ(s.count("conv0.weights2"), 0u);
  // Reference initialisation: uniform in [0, 1 / (in * out)).
  auto w = model.named_parameters()["conv0.weights1"];
  EXPECT_GE(w.min().item<double>(), 0.0);
  EXPECT_LT(w.max().item<double>(), 1.0 / (64 * 64));
  EXPECT_GT(w.max().item<double>(), 0.9 / (64 * 64));
}

TEST_F(FnoTest, Fno2dMatchesReferenceParameterCountAndNames) {
  // fourier_2d.py: width 32, modes 12, input (a(x, y), x, y) -> 2,368,001 parameters.
  FnoImpl model(options(2, 1, 1, 32, 12));
  EXPECT_EQ(model.num_parameters(), 2368001);
  auto s = shapes_of(model);
  EXPECT_EQ(s["fc0.weight"], (std::vector<int64_t>{32, 3}));
  EXPECT_EQ(s["conv2.weights1"], (std::vector<int64_t>{32, 32, 12, 12, 2}));
  EXPECT_EQ(s["conv2.weights2"], (std::vector<int64_t>{32, 32, 12, 12, 2}));
  EXPECT_EQ(s.count("conv2.weights3"), 0u);
  EXPECT_EQ(s["w0.weight"], (std::vector<int64_t>{32, 32, 1, 1}));
  // Same count with 3 data channels and no grid: the grid counts toward fc0's input.
  FnoImpl no_grid(options(2, 3, 1, 32, 12, /*grid=*/false));
  EXPECT_EQ(no_grid.num_parameters(), 2368001);
}

TEST_F(FnoTest, Fno3dHasFourCornersAndConv3d) {
  FnoOptions o = options(3, 2, 1, 8, 3);
  o.modes = {3, 2, 2};
  FnoImpl model(o);
  auto s = shapes_of(model);
  for (int c = 1; c <= 4; ++c) EXPECT_EQ(s["conv0.weights" + std::to_string(c)], (std::vector<int64_t>{8, 8, 3, 2, 2, 2}));
  EXPECT_EQ(s.count("conv0.weights5"), 0u);
  EXPECT_EQ(s["w0.weight"], (std::vector<int64_t>{8, 8, 1, 1, 1}));
  EXPECT_EQ(s["fc0.weight"], (std::vector<int64_t>{8, 5}));
}

TEST_F(FnoTest, OutputShapesInEveryDimensionWithAndWithoutPadding) {
  for (int dim = 1; dim <= 3; ++dim)
    for (int64_t padding : {0, 3}) {
      FnoOptions o = options(dim, 2, 3, 8, 3);
      o.layers = 2;
      o.padding = padding;
      FnoImpl model(o);
      std::vector<int64_t> shape{2, 2};
      for (int a = 0; a < dim; ++a) shape.push_back(8 + a);
      auto y = model.forward(torch::randn(shape));
      shape[1] = 3;
      EXPECT_EQ(y.sizes().vec(), shape) << "dim " << dim << " padding " << padding;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
}

TEST_F(FnoTest, SpectralConvWithIdentityWeightsIsALowPassFilterInEveryCorner) {
  // With weights = identity on every kept mode, the layer keeps exactly the modes
  // |k_a| < m_a (a < d-1) and k_last < m_last: a mode in a "high" corner (negative
  // frequency on a leading axis) passes only if that corner is wired correctly.
  for (int dim = 1; dim <= 3; ++dim) {
    const int64_t n = 16, m = 4;
    SpectralConv conv(dim, 1, 1, std::vector<int64_t>(dim, m));
    {
      torch::NoGradGuard g;
      for (auto& p : conv->parameters()) {
        p.zero_();
        p.select(-1, 0).fill_(1.0);  // real part 1
      }
    }
    std::vector<int64_t> shape{1, 1};
    for (int a = 0; a < dim; ++a) shape.push_back(n);
    const std::vector<int> low_k{3, 2, 1};  // kept: |k| < 4
    const std::vector<int> cut_k{5, 6, 7};  // removed
    std::vector<torch::Tensor> x;
    for (int a = 0; a < dim; ++a) {
      std::vector<int64_t> view(dim + 2, 1);
      view[2 + a] = n;
      x.push_back(torch::arange(n, torch::kFloat64).view(view) / n);
    }
    // One wave per sign pattern of the leading axes: every corner carries one.
    auto keep = torch::zeros(shape, torch::kFloat64);
    auto high = torch::zeros(shape, torch::kFloat64);
    for (int signs = 0; signs < (1 << (dim - 1)); ++signs) {
      auto phase = torch::zeros(shape, torch::kFloat64);
      for (int a = 0; a < dim; ++a) phase = phase + ((signs >> a) & 1 ? -1 : 1) * low_k[a] * x[a];
      keep = keep + (signs + 1) * torch::cos(2 * M_PI * phase);
    }
    for (int a = 0; a < dim; ++a) high = high + cut_k[a] * x[a];
    auto drop = torch::sin(2 * M_PI * high);
    conv->to(torch::kFloat64);
    auto y = conv->forward(keep + drop);
    EXPECT_LT((y - keep).abs().max().item<double>(), 1e-10) << "dim " << dim;
    if (dim > 1) {  // without the last corner's weights its wave is lost
      torch::NoGradGuard g;
      conv->weights().back().zero_();
      EXPECT_GT((conv->forward(keep + drop) - keep).abs().max().item<double>(), 0.5) << "dim " << dim;
    }
  }
}

TEST_F(FnoTest, GradientsReachEveryParameter) {
  for (int dim = 1; dim <= 3; ++dim) {
    FnoOptions o = options(dim, 1, 2, 6, 2);
    o.layers = 2;
    o.projection = 16;
    FnoImpl model(o);
    std::vector<int64_t> shape{2, 1};
    for (int a = 0; a < dim; ++a) shape.push_back(6);
    model.forward(torch::randn(shape)).pow(2).sum().backward();
    for (const auto& p : model.named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << "dim " << dim << " " << p.key();
    }
  }
}

TEST_F(FnoTest, SameWeightsEvaluateOnATwiceFinerGrid) {
  // Discretisation invariance: a band-limited periodic input sampled on n and 2n points
  // gives (nearly) the same output at the shared points. The remaining difference comes
  // from aliasing of GELU's harmonics on the coarse grid.
  for (int dim = 1; dim <= 2; ++dim) {
    FnoOptions o = options(dim, 1, 1, 16, 4, /*grid=*/false);
    FnoImpl model(o);
    {
      // Make the spectral path dominate (the pointwise path is trivially grid independent):
      // O(1) spectral gain per layer and no 1x1 convolutions.
      torch::NoGradGuard g;
      for (auto& p : model.named_parameters()) {
        if (p.key().find(".weights") != std::string::npos) p.value().normal_(0.0, 0.5);
        if (p.key().rfind("w", 0) == 0) p.value().zero_();
      }
    }
    auto sample = [&](int64_t n) {
      std::vector<int64_t> shape{1, 1};
      for (int a = 0; a < dim; ++a) shape.push_back(n);
      auto u = torch::zeros(shape);
      for (int a = 0; a < dim; ++a) {
        std::vector<int64_t> view(dim + 2, 1);
        view[2 + a] = n;
        auto x = torch::arange(n, torch::kFloat32).view(view) / n;
        u = u + torch::sin(2 * M_PI * x) + 0.5 * torch::cos(4 * M_PI * x);
      }
      return u;
    };
    torch::NoGradGuard g;
    auto coarse = model.forward(sample(32));
    auto fine = model.forward(sample(64));
    ASSERT_EQ(fine.size(-1), 64);
    auto fine_on_coarse = dim == 1 ? fine.slice(2, 0, 64, 2) : fine.slice(2, 0, 64, 2).slice(3, 0, 64, 2);
    // Relative to the spatial variation, not to a constant offset.
    const double variation = (coarse - coarse.mean()).norm().item<double>();
    const double rel = (fine_on_coarse - coarse).norm().item<double>() / variation;
    std::cout << "  FNO" << dim << "d coarse (32) vs fine (64): difference / variation = " << rel
              << " (variation " << variation << ")\n";
    ASSERT_GT(variation, 1e-2 * coarse.norm().item<double>());
    EXPECT_LT(rel, 5e-3) << "dim " << dim;
  }
}

TEST_F(FnoTest, OverfitsASmallSet) {
  // 8 samples of a smoothing operator, 200 Adam steps.
  FnoOptions o = options(1, 1, 1, 16, 8);
  o.layers = 3;
  o.projection = 32;
  FnoImpl model(o);
  auto x = torch::randn({8, 1, 32});
  auto y = 0.5 * (x.roll(1, 2) + x.roll(-1, 2));
  torch::optim::Adam opt(model.parameters(), torch::optim::AdamOptions(5e-3));
  double first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    opt.zero_grad();
    auto loss = torch::mse_loss(model.forward(x), y);
    loss.backward();
    opt.step();
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
  }
  std::cout << "  FNO1d overfit: loss " << first << " -> " << last << "\n";
  EXPECT_LT(last, 0.02 * first) << "first " << first << " last " << last;
}

TEST_F(FnoTest, RejectsBadInputWithOneLineNamingExpectedAndFound) {
  FnoImpl model(options(2, 3, 1, 8, 4));
  auto msg = error_of([&] { model.forward(torch::randn({2, 2, 16, 16})); });
  EXPECT_NE(msg.find("expected input [B, 3, X, Y], got [2, 2, 16, 16]"), std::string::npos) << msg;
  msg = error_of([&] { model.forward(torch::randn({2, 3, 16})); });
  EXPECT_NE(msg.find("got [2, 3, 16]"), std::string::npos) << msg;
  msg = error_of([&] { model.forward(torch::randn({1, 3, 6, 16})); });
  EXPECT_NE(msg.find("axis 0 has 6 points"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  FnoOptions bad = options(2, 1, 1, 8, 4);
  bad.modes = {4, 4, 4};
  msg = error_of([&] { FnoImpl m(bad); });
  EXPECT_NE(msg.find("expected 1 or 2 values"), std::string::npos) << msg;
}
