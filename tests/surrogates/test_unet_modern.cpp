// pdearena's modern U-Net (surrogates/unet_modern.hpp): shapes in 1D and 2D, pdearena's
// module names and the parameter count of Unetmod-1d-64, the zero start, gradients (time and
// parameters reach the output), circular padding (periodic equivariance), the model-file round
// trip, overfitting a small set, and the errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/config.hpp"
#include "surrogates/model_file.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/unet_modern.hpp"
#include "tests/test_util.hpp"

using namespace pdestream::surrogates;
using pdestream::Config;
using pdestream::SectionReader;
using pdestream::testing::error_of;

namespace {

class UnetModernModel : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    torch::manual_seed(0);
  }
};

ModelShape shape(int dim, std::int64_t in, std::int64_t out, std::int64_t cond, std::vector<std::int64_t> spatial) {
  ModelShape s;
  s.dim = dim;
  s.in_channels = in;
  s.out_channels = out;
  s.cond_dim = cond;
  s.spatial = std::move(spatial);
  return s;
}

std::shared_ptr<Surrogate> from_toml(const std::string& text, const ModelShape& s) {
  Config c = Config::parse("[model]\nname = \"unet_modern\"\n" + text, "unet.toml");
  SectionReader r(c, "model");
  return make_model(r, s);
}

UnetModernImpl& as_modern(const std::shared_ptr<Surrogate>& m) { return *std::dynamic_pointer_cast<UnetModernImpl>(m); }

// Give the zero-initialised output layers values, so outputs depend on everything.
void randomise(Surrogate& m) {
  torch::NoGradGuard g;
  for (auto& p : m.named_parameters())
    if (p.value().abs().max().item<double>() == 0 && p.key().find("norm") == std::string::npos)
      p.value().normal_(0.0, 0.02);
}

}  // namespace

TEST_F(UnetModernModel, ShapesIn1dAnd2dAndAZeroStart) {
  auto m1 = from_toml("hidden = 16\nch_mults = [1, 2, 2]\n", shape(1, 3, 2, 0, {64}));
  const auto y1 = m1->forward(torch::randn({4, 3, 64}));
  EXPECT_EQ(y1.sizes(), torch::IntArrayRef({4, 2, 64}));
  EXPECT_EQ(y1.abs().max().item<double>(), 0.0) << "the final convolution starts at zero, as pdearena's";
  auto m2 = from_toml("hidden = 8\nch_mults = [1, 2]\nn_blocks = 1\n", shape(2, 2, 1, 1, {16, 24}));
  randomise(*m2);
  const auto y2 = m2->forward(torch::randn({2, 2, 16, 24}), torch::ones({2, 1}));
  EXPECT_EQ(y2.sizes(), torch::IntArrayRef({2, 1, 16, 24}));
  EXPECT_GT(y2.abs().max().item<double>(), 0.0);
}

