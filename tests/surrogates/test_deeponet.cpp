// DeepONet (branch: source position, trunk: space-time point): shapes and names, the
// modified-MLP and Fourier-feature formulas written out, SIREN initialisation, gradients
// against finite differences, the split evaluation (branch once, trunk once), the model file
// round trip, overfitting one source's sound field, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/config.hpp"
#include "surrogates/deeponet.hpp"
#include "surrogates/model_file.hpp"
#include "surrogates/option_reader.hpp"
#include "surrogates/registry.hpp"
#include "tests/test_util.hpp"

using namespace pdestream;
using namespace pdestream::surrogates;
using pdestream::testing::error_of;

namespace {

DeepOnetOptions small(std::vector<double> fourier = {}) {
  DeepOnetOptions o;
  o.in_channels = 4;
  o.out_channels = 1;
  o.cond_dim = 3;
  o.latent = 8;
  o.branch_width = 16;
  o.branch_depth = 2;
  o.trunk_width = 12;
  o.trunk_depth = 3;
  o.fourier_features = std::move(fourier);
  return o;
}

}  // namespace

TEST(DeepOnet, ShapesNamesAndParameterCount) {
  torch::manual_seed(0);
  DeepOnet m(small({1.458, 0.729}));
  const auto x = torch::rand({5, 4, 33}) * 2 - 1, cond = torch::rand({5, 3});
  EXPECT_EQ(m->forward(x, cond).sizes(), (std::vector<std::int64_t>{5, 1, 33}));
  std::vector<std::string> names;
  for (const auto& p : m->named_parameters()) names.push_back(p.key());
  // torch lists a module's own parameters before its submodules'.
  const std::vector<std::string> expected = {
      "b0",                       "branch.U.weight",          "branch.U.bias",          "branch.V.weight",          "branch.V.bias",
      "branch.linears.0.weight",  "branch.linears.0.bias",  "branch.linears.1.weight",  "branch.linears.1.bias",
      "branch.linears.2.weight",  "branch.linears.2.bias",  "trunk.U.weight",           "trunk.U.bias",
      "trunk.V.weight",           "trunk.V.bias",           "trunk.linears.0.weight",   "trunk.linears.0.bias",
      "trunk.linears.1.weight",   "trunk.linears.1.bias",   "trunk.linears.2.weight",   "trunk.linears.2.bias",
      "trunk.linears.3.weight",   "trunk.linears.3.bias"};
  EXPECT_EQ(names, expected);
  // Trunk input 4 coordinates x (1 + 2 x 2 features) = 20; branch out latent 8.
  const std::int64_t branch = 2 * (3 * 16 + 16) + (3 * 16 + 16) + (16 * 16 + 16) + (16 * 8 + 8);
  const std::int64_t trunk = 2 * (20 * 12 + 12) + (20 * 12 + 12) + 2 * (12 * 12 + 12) + (12 * 8 + 8);
  EXPECT_EQ(m->num_parameters(), branch + trunk + 1);
  // Two output channels: two latent blocks from the branch, one b0 each.
  auto o2 = small();
  o2.out_channels = 2;
  DeepOnet two(o2);
  EXPECT_EQ(two->forward(x, cond).sizes(), (std::vector<std::int64_t>{5, 2, 33}));
  EXPECT_EQ(two->named_parameters()["b0"].sizes(), (std::vector<std::int64_t>{2}));
}

