// MLP, U-Net and the registry: names, shapes, gradients, overfitting, TOML and JSON
// construction, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "core/config.hpp"
#include "core/error.hpp"
#include "surrogates/fno.hpp"
#include "surrogates/mlp.hpp"
#include "surrogates/model_file.hpp"
#include "surrogates/option_reader.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/unet.hpp"
#include "tests/test_util.hpp"

using pdestream::testing::error_of;

using namespace pdestream::surrogates;
using pdestream::Config;
using pdestream::SectionReader;

namespace {

class Models : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    torch::manual_seed(0);
  }
};

std::vector<std::pair<std::string, std::vector<int64_t>>> layout_of(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value().sizes().vec());
  return out;
}

void expect_gradients_everywhere(Surrogate& model, const torch::Tensor& x,
                                 const torch::Tensor& cond = torch::Tensor()) {
  model.zero_grad();
  auto y = cond.defined() ? model.forward(x, cond) : model.forward(x);
  (y * torch::randn_like(y)).sum().backward();
  for (const auto& p : model.named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << model.kind() << " " << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << model.kind() << " " << p.key();
  }
}

// Adam on a fixed small set; returns (first loss, last loss).
std::pair<double, double> overfit(Surrogate& model, const torch::Tensor& x, const torch::Tensor& y, int steps,
                                  double lr) {
  torch::optim::Adam opt(model.parameters(), torch::optim::AdamOptions(lr));
  double first = 0, last = 0;
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    auto loss = torch::mse_loss(model.forward(x), y);
    loss.backward();
    opt.step();
    if (s == 0) first = loss.item<double>();
    last = loss.item<double>();
  }
  return {first, last};
}

}  // namespace

TEST_F(Models, MlpKeysFollowPythonSequential) {
  MlpOptions o;
  o.in_features = 7;
  o.out_features = 100;
  o.hidden = {32, 16};
  MlpImpl mlp(o);
  auto l = layout_of(mlp);
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected{
      {"layers.0.weight", {32, 7}}, {"layers.0.bias", {32}},  {"layers.2.weight", {16, 32}},
      {"layers.2.bias", {16}},      {"layers.4.weight", {100, 16}}, {"layers.4.bias", {100}}};
  EXPECT_EQ(l, expected);
  EXPECT_EQ(mlp.num_parameters(), 32 * 7 + 32 + 16 * 32 + 16 + 100 * 16 + 100);
  EXPECT_EQ(mlp.forward(torch::randn({5, 7})).sizes().vec(), (std::vector<int64_t>{5, 100}));
  expect_gradients_everywhere(mlp, torch::randn({4, 7}));
  auto msg = error_of([&] { mlp.forward(torch::randn({5, 6})); });
  EXPECT_NE(msg.find("mlp: expected input [B, 7] (or points [B, 7, M]), got [5, 6]"), std::string::npos) << msg;
}

TEST_F(Models, MlpOverfitsASmallSet) {
  MlpOptions o;
  o.in_features = 3;
  o.out_features = 20;
  o.hidden = {64, 64};
  MlpImpl mlp(o);
  auto x = torch::randn({8, 3});
  auto y = torch::sin(x.matmul(torch::randn({3, 20})));
  auto [first, last] = overfit(mlp, x, y, 300, 3e-3);
  EXPECT_LT(last, 0.01 * first) << first << " -> " << last;
}

TEST_F(Models, UnetShapesIn1dAnd2dIncludingOddGrids) {
  for (int dim : {1, 2})
    for (int64_t n : {16, 17, 33}) {
      UnetOptions o;
      o.dim = dim;
      o.in_channels = 3;
      o.out_channels = 2;
      o.width = 8;
      o.levels = 2;
      UnetImpl net(o);
      std::vector<int64_t> shape{2, 3, n};
      if (dim == 2) shape.push_back(n - 1);
      auto y = net.forward(torch::randn(shape));
      shape[1] = 2;
      EXPECT_EQ(y.sizes().vec(), shape) << "dim " << dim << " n " << n;
    }
}