// pdearena's Unetmod-1d-64 as PDE-Refiner's KS config builds it: hidden 64, ch_mults (1, 2, 2,
// 4) compounding to 64, 128, 256, 1024 channels, 2 blocks, inputs [u(t), noisy target] (2
// channels), 1 output, scalar_2 conditioning (dt, dx). Our count of the reference's layers:
// 53.92 M; every tensor is accounted for by the names below.
TEST_F(UnetModernModel, PdearenaNamesAndParameterCount) {
  auto m = from_toml("", shape(1, 2, 1, 2, {256}));
  std::int64_t total = 0;
  for (const auto& p : m->parameters()) total += p.numel();
  std::printf("[unet_modern] Unetmod-1d-64 (2 in, 1 out, 2 parameters): %lld parameters\n",
              static_cast<long long>(total));
  EXPECT_NEAR(static_cast<double>(total), 53.92e6, 0.01e6);
  const auto names = m->named_parameters();
  for (const char* key : {"image_proj.weight", "time_embed.0.weight", "time_embed.2.bias", "pde_emb.1.2.weight",
                          "down.0.res.conv1.weight", "down.1.res.cond_emb.weight", "down.2.conv.weight",
                          "down.3.res.shortcut.weight", "middle.res1.norm1.weight", "middle.res2.conv2.bias",
                          "up.0.res.conv1.weight", "up.3.conv.weight", "norm.weight", "final.weight"})
    EXPECT_TRUE(names.contains(key)) << key;
  // The channels compound: the deepest level has 1024.
  EXPECT_EQ(names["middle.res1.conv1.weight"].sizes(), torch::IntArrayRef({1024, 1024, 3}));
  EXPECT_EQ(names["image_proj.weight"].sizes(), torch::IntArrayRef({64, 2, 3}));
  // 12 skips in, 12 blocks out: 4 levels x (2 + 1) up blocks and 3 upsamples.
  std::int64_t up_blocks = 0, up_samples = 0;
  for (const auto& p : names)
    if (p.key().rfind("up.", 0) == 0 && p.key().find(".res.conv1.weight") != std::string::npos) ++up_blocks;
    else if (p.key().rfind("up.", 0) == 0 && p.key().find(".conv.weight") != std::string::npos) ++up_samples;
  EXPECT_EQ(up_blocks, 12);
  EXPECT_EQ(up_samples, 3);
}

// Every parameter gets a gradient once the zero layers are randomised; the time and the
// conditioning parameters change the output.
TEST_F(UnetModernModel, GradientsReachEveryParameterAndTimeAndParametersMatter) {
  auto m = from_toml("hidden = 8\nch_mults = [1, 2]\n", shape(1, 2, 1, 2, {32}));
  randomise(*m);
  auto& u = as_modern(m);
  const auto x = torch::randn({3, 2, 32}), c = torch::rand({3, 2}) * 10;
  auto y = u.forward_with_time(x, torch::tensor({0.0f, 333.0f, 1000.0f}), c);
  y.pow(2).sum().backward();
  for (const auto& p : m->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().max().item<double>(), 0.0) << p.key();
  }
  torch::NoGradGuard g;
  const auto a = u.forward_with_time(x, torch::full({3}, 0.0f), c), b = u.forward_with_time(x, torch::full({3}, 500.0f), c);
  EXPECT_GT((a - b).abs().max().item<double>(), 1e-6) << "the time embedding reaches the output";
  EXPECT_GT((u.forward(x, c) - u.forward(x, c + 1)).abs().max().item<double>(), 1e-6);
  EXPECT_TRUE(torch::allclose(u.forward(x, c), a)) << "forward(x, cond) embeds t = 0";
}

// Circular padding for periodic data. One level (no resampling): a shifted input gives the
// shifted output exactly, which zero padding breaks. With levels, pdearena's transposed
// convolutions stay zero-padded (its circular Conv1d does not reach them), so the edges see
// some of that too: less than with zero padding throughout.
TEST_F(UnetModernModel, CircularPaddingMakesItShiftEquivariant) {
  for (const std::string mults : {"[1]", "[1, 2, 2]"}) {
    double error[2] = {0, 0};
    for (int z = 0; z < 2; ++z) {
      torch::manual_seed(1);
      auto m = from_toml("hidden = 8\nch_mults = " + mults + "\npadding = \"" + (z ? "zeros" : "circular") + "\"\n",
                         shape(1, 1, 1, 0, {64}));
      randomise(*m);
      m->eval();
      torch::NoGradGuard g;
      const auto x = torch::randn({1, 1, 64});
      const auto shifted = m->forward(torch::roll(x, {8}, {2})), expected = torch::roll(m->forward(x), {8}, {2});
      error[z] = (shifted - expected).abs().max().item<double>() / expected.abs().max().item<double>();
    }
    std::printf("[unet_modern] ch_mults %s: shift error %.2e circular, %.2e zeros\n", mults.c_str(), error[0], error[1]);
    if (mults == "[1]") EXPECT_LT(error[0], 1e-6);
    EXPECT_GT(error[1], 3 * error[0]);
  }
}