// The formulas of the header, written out with plain tensor algebra.
TEST(DeepOnet, ForwardIsTheModifiedMlpFormula) {
  torch::manual_seed(1);
  auto o = small({1.5});
  DeepOnet m(o);
  {
    torch::NoGradGuard g;
    for (auto& p : m->parameters()) p.uniform_(-0.3, 0.3);  // biases nonzero too
  }
  const auto x = torch::rand({2, 4, 7}) * 2 - 1, cond = torch::rand({2, 3});
  auto params = m->named_parameters();
  const auto lin = [&](const std::string& name, const torch::Tensor& y) {
    return torch::matmul(y, params[name + ".weight"].t()) + params[name + ".bias"];
  };
  const auto net = [&](const std::string& tag, const torch::Tensor& y, int depth) {
    auto u = torch::sin(lin(tag + ".U", y)), v = torch::sin(lin(tag + ".V", y));
    auto h = torch::sin(30.0 * torch::matmul(y, params[tag + ".linears.0.weight"].t()) + params[tag + ".linears.0.bias"]);
    h = h * u + (1 - h) * v;
    for (int l = 1; l < depth; ++l) {
      h = torch::sin(lin(tag + ".linears." + std::to_string(l), h));
      h = h * u + (1 - h) * v;
    }
    return lin(tag + ".linears." + std::to_string(depth), h);
  };
  auto y = x.transpose(1, 2);  // [B, M, 4]
  auto f = torch::cat({y, torch::cos(2 * M_PI * 1.5 * y), torch::sin(2 * M_PI * 1.5 * y)}, -1);
  auto t = net("trunk", f, 3);                     // [B, M, 8]
  auto b = net("branch", cond, 2);                 // [B, 8]
  auto expected = (b.unsqueeze(1) * t).sum(-1).unsqueeze(1) + params["b0"];
  EXPECT_TRUE(torch::allclose(m->forward(x, cond), expected, 1e-5, 1e-5));
  // Split evaluation: branch once per source, trunk once per point set.
  auto pts = x[0].t().contiguous();
  auto split = m->combine(m->branch_latent(cond), m->trunk_latent(pts));
  EXPECT_TRUE(torch::allclose(split[0], m->forward(x.narrow(0, 0, 1), cond.narrow(0, 0, 1))[0], 1e-5, 1e-6));
}

TEST(DeepOnet, SirenAndXavierInitialisation) {
  torch::manual_seed(2);
  DeepOnet m(small());
  auto params = m->named_parameters();
  // First layers (gates and layer 0) within 1/fan_in, the rest within sqrt(6/fan_in)/30.
  EXPECT_LE(params["trunk.U.weight"].abs().max().item<double>(), 1.0 / 4);
  EXPECT_LE(params["trunk.linears.0.weight"].abs().max().item<double>(), 1.0 / 4);
  EXPECT_GT(params["trunk.linears.0.weight"].abs().max().item<double>(), 0.8 / 4);
  EXPECT_LE(params["trunk.linears.1.weight"].abs().max().item<double>(), std::sqrt(6.0 / 12) / 30);
  EXPECT_GT(params["trunk.linears.1.weight"].abs().max().item<double>(), 0.8 * std::sqrt(6.0 / 12) / 30);
  EXPECT_EQ(params["trunk.linears.1.bias"].abs().max().item<double>(), 0.0);
  auto o = small();
  o.activation = "tanh";
  DeepOnet t(o);
  const double xavier = std::sqrt(6.0 / (12 + 12));
  EXPECT_LE(t->named_parameters()["trunk.linears.1.weight"].abs().max().item<double>(), xavier);
  EXPECT_GT(t->named_parameters()["trunk.linears.1.weight"].abs().max().item<double>(), 0.5 * xavier);
  o.modified = false;
  DeepOnet plain(o);
  EXPECT_FALSE(plain->named_parameters().contains("trunk.U.weight"));
  EXPECT_EQ(plain->forward(torch::rand({2, 4, 3}), torch::rand({2, 3})).sizes(), (std::vector<std::int64_t>{2, 1, 3}));
}

// Autograd against central differences, in double precision, for a parameter of every kind.
TEST(DeepOnet, GradientsMatchFiniteDifferences) {
  torch::manual_seed(3);
  auto o = small({0.7});
  o.omega0 = 3.0;  // keeps the double-precision differences well conditioned
  DeepOnet m(o);
  m->to(torch::kFloat64);
  const auto x = (torch::rand({2, 4, 5}, torch::kFloat64) * 2 - 1), cond = torch::rand({2, 3}, torch::kFloat64);
  const auto loss = [&] { return m->forward(x, cond).pow(2).sum(); };
  m->zero_grad();
  loss().backward();
  for (const std::string name : {"branch.U.weight", "branch.linears.0.bias", "trunk.V.weight", "trunk.linears.3.weight",
                                 "b0"}) {
    auto p = m->named_parameters()[name];
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0) << name;
    torch::NoGradGuard g;
    auto flat = p.view(-1);
    for (std::int64_t i : {std::int64_t{0}, flat.numel() - 1}) {
      const double h = 1e-6, saved = flat[i].item<double>();
      flat[i] = saved + h;
      const double up = loss().item<double>();
      flat[i] = saved - h;
      const double down = loss().item<double>();
      flat[i] = saved;
      EXPECT_NEAR(p.grad().view(-1)[i].item<double>(), (up - down) / (2 * h), 1e-6 * (1 + std::abs(up))) << name << "[" << i << "]";
    }
  }
}

