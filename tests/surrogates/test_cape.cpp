// CAPE (surrogates/cape.hpp): shapes in 1D and 2D, the reference's parameter names and count
// at the paper's 1D settings, gradients (the parameters reach the output), the model-file
// round trip through the registry, overfitting a small set that only the parameter
// explains, and the errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "core/config.hpp"
#include "core/error.hpp"
#include "surrogates/cape.hpp"
#include "surrogates/model_file.hpp"
#include "surrogates/registry.hpp"
#include "tests/test_util.hpp"

using namespace pdestream::surrogates;
using pdestream::Config;
using pdestream::SectionReader;
using pdestream::testing::error_of;

namespace {

class CapeModel : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    torch::manual_seed(0);
  }
};

ModelShape shape_1d(std::int64_t nx = 128) {
  ModelShape s;
  s.dim = 1;
  s.in_channels = 1;
  s.out_channels = 1;
  s.spatial = {nx};
  s.cond_dim = 1;
  return s;
}

std::shared_ptr<Surrogate> from_toml(const std::string& text, const ModelShape& shape) {
  Config c = Config::parse(text, "cape.toml");
  SectionReader s(c, "model");
  return make_model(s, shape);
}

// The paper's 1D setting: CAPE (d = 64, kernel 5, 16 modes) + FNO (width 20, 12 modes).
const char* kPaper1d = "[model]\nname = \"cape\"\n[model.base]\nname = \"fno\"\nwidth = 20\nmodes = 12\n";
// The same on 64 cells (16 pooled: at most 9 modes).
const char* kSmall1d = "[model]\nname = \"cape\"\nmodes = 8\n[model.base]\nname = \"fno\"\nwidth = 20\nmodes = 12\n";

// Parameter count with complex spectral weights counted once (torch's numel on the
// reference's cfloat tensors, what its train.py prints).
std::int64_t numel_complex_once(const torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.named_parameters()) {
    const bool spectral = p.key().find("weights") != std::string::npos;
    n += spectral ? p.value().numel() / 2 : p.value().numel();
  }
  return n;
}

}  // namespace

TEST_F(CapeModel, ShapesIn1dAnd2d) {
  auto m = from_toml(kPaper1d, shape_1d());
  auto x = torch::randn({3, 1, 128}), p = torch::tensor({{0.2f}, {0.4f}, {4.0f}});
  EXPECT_EQ(m->forward(x, p).sizes(), x.sizes());
  auto [out, e] = std::dynamic_pointer_cast<CapeImpl>(m)->forward_with_block(x, p);
  EXPECT_EQ(e.sizes(), x.sizes());

  ModelShape s2;
  s2.dim = 2;
  s2.in_channels = 2;
  s2.out_channels = 3;
  s2.spatial = {32, 24};
  s2.cond_dim = 2;
  auto m2 = from_toml("[model]\nname = \"cape\"\nwidth = 16\nmodes = 3\n[model.base]\nname = \"unet\"\nwidth = 8\nlevels = 2\n", s2);
  auto y = m2->forward(torch::randn({2, 2, 32, 24}), torch::tensor({{0.01f, 1.0f}, {0.1f, 2.0f}}));
  EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{2, 3, 32, 24}));
}

TEST_F(CapeModel, ReferenceNamesAndParameterCount) {
  auto m = from_toml(kPaper1d, shape_1d());
  std::set<std::string> names;
  for (const auto& p : m->named_parameters()) names.insert(p.key());
  for (const char* n : {"PrmEmb_Pre.0.CNN_0.weight", "PrmEmb_Pre.0.CNN_SC.weights1", "PrmEmb_Pre.0.CNN_AD.weight",
                        "PrmEmb_Pre.0.CNN_AC.bias", "PrmEmb_Pre.0.CNN_1.weight", "PrmEmb_Pre.0.CNN_2.bias",
                        "PrmEmb_Pre.0.fc0a.weight", "PrmEmb_Pre.0.fc2b.bias", "PrmEmb_Pre.0.LN.weight", "model.fc0.weight",
                        "model.conv3.weights1", "mix_emb.weight"})
    EXPECT_TRUE(names.count(n)) << n;
  EXPECT_FALSE(names.count("PrmEmb_Pre.0.CNN_0.bias")) << "the stem has no bias";
  EXPECT_FALSE(names.count("PrmEmb_Pre.0.CNN_AD.bias")) << "the depthwise conv has no bias";
  // Worked out from the reference's modules: CAPE block 44,321 + FNO(width 20, 2 channels)
  // 23,906 + mix_emb 3 = 68,230 with complex weights counted once; 120,198 real numbers.
  EXPECT_EQ(numel_complex_once(*m), 68230);
  EXPECT_EQ(m->num_parameters(), 120198);
  // The paper's baseline, FNO width 36 alone: 72,509 (134,717 real), about the same budget.
  auto fno = from_toml("[model]\nname = \"fno\"\nwidth = 36\nmodes = 12\n", [] {
    auto s = shape_1d();
    s.cond_dim = 0;
    return s;
  }());
  EXPECT_EQ(numel_complex_once(*fno), 72509);
  EXPECT_EQ(fno->num_parameters(), 134717);
}