TEST_F(Models, UnetNamesGradientsAndConditioning) {
  UnetOptions o;
  o.dim = 2;
  o.in_channels = 1;
  o.out_channels = 1;
  o.width = 8;
  o.levels = 2;
  o.cond_dim = 4;
  UnetImpl net(o);
  auto params = net.named_parameters();
  for (const char* key : {"inc.conv1.weight", "inc.norm1.weight", "inc.film.weight", "down.0.conv2.bias",
                          "down.1.norm2.bias", "up.0.up.weight", "up.0.block.conv1.weight", "up.1.block.film.bias",
                          "outc.weight"})
    EXPECT_TRUE(params.contains(key)) << key;
  EXPECT_EQ(params["down.1.conv1.weight"].sizes().vec(), (std::vector<int64_t>{32, 16, 3, 3}));
  auto x = torch::randn({2, 1, 16, 16});
  auto cond = torch::randn({2, 4});
  expect_gradients_everywhere(net, x, cond);
  // The conditioning changes the output.
  torch::NoGradGuard g;
  EXPECT_GT((net.forward(x, cond) - net.forward(x, cond + 1)).abs().max().item<double>(), 1e-6);
  auto msg = error_of([&] { net.forward(x); });
  EXPECT_NE(msg.find("conditioned on 4 parameter(s) ([task] condition): expected cond [2, 4], got none"), std::string::npos) << msg;
  msg = error_of([&] { net.forward(x, torch::randn({2, 3})); });
  EXPECT_NE(msg.find("expected cond [2, 4], got [2, 3]"), std::string::npos) << msg;
  msg = error_of([&] { net.forward(torch::randn({2, 2, 16, 16}), cond); });
  EXPECT_NE(msg.find("expected input [B, 1, X, Y], got [2, 2, 16, 16]"), std::string::npos) << msg;
}

TEST_F(Models, UnetOverfitsASmallSet) {
  UnetOptions o;
  o.dim = 1;
  o.in_channels = 1;
  o.out_channels = 1;
  o.width = 8;
  o.levels = 2;
  UnetImpl net(o);
  auto x = torch::randn({6, 1, 32});
  auto y = x.roll(2, 2) - 0.5 * x;
  auto [first, last] = overfit(net, x, y, 300, 3e-3);
  EXPECT_LT(last, 0.05 * first) << first << " -> " << last;
  expect_gradients_everywhere(net, x);
}

TEST_F(Models, RegistryBuildsFromTomlAndJsonIdentically) {
  struct Case {
    const char* toml;
    ModelShape shape;
    int64_t params;
  };
  std::vector<Case> cases{
      {"[model]\nname = \"fno\"\nwidth = 64\nmodes = 16\n", {1, 1, 1, {1024}}, 549569},
      {"[model]\nname = \"fno\"\nmodes = [12, 12]\n", {2, 1, 1, {64, 64}}, 2368001},  // width 32 by default
      {"[model]\nname = \"fno\"\nwidth = 8\nmodes = [4, 3, 2]\nlayers = 2\npadding = 2\ngrid = false\n",
       {3, 2, 1, {12, 12, 12}}, -1},
      {"[model]\nname = \"mlp\"\nhidden = [64, 32]\nactivation = \"tanh\"\n", {0, 7, 400, {}}, -1},
      {"[model]\nname = \"unet\"\nwidth = 8\nlevels = 2\nnorm = false\nactivation = \"silu\"\n", {1, 2, 1, {64}}, -1},
      {"[model]\nname = \"unet\"\nwidth = 8\ncond_dim = 3\n", {2, 2, 1, {32, 32}}, -1},
  };
  for (const auto& c : cases) {
    Config config = Config::parse(c.toml, "job.toml");
    SectionReader section(config, "model");
    auto a = make_model(section, c.shape);
    if (c.params > 0) EXPECT_EQ(a->num_parameters(), c.params) << c.toml;
    auto json = a->options_json();
    // Through text, as it travels in safetensors metadata.
    auto b = make_model_from_json(nlohmann::json::parse(json.dump()));
    EXPECT_EQ(b->kind(), a->kind());
    EXPECT_EQ(layout_of(*a), layout_of(*b)) << c.toml;
    EXPECT_EQ(b->options_json(), json);
    auto summary = model_summary(*a, c.shape);
    if (c.params == 549569) std::cout << summary << "\n";  // what `train --dry-run` prints
    EXPECT_NE(summary.find(std::to_string(a->num_parameters()) + " parameters"), std::string::npos) << summary;
  }
}

