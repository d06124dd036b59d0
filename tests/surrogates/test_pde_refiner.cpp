// PDE-Refiner (surrogates/pde_refiner.hpp): the DDPM schedule pdearena's settings give, the
// module names (the denoiser under "model."), shapes and the K + 1 denoiser passes of infer,
// the noise seeds (reproducible, independent of the batch's other examples), the difference
// target, the model-file round trip and the errors; and unet_modern's difference_weight.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <ATen/CPUGeneratorImpl.h>

#include "core/config.hpp"
#include "core/random.hpp"
#include "surrogates/model_file.hpp"
#include "surrogates/pde_refiner.hpp"
#include "surrogates/registry.hpp"
#include "tests/test_util.hpp"

using namespace pdestream::surrogates;
using pdestream::Config;
using pdestream::SectionReader;
using pdestream::testing::error_of;

namespace {

class PdeRefinerModel : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    torch::manual_seed(0);
  }
};

ModelShape shape1d(std::int64_t in, std::int64_t out, std::int64_t cond, std::int64_t nx) {
  ModelShape s;
  s.dim = 1;
  s.in_channels = in;
  s.out_channels = out;
  s.cond_dim = cond;
  s.spatial = {nx};
  return s;
}

std::shared_ptr<Surrogate> from_toml(const std::string& model, const std::string& base, const ModelShape& s) {
  Config c = Config::parse("[model]\nname = \"pde_refiner\"\n" + model + "[model.base]\n" + base, "refiner.toml");
  SectionReader r(c, "model");
  return make_model(r, s);
}

std::shared_ptr<PdeRefinerImpl> small_refiner(std::int64_t cond = 0) {
  auto m = from_toml("", "name = \"unet_modern\"\nhidden = 8\nch_mults = [1, 2]\n", shape1d(1, 1, cond, 32));
  auto r = std::dynamic_pointer_cast<PdeRefinerImpl>(m);
  // Give the zero-initialised output layers values, so the output depends on the input.
  torch::NoGradGuard g;
  for (auto& p : r->named_parameters())
    if (p.value().abs().max().item<double>() == 0 && p.key().find("norm") == std::string::npos)
      p.value().normal_(0.0, 0.05);
  return r;
}

}  // namespace

// pdearena's KS settings: K = 3, min_noise_std 4e-7 as DDPM's beta_0, beta_K = 1.
TEST_F(PdeRefinerModel, TheScheduleOfPdearenasSettings) {
  auto r = small_refiner();
  const auto& beta = r->betas();
  const auto& abar = r->alphas_cumprod();
  ASSERT_EQ(beta.size(), 4u);
  EXPECT_DOUBLE_EQ(beta[0], 4e-7);
  EXPECT_NEAR(beta[1], std::pow(4e-7, 2.0 / 3), 1e-18);
  EXPECT_NEAR(beta[2], std::pow(4e-7, 1.0 / 3), 1e-15);
  EXPECT_DOUBLE_EQ(beta[3], 1.0);
  EXPECT_EQ(abar[3], 0.0);  // the last level holds no signal: the plain one-step prediction
  // The noise stds sqrt(1 - abar_j) below the pure-noise level.
  EXPECT_NEAR(std::sqrt(1 - abar[2]), 0.08615, 5e-5);
  EXPECT_NEAR(std::sqrt(1 - abar[1]), 0.007395, 5e-6);
  EXPECT_NEAR(std::sqrt(1 - abar[0]), 6.325e-4, 1e-6);
}

TEST_F(PdeRefinerModel, NamesShapesAndTheRefinementPasses) {
  auto r = small_refiner(2);
  // The denoiser sits under "model." as in pdearena's PDERefiner, on [x, y]: 2 channels in.
  auto params = r->named_parameters();
  ASSERT_TRUE(params.contains("model.image_proj.weight"));
  EXPECT_EQ(params["model.image_proj.weight"].size(1), 2);
  EXPECT_TRUE(params.contains("model.time_embed.0.weight"));
  EXPECT_TRUE(params.contains("model.pde_emb.1.2.bias"));
  EXPECT_EQ(r->num_parameters(), count_parameters(*r->named_children()[0].value()));  // all in the denoiser

  const auto x = torch::randn({3, 1, 32}), cond = torch::rand({3, 2});
  const auto y = r->infer(x, cond);
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({3, 1, 32}));
  EXPECT_FALSE(y.requires_grad());
  // forward runs the same loop under grad mode: the output depends on every parameter.
  r->set_noise_seeds({1, 2, 3});
  auto out = r->forward(x, cond);
  out.pow(2).sum().backward();
  for (const auto& p : r->named_parameters())
    EXPECT_TRUE(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0) << p.key();
}