TEST(DeepOnet, ModelFileRoundTrip) {
  torch::manual_seed(4);
  DeepOnet m(small({1.458, 0.729, 0.486}));
  const std::string path = "deeponet_roundtrip.safetensors";
  save_safetensors(path, *m, {{"model", m->options_json().dump()}});
  const auto j = nlohmann::json::parse(read_safetensors_tensors(path).metadata.at("model"));
  auto again = std::dynamic_pointer_cast<DeepOnetImpl>(make_model_from_json(j, path));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->options().fourier_features, (std::vector<double>{1.458, 0.729, 0.486}));
  load_safetensors(path, *again);
  const auto x = torch::rand({3, 4, 11}) * 2 - 1, cond = torch::rand({3, 3});
  EXPECT_TRUE(torch::equal(m->forward(x, cond), again->forward(x, cond)));
  std::filesystem::remove(path);
}

// One source's pulse in a 2 m room, c t up to 1.7 m (exact free field, 3D): 1024 space-time
// points learnt to a few percent, where the untrained net is at 100%.
TEST(DeepOnet, OverfitsOneSourcesSoundField) {
  torch::manual_seed(5);
  auto o = small({0.5, 1.0});
  o.latent = 32;
  o.trunk_width = 64;
  o.trunk_depth = 3;
  o.branch_width = 32;
  DeepOnet m(o);
  const double c = 343, s0 = c / (M_PI * 500), t_max = 0.005;
  auto y = torch::rand({1024, 4}) * 2 - 1;  // scaled (x, y, z, t)
  auto pos = y.narrow(1, 0, 3) + 1.0;       // metres, room [0, 2]^3
  auto r = (pos - 1.0).pow(2).sum(1).sqrt().clamp_min(1e-6);
  auto ct = (y.select(1, 3) + 1) / 2 * t_max * c;
  const auto f = [&](const torch::Tensor& s) { return torch::exp(-s * s / (s0 * s0)); };
  auto p = ((r - ct) * f(r - ct) + (r + ct) * f(r + ct)) / (2 * r);  // [M]
  const auto x = y.t().unsqueeze(0), target = p.view({1, 1, -1}), cond = torch::tensor({{0.0f, 0.0f, 0.0f}});
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(2e-3));
  const auto rel = [&] { return ((m->forward(x, cond) - target).norm() / target.norm()).item<double>(); };
  const double before = rel();
  for (int step = 0; step < 600; ++step) {
    opt.zero_grad();
    auto loss = (m->forward(x, cond) - target).pow(2).mean();
    loss.backward();
    opt.step();
  }
  const double after = rel();
  std::printf("deeponet overfit: relative L2 %.4f -> %.4f\n", before, after);
  EXPECT_GT(before, 0.5);
  EXPECT_LT(after, 0.03);
}

TEST(DeepOnet, BadOptionsAndInputsGiveClearErrors) {
  DeepOnet m(small());
  EXPECT_EQ(error_of([&] { m->forward(torch::rand({2, 4, 5})); }),
            "deeponet: this model is conditioned on 3 parameter(s) ([task] condition): expected cond [2, 3], got none");
  EXPECT_EQ(error_of([&] { m->forward(torch::rand({2, 3, 5}), torch::rand({2, 3})); }),
            "deeponet: expected points [B, 4, M], got [2, 3, 5]");
  EXPECT_EQ(error_of([&] { m->forward(torch::rand({2, 4, 5}), torch::rand({2, 2})); }),
            "deeponet: expected cond [2, 3], got [2, 2]");
  auto o = small();
  o.cond_dim = 0;
  EXPECT_NE(error_of([&] { DeepOnet bad(o); }).find("deeponet: expected a branch input (cond_dim >= 1"), std::string::npos);
  Config c = Config::parse("[model]\nname = \"deeponet\"\nactivation = \"relu6\"\n", "d.toml");
  SectionReader s(c, "model");
  ModelShape shape;
  shape.in_channels = 4;
  shape.out_channels = 1;
  shape.cond_dim = 3;
  EXPECT_NE(error_of([&] { make_model(s, shape); }).find("activation"), std::string::npos);
  Config f = Config::parse("[model]\nname = \"deeponet\"\nfourier_features = [1.0, -2.0]\n", "d.toml");
  SectionReader sf(f, "model");
  EXPECT_EQ(error_of([&] { make_model(sf, shape); }), "deeponet: fourier_features: expected frequencies > 0, got -2");
}