TEST_F(Models, RegistryErrorsNameTheKey) {
  auto build = [](const std::string& toml, ModelShape shape = {2, 1, 1, {32, 32}}) {
    return error_of([&] {
      Config config = Config::parse(toml, "job.toml");
      SectionReader section(config, "model");
      make_model(section, shape);
    });
  };
  auto msg = build("[model]\nname = \"transformer\"\n");
  EXPECT_NE(msg.find("job.toml: [model] name: expected one of: cape, deeponet, fno, mlp, pde_refiner, unet, unet_modern, got \"transformer\""),
            std::string::npos) << msg;
  msg = build("[model]\nname = \"fno\"\nwidth = 0\n");
  EXPECT_NE(msg.find("[model] width: expected an integer in [1, 4096], got 0"), std::string::npos) << msg;
  msg = build("[model]\nname = \"fno\"\nwidht = 16\n");
  EXPECT_NE(msg.find("[model] widht: unknown key"), std::string::npos) << msg;
  msg = build("[model]\nname = \"fno\"\nmodes = [4, 4, 4]\n");
  EXPECT_NE(msg.find("[model] modes: expected 1 or 2 values"), std::string::npos) << msg;
  msg = build("[model]\nname = \"fno\"\nmodes = \"many\"\n");
  EXPECT_NE(msg.find("[model] modes: expected an integer or a list of integers"), std::string::npos) << msg;
  msg = build("[model]\nname = \"fno\"\nmodes = 20\n");  // 32 points carry at most 16 modes... per corner
  EXPECT_NE(msg.find("expected at least 40 for 20 modes"), std::string::npos) << msg;
  msg = build("[model]\nname = \"unet\"\n", {3, 1, 1, {8, 8, 8}});
  EXPECT_NE(msg.find("unet: expected field data of dimension 1..2"), std::string::npos) << msg;
  msg = build("[model]\nname = \"mlp\"\nactivation = \"swish\"\n", {0, 3, 4, {}});
  EXPECT_NE(msg.find("[model] activation: expected one of: relu, gelu, tanh, silu"), std::string::npos) << msg;
  msg = error_of([] { make_model_from_json({{"name", "fno"}, {"dim", 1}, {"in_channels", 1}}); });
  EXPECT_NE(msg.find("model options: [model] out_channels: missing required key"), std::string::npos) << msg;
  msg = error_of([] {
    make_model_from_json({{"name", "mlp"}, {"in_channels", 1}, {"out_channels", 1}, {"depth", 3}});
  });
  EXPECT_NE(msg.find("[model] depth: unknown key"), std::string::npos) << msg;
  EXPECT_EQ(model_layout("mlp"), Layout::Vector);
  EXPECT_EQ(model_layout("fno"), Layout::Field);
}

namespace {

// A model registered from outside the library, as a user's own model would be.
class ToyScaleImpl : public Surrogate {
 public:
  ToyScaleImpl(std::int64_t in, std::int64_t out, double scale)
      : in_(in), out_(out), scale_(scale), fc(register_module("fc", torch::nn::Linear(in, out))) {}
  torch::Tensor forward(const torch::Tensor& x) override { return fc->forward(x) * scale_; }
  std::string kind() const override { return "toy_scale"; }
  Layout layout() const override { return Layout::Vector; }
  nlohmann::json options_json() const override {
    return {{"name", "toy_scale"}, {"in_channels", in_}, {"out_channels", out_}, {"scale", scale_}};
  }