TEST_F(PdeRefinerModel, NoiseSeedsMakeSamplesReproducibleAndIndependentOfTheBatch) {
  auto r = small_refiner();
  const auto x = torch::randn({3, 1, 32});
  r->set_noise_seeds({10, 11, 12});
  const auto a = r->infer(x);
  r->set_noise_seeds({10, 11, 12});
  EXPECT_TRUE(torch::equal(r->infer(x), a)) << "the same seeds give the same samples";
  // Example 1 alone, with its own seed: the same sample as inside the batch of 3.
  r->set_noise_seeds({11});
  EXPECT_TRUE(torch::allclose(r->infer(x.narrow(0, 1, 1)), a.narrow(0, 1, 1), 1e-5, 1e-6));
  // Another seed gives another sample; the spread is the refinement noise, small but there.
  r->set_noise_seeds({13, 11, 12});
  const auto b = r->infer(x);
  const double d = (b[0] - a[0]).abs().max().item<double>();
  EXPECT_GT(d, 0.0);
  EXPECT_TRUE(torch::equal(b[1], a[1]));
  EXPECT_EQ(error_of([&] {
              r->set_noise_seeds({1, 2});
              r->infer(x);
            }),
            "pde_refiner: 2 noise seeds set for a batch of 3");
  r->set_noise_seeds({});
}