TEST_F(CapeModel, GradientsReachEveryParameterAndTheParametersMatter) {
  auto m = from_toml(kSmall1d, shape_1d(64));
  auto x = torch::randn({4, 1, 64});
  auto p = torch::tensor({{0.2f}, {0.7f}, {2.0f}, {4.0f}}).requires_grad_(true);
  auto [out, e] = std::dynamic_pointer_cast<CapeImpl>(m)->forward_with_block(x, p);
  ((out * torch::randn_like(out)).sum() + (e * torch::randn_like(e)).sum()).backward();
  double largest = 0;
  for (const auto& q : m->named_parameters()) largest = std::max(largest, q.value().grad().abs().max().item<double>());
  for (const auto& q : m->named_parameters()) {
    ASSERT_TRUE(q.value().grad().defined()) << q.key();
    EXPECT_TRUE(torch::isfinite(q.value().grad()).all().item<bool>()) << q.key();
    const double g = q.value().grad().abs().max().item<double>();
    // CNN_2's bias is constant over space, which the LayerNorm removes: a dead parameter in
    // the reference too (kept for its state dict), with a gradient of rounding size only.
    if (q.key() == "PrmEmb_Pre.0.CNN_2.bias")
      EXPECT_LT(g, 1e-5 * largest) << q.key();
    else
      EXPECT_GT(g, 1e-6 * largest) << q.key();
  }
  EXPECT_GT(p.grad().abs().min().item<double>(), 0.0) << "the output depends on every example's parameter";
  EXPECT_EQ(std::dynamic_pointer_cast<CapeImpl>(m)->block_parameters().size(), 23u);  // the block's 23 tensors
}

TEST_F(CapeModel, ModelFileRoundTrip) {
  auto m = from_toml(kSmall1d, shape_1d(64));
  const std::string path = "cape_roundtrip.safetensors";
  save_safetensors(path, *m, {{"model", m->options_json().dump()}});
  const auto j = nlohmann::json::parse(read_safetensors_tensors(path).metadata.at("model"));
  EXPECT_EQ(j.at("base").at("name"), "fno");
  EXPECT_EQ(j.at("spatial"), nlohmann::json({64}));
  auto again = make_model_from_json(j, path);
  load_safetensors(path, *again);
  auto x = torch::randn({2, 1, 64}), p = torch::tensor({{0.3f}, {3.0f}});
  m->eval();
  again->eval();
  EXPECT_TRUE(torch::equal(m->forward(x, p), again->forward(x, p)));
  std::filesystem::remove(path);
}

// y = x shifted by a number of cells that the parameter alone decides: CAPE fits the set.
TEST_F(CapeModel, OverfitsASmallSetThatTheParameterExplains) {
  const int n = 8, nx = 64;
  auto grid = torch::arange(nx, torch::kFloat32) / nx;
  std::vector<torch::Tensor> xs, ys;
  std::vector<float> betas;
  for (int i = 0; i < n; ++i) {
    const float beta = (i % 2) ? 4.0f : 1.0f;
    auto x = torch::sin(2 * M_PI * (grid * (1 + i % 3) + 0.1 * i));
    xs.push_back(x.view({1, nx}));
    ys.push_back(torch::roll(x, {static_cast<std::int64_t>(beta * 2)}).view({1, nx}));
    betas.push_back(beta);
  }
  auto x = torch::stack(xs), y = torch::stack(ys), p = torch::tensor(betas).view({n, 1});
  auto m = from_toml("[model]\nname = \"cape\"\nwidth = 32\nmodes = 8\n[model.base]\nname = \"fno\"\nwidth = 16\nmodes = 8\n",
                     shape_1d(nx));
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(3e-3));
  auto rel = [&] {
    torch::NoGradGuard g;
    return ((m->forward(x, p) - y).norm() / y.norm()).item<double>();
  };
  const double first = rel();
  for (int s = 0; s < 400; ++s) {
    opt.zero_grad();
    auto loss = torch::mse_loss(m->forward(x, p), y);
    loss.backward();
    opt.step();
  }
  const double last = rel();
  std::printf("[cape] overfit 8 examples: relative L2 %.3f -> %.4f\n", first, last);
  EXPECT_LT(last, 0.05);
  EXPECT_LT(last, 0.1 * first);
}

TEST_F(CapeModel, BadInputGivesClearErrors) {
  auto m = from_toml(kSmall1d, shape_1d(64));
  EXPECT_EQ(error_of([&] { m->forward(torch::randn({2, 1, 64})); }),
            "cape: expected the PDE parameters cond [B, 1] ([task] condition), got none");
  EXPECT_NE(error_of([&] { m->forward(torch::randn({2, 1, 32}), torch::ones({2, 1})); })
                .find("cape: expected input [B, 1, 64], got [2, 1, 32]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { m->forward(torch::randn({2, 1, 64}), torch::ones({2, 2})); }).find("cape"),
            std::string::npos);
  auto no_cond = shape_1d();
  no_cond.cond_dim = 0;
  EXPECT_NE(error_of([&] { from_toml(kPaper1d, no_cond); }).find("at least one conditioning parameter"),
            std::string::npos);
  EXPECT_NE(error_of([&] { from_toml("[model]\nname = \"cape\"\n", shape_1d()); }).find("base"), std::string::npos);
  EXPECT_NE(error_of([&] { from_toml("[model]\nname = \"cape\"\nwidth = 7\n[model.base]\nname = \"fno\"\n", shape_1d()); })
                .find("width: expected an even number"),
            std::string::npos);
  EXPECT_NE(error_of([&] { from_toml("[model]\nname = \"cape\"\nmodes = 40\n[model.base]\nname = \"fno\"\n", shape_1d()); })
                .find("modes: expected 1..17 on the pooled grid 32"),
            std::string::npos);
  ModelShape s2 = shape_1d();
  s2.dim = 2;
  s2.spatial = {16, 16};
  auto m2 = from_toml("[model]\nname = \"cape\"\nwidth = 8\nmodes = 2\n[model.base]\nname = \"fno\"\nwidth = 4\nmodes = 2\n", s2);
  EXPECT_NE(error_of([&] { m2->forward(torch::randn({1, 1, 16, 16}), torch::zeros({1, 1})); }).find("positive"),
            std::string::npos);
}