 private:
  std::int64_t in_, out_;
  double scale_;
  torch::nn::Linear fc;
};

}  // namespace

TEST_F(Models, TheRegistryIsOpenToModelsFromOutside) {
  register_model("toy_scale", Layout::Vector, [](OptionReader& r, const ModelShape& shape) {
    return std::make_shared<ToyScaleImpl>(shape.in_channels, shape.out_channels, r.get_double("scale", 1.0));
  });
  const auto names = model_names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_NE(std::find(names.begin(), names.end(), "toy_scale"), names.end());
  EXPECT_EQ(model_layout("toy_scale"), Layout::Vector);

  Config c = Config::parse("[model]\nname = \"toy_scale\"\nscale = 2.5\n", "m.toml");
  SectionReader s(c, "model");
  ModelShape shape;
  shape.in_channels = 3;
  shape.out_channels = 2;
  auto model = make_model(s, shape);
  EXPECT_EQ(model->kind(), "toy_scale");
  // The JSON round trip (what the model file does) rebuilds it with its options.
  auto copy = make_model_from_json(model->options_json());
  EXPECT_EQ(copy->options_json()["scale"].get<double>(), 2.5);
  // infer() is one forward pass unless a model says otherwise.
  auto x = torch::randn({4, 3});
  EXPECT_TRUE(torch::equal(model->infer(x), model->forward(x)));
  EXPECT_NE(error_of([&] {
              Config bad = Config::parse("[model]\nname = \"toy_scale\"\nscal = 2\n", "m.toml");
              SectionReader b(bad, "model");
              make_model(b, shape);
            }).find("scal"),
            std::string::npos);
}

// A task's condition reaches every built-in model through ModelShape::cond_dim: FNO takes
// the parameters as constant channels, the MLP as features, the U-Net through FiLM. The
// output depends on cond, gradients reach every weight, the file round trip keeps it, and
// a missing or misshapen cond is a one-line error.
TEST_F(Models, EveryModelTakesTheTasksCondition) {
  struct Case {
    const char* toml;
    ModelShape shape;
    std::vector<int64_t> input;
  };
  std::vector<Case> cases{
      {"[model]\nname = \"fno\"\nwidth = 8\nmodes = 4\n", {1, 2, 1, {16}, 3}, {4, 2, 16}},
      {"[model]\nname = \"fno\"\nwidth = 8\nmodes = [3, 3]\n", {2, 1, 1, {8, 8}, 2}, {4, 1, 8, 8}},
      {"[model]\nname = \"mlp\"\nhidden = [16]\n", {0, 5, 7, {}, 2}, {4, 5}},
      {"[model]\nname = \"unet\"\nwidth = 8\nlevels = 2\n", {1, 1, 1, {16}, 2}, {4, 1, 16}},
  };
  for (const auto& c : cases) {
    Config config = Config::parse(c.toml, "job.toml");
    SectionReader section(config, "model");
    auto model = make_model(section, c.shape);
    EXPECT_EQ(model->cond_dim(), c.shape.cond_dim) << c.toml;
    auto x = torch::randn(c.input);
    auto cond = torch::randn({4, c.shape.cond_dim});
    auto y = model->forward(x, cond);
    EXPECT_EQ(y.size(0), 4);
    EXPECT_FALSE(torch::allclose(y, model->forward(x, cond + 1.0))) << c.toml << ": the output ignores cond";
    expect_gradients_everywhere(*model, x, cond);
    auto again = make_model_from_json(nlohmann::json::parse(model->options_json().dump()));
    EXPECT_EQ(again->cond_dim(), c.shape.cond_dim);
    EXPECT_EQ(layout_of(*again), layout_of(*model));
    EXPECT_NE(error_of([&] { model->forward(x); }).find("expected cond [4, " + std::to_string(c.shape.cond_dim) +
                                                        "], got none"),
              std::string::npos)
        << c.toml;
    EXPECT_NE(error_of([&] { model->forward(x, torch::randn({4, c.shape.cond_dim + 1})); })
                  .find("expected cond [4, " + std::to_string(c.shape.cond_dim) + "], got [4, "),
              std::string::npos);
  }
  // An unconditioned model refuses a cond, naming the way to get one.
  Config config = Config::parse("[model]\nname = \"fno\"\nwidth = 8\nmodes = 4\n", "job.toml");
  SectionReader section(config, "model");
  auto plain = make_model(section, {1, 1, 1, {16}});
  EXPECT_NE(error_of([&] { plain->forward(torch::randn({2, 1, 16}), torch::randn({2, 1})); })
                .find("takes no conditioning vector (cond_dim = 0), got one of shape [2, 1]"),
            std::string::npos);
}