// infer is the DDPM ancestral sampler with v-prediction (diffusers' DDPMScheduler.step, as
// pdearena runs it), written out here from the formulas: K + 1 denoiser passes from pure
// noise, fresh noise after every pass but the last, each draw from (seed, draw index).
TEST_F(PdeRefinerModel, InferIsTheDdpmSamplerWithVPrediction) {
  auto r = small_refiner(1);
  const auto x = torch::randn({1, 1, 32}), cond = torch::rand({1, 1});
  const std::uint64_t seed = 77;
  r->set_noise_seeds({seed});
  const auto got = r->infer(x, cond);
  auto draw = [&](std::uint64_t d) {
    auto g = at::make_generator<at::CPUGeneratorImpl>(pdestream::splitmix64(pdestream::splitmix64(seed) ^ d));
    return torch::randn({1, 1, 32}, g);
  };
  torch::NoGradGuard no_grad;
  const auto& beta = r->betas();
  const auto& abar = r->alphas_cumprod();
  auto y = draw(0).to(torch::kFloat64);
  std::uint64_t draws = 1;
  for (int j = 3; j >= 0; --j) {
    const auto v = r->denoise(x, y.to(torch::kFloat32), torch::full({1}, static_cast<double>(j)), cond).to(torch::kFloat64);
    const double prev = j > 0 ? abar[j - 1] : 1.0;
    const auto x0 = std::sqrt(abar[j]) * y - std::sqrt(1 - abar[j]) * v;
    y = std::sqrt(prev) * beta[j] / (1 - abar[j]) * x0 + std::sqrt(1 - beta[j]) * (1 - prev) / (1 - abar[j]) * y;
    if (j > 0) y = y + std::sqrt((1 - prev) / (1 - abar[j]) * beta[j]) * draw(draws++).to(torch::kFloat64);
  }
  const auto expected = x.to(torch::kFloat64) + 0.3 * y;
  EXPECT_LT((got.to(torch::kFloat64) - expected).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(draws, 4u);  // the initial noise and one draw after each of the first K passes
}

// S samples of one step: their mean and a positive spread, reproducible from the seed.
TEST_F(PdeRefinerModel, InferSamplesGivesTheMeanAndTheSpread) {
  auto r = small_refiner(1);
  const auto x = torch::randn({2, 1, 32}), cond = torch::rand({2, 1});
  const auto [mean, std] = r->infer_samples(x, cond, 6, 3);
  EXPECT_EQ(mean.sizes(), torch::IntArrayRef({2, 1, 32}));
  EXPECT_EQ(std.sizes(), torch::IntArrayRef({2, 1, 32}));
  EXPECT_GT(std.min().item<double>(), 0.0);
  const auto [mean2, std2] = r->infer_samples(x, cond, 6, 3);
  EXPECT_TRUE(torch::equal(mean, mean2));
  EXPECT_EQ(error_of([&] { r->infer_samples(x, cond, 1, 3); }),
            "pde_refiner: expected at least 2 samples for a spread, got 1");
}

// The target is the change over one step, scaled by 1 / difference_weight, and back.
TEST_F(PdeRefinerModel, TheDifferenceTarget) {
  auto r = small_refiner();
  const auto x = torch::randn({2, 1, 32}), next = torch::randn({2, 1, 32});
  const auto y = r->target_to_y(x, next);
  EXPECT_TRUE(torch::allclose(y, (next - x) / 0.3));
  EXPECT_TRUE(torch::allclose(r->y_to_target(x, y), next, 1e-5, 1e-6));
  auto plain = std::dynamic_pointer_cast<PdeRefinerImpl>(from_toml(
      "difference_weight = 0\n", "name = \"unet_modern\"\nhidden = 8\nch_mults = [1, 2]\n", shape1d(1, 1, 0, 32)));
  EXPECT_TRUE(torch::equal(plain->target_to_y(x, next), next));
}

// unet_modern with difference_weight starts as the identity (its output conv is zero), and
// takes the last frame of a history.
TEST_F(PdeRefinerModel, UnetModernDifferenceWeightPredictsTheChange) {
  Config c = Config::parse("[model]\nname = \"unet_modern\"\nhidden = 8\nch_mults = [1, 2]\ndifference_weight = 0.3\n",
                           "u.toml");
  SectionReader s(c, "model");
  auto m = make_model(s, shape1d(2, 1, 0, 32));
  const auto x = torch::randn({4, 2, 32});
  EXPECT_TRUE(torch::equal(m->forward(x), x.narrow(1, 1, 1)));
  auto& u = *std::dynamic_pointer_cast<UnetModernImpl>(m);
  {
    torch::NoGradGuard g;
    for (auto& p : u.parameters()) p.normal_(0.0, 0.05);
  }
  EXPECT_TRUE(torch::allclose(m->forward(x), x.narrow(1, 1, 1) + 0.3 * u.forward_with_time(x, {}, {}), 1e-5, 1e-6));
  Config bad = Config::parse("[model]\nname = \"unet_modern\"\ndifference_weight = 0.3\n", "u.toml");
  SectionReader sb(bad, "model");
  EXPECT_EQ(error_of([&] { make_model(sb, shape1d(3, 2, 0, 32)); }),
            "unet_modern: difference_weight: expected input channels that are frames of the 2 output channels, got 3");
}

TEST_F(PdeRefinerModel, ModelFileRoundTrip) {
  auto r = small_refiner(1);
  const std::string path = "pde_refiner_roundtrip.safetensors";
  save_safetensors(path, *r, {{"model", r->options_json().dump()}});
  const auto j = nlohmann::json::parse(read_safetensors_tensors(path).metadata.at("model"));
  EXPECT_EQ(j.at("base").at("name"), "unet_modern");
  auto again = std::dynamic_pointer_cast<PdeRefinerImpl>(make_model_from_json(j, path));
  ASSERT_TRUE(again);
  load_safetensors(path, *again);
  const auto x = torch::randn({2, 1, 32}), cond = torch::rand({2, 1});
  r->set_noise_seeds({5, 6});
  again->set_noise_seeds({5, 6});
  EXPECT_TRUE(torch::equal(r->infer(x, cond), again->infer(x, cond)));
  std::filesystem::remove(path);
}

TEST_F(PdeRefinerModel, BadOptionsAndInputsGiveClearErrors) {
  const auto base = std::string("name = \"unet_modern\"\nhidden = 8\nch_mults = [1, 2]\n");
  EXPECT_EQ(error_of([&] { from_toml("num_refinement_steps = 0\n", base, shape1d(1, 1, 0, 32)); }),
            "refiner.toml: [model] num_refinement_steps: expected an integer in [1, 100], got 0");
  EXPECT_NE(error_of([&] { from_toml("min_noise_std = 2.0\n", base, shape1d(1, 1, 0, 32)); }).find("min_noise_std"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { from_toml("", "name = \"fno\"\n", shape1d(1, 1, 0, 32)); }),
            "refiner.toml: [model] base: expected name = \"unet_modern\" (the denoiser embeds the refinement step)");
  EXPECT_NE(error_of([&] { from_toml("", base + "difference_weight = 0.3\n", shape1d(1, 1, 0, 32)); })
                .find("the base model's difference_weight must be 0"),
            std::string::npos);
  Config c = Config::parse("[model]\nname = \"pde_refiner\"\n", "refiner.toml");
  SectionReader s(c, "model");
  EXPECT_NE(error_of([&] { make_model(s, shape1d(1, 1, 0, 32)); }).find("expected the denoiser's table"),
            std::string::npos);
  auto r = small_refiner();
  EXPECT_EQ(error_of([&] { r->infer(torch::randn({2, 2, 32})); }), "pde_refiner: expected input [B, 1, X], got [2, 2, 32]");
}