TEST_F(UnetModernModel, ModelFileRoundTrip) {
  auto m = from_toml("hidden = 8\nch_mults = [1, 2]\n", shape(1, 1, 1, 1, {32}));
  randomise(*m);
  const std::string path = "unet_modern_roundtrip.safetensors";
  save_safetensors(path, *m, {{"model", m->options_json().dump()}});
  const auto j = nlohmann::json::parse(read_safetensors_tensors(path).metadata.at("model"));
  EXPECT_EQ(j.at("ch_mults"), nlohmann::json({1, 2}));
  auto again = make_model_from_json(j, path);
  load_safetensors(path, *again);
  const auto x = torch::randn({2, 1, 32}), p = torch::tensor({{0.3f}, {3.0f}});
  EXPECT_TRUE(torch::equal(m->forward(x, p), again->forward(x, p)));
  std::filesystem::remove(path);
}

// Eight periodic examples whose target is a shifted, squared input: the model fits them.
TEST_F(UnetModernModel, OverfitsASmallSet) {
  const std::int64_t n = 8, nx = 32;
  auto grid = torch::arange(nx, torch::kFloat32) / nx;
  std::vector<torch::Tensor> xs, ys;
  for (int i = 0; i < n; ++i) {
    auto x = torch::sin(2 * M_PI * (grid * (1 + i % 3) + 0.1 * i));
    xs.push_back(x.view({1, nx}));
    ys.push_back(torch::roll(x * x, {3}).view({1, nx}));
  }
  auto x = torch::stack(xs), y = torch::stack(ys);
  auto m = from_toml("hidden = 16\nch_mults = [1, 2]\n", shape(1, 1, 1, 0, {nx}));
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(2e-3));
  auto rel = [&] {
    torch::NoGradGuard g;
    return ((m->forward(x) - y).norm() / y.norm()).item<double>();
  };
  const double first = rel();
  for (int s = 0; s < 300; ++s) {
    opt.zero_grad();
    torch::mse_loss(m->forward(x), y).backward();
    opt.step();
  }
  const double last = rel();
  std::printf("[unet_modern] overfit 8 examples: relative L2 %.3f -> %.4f\n", first, last);
  EXPECT_LT(last, 0.05);
}

TEST_F(UnetModernModel, BadInputGivesClearErrors) {
  auto m = from_toml("hidden = 8\nch_mults = [1, 2, 2]\n", shape(1, 1, 1, 1, {64}));
  EXPECT_EQ(error_of([&] { m->forward(torch::randn({2, 1, 62}), torch::ones({2, 1})); }),
            "unet_modern: expected a grid divisible by 4 (3 levels), got [2, 1, 62]");
  EXPECT_EQ(error_of([&] { m->forward(torch::randn({2, 1, 64})); }),
            "unet_modern: expected cond [2, 1], got none");
  EXPECT_EQ(error_of([&] { m->forward(torch::randn({2, 3, 64}), torch::ones({2, 1})); }),
            "unet_modern: expected input [B, 1, X], got [2, 3, 64]");
  EXPECT_NE(error_of([&] { from_toml("hidden = 12\n", shape(1, 1, 1, 0, {64})); }).find("multiple of 8"),
            std::string::npos);
  EXPECT_NE(error_of([&] { from_toml("padding = \"reflect\"\n", shape(1, 1, 1, 0, {64})); }).find("padding"),
            std::string::npos);
  EXPECT_NE(error_of([&] { from_toml("ch_mult = [1]\n", shape(1, 1, 1, 0, {64})); }).find("ch_mult"),
            std::string::npos);
  auto plain = from_toml("hidden = 8\nch_mults = [1, 2]\n", shape(1, 1, 1, 0, {32}));
  EXPECT_NE(error_of([&] { plain->forward(torch::randn({1, 1, 32}), torch::ones({1, 1})); }).find("cond_dim 0"),
            std::string::npos);
}