namespace {
// A model that wraps a base model (as CAPE wraps an FNO or a U-Net): its output is the
// base's times a learned scale.
class ScaledImpl : public Surrogate {
 public:
  ScaledImpl(std::shared_ptr<Surrogate> base, double init) : init_(init) {
    base_ = register_module("base", std::move(base));
    scale_ = register_parameter("scale", torch::full({1}, init));
  }
  torch::Tensor forward(const torch::Tensor& x) override { return base_->forward(x) * scale_; }
  std::string kind() const override { return "scaled"; }
  Layout layout() const override { return base_->layout(); }
  nlohmann::json options_json() const override {
    auto base = base_->options_json();
    return {{"name", "scaled"},
            {"dim", base.value("dim", 0)},
            {"in_channels", base.at("in_channels")},
            {"out_channels", base.at("out_channels")},
            {"init", init_},
            {"base", base}};
  }

 private:
  double init_;
  std::shared_ptr<Surrogate> base_;
  torch::Tensor scale_;
};
}  // namespace

// A wrapping model keeps its base model's options nested ([model.base] in TOML, "base" in
// the file's JSON); the round trip through the model file rebuilds both, with the
// parameter names the module tree gives (base.fc0.weight, ..., scale).
TEST_F(Models, AWrappingModelNestsItsBaseModel) {
  register_model("scaled", Layout::Field, [](OptionReader& r, const ModelShape& shape) {
    auto base = make_nested_model(r, "base", shape);
    return std::make_shared<ScaledImpl>(base, r.get_double("init", 1.0));
  });
  Config c = Config::parse("[model]\nname = \"scaled\"\ninit = 2.0\n[model.base]\nname = \"fno\"\nwidth = 8\nmodes = 4\n",
                           "m.toml");
  SectionReader s(c, "model");
  auto model = make_model(s, {1, 2, 1, {16}});
  std::set<std::string> names;
  for (const auto& p : layout_of(*model)) names.insert(p.first);
  EXPECT_TRUE(names.count("scale") && names.count("base.fc0.weight") && names.count("base.conv0.weights1"));
  EXPECT_EQ(model->options_json()["base"]["width"], 8);

  const auto path = ::testing::TempDir() + "/scaled.safetensors";
  save_safetensors(path, *model, {{"model", model->options_json().dump()}});
  auto file = read_safetensors_tensors(path);
  auto copy = make_model_from_json(nlohmann::json::parse(file.metadata.at("model")), path);
  load_safetensors(path, *copy);
  auto x = torch::randn({3, 2, 16});
  EXPECT_TRUE(torch::equal(copy->forward(x), model->forward(x)));
  EXPECT_EQ(copy->options_json(), model->options_json());

  // The base's keys are checked where they are: one line naming the nested table.
  EXPECT_NE(error_of([&] {
              Config bad = Config::parse(
                  "[model]\nname = \"scaled\"\n[model.base]\nname = \"fno\"\nmodes = 4\nwidht = 8\n", "m.toml");
              SectionReader b(bad, "model");
              make_model(b, {1, 2, 1, {16}});
            }).find("m.toml: [model.base] widht: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              Config bad = Config::parse("[model]\nname = \"scaled\"\n", "m.toml");
              SectionReader b(bad, "model");
              make_model(b, {1, 2, 1, {16}});
            }).find("m.toml: [model] base: missing required table"),
            std::string::npos);
}
