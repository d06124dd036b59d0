// Modules to .safetensors and back: identical outputs after a round trip, Python-style
// names, clear errors for missing or mis-shaped tensors, and numpy reading the file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/error.hpp"
#include "surrogates/model_file.hpp"
#include "tests/test_util.hpp"

using pdestream::testing::error_of;

using namespace pdestream;
using namespace pdestream::surrogates;

namespace {

struct NetImpl : torch::nn::Module {
  explicit NetImpl(int hidden = 8) {
    fc0 = register_module("fc0", torch::nn::Linear(3, hidden));
    norm = register_module("norm", torch::nn::BatchNorm1d(hidden));
    fc1 = register_module("fc1", torch::nn::Linear(hidden, 2));
  }
  torch::Tensor forward(torch::Tensor x) { return fc1(torch::gelu(norm(fc0(x)))); }
  torch::nn::Linear fc0{nullptr}, fc1{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
};
TORCH_MODULE(Net);

}  // namespace

TEST(ModelFile, RoundTripGivesIdenticalOutputs) {
  torch::set_num_threads(1);
  const auto dir = pdestream::testing::scratch_dir("mf", MPI_COMM_SELF);
  torch::manual_seed(1);
  Net a;
  a->train();
  a->forward(torch::randn({16, 3}));  // moves the batch-norm running statistics
  a->eval();
  save_safetensors(dir + "/net.safetensors", *a, {{"model", "{\"hidden\": 8}"}},
                   {{"normalizer.mean", torch::tensor({1.0f, 2.0f})}});
  torch::manual_seed(2);
  Net b;
  b->eval();
  const auto x = torch::randn({5, 3});
  EXPECT_FALSE(torch::equal(a->forward(x), b->forward(x)));
  auto loaded = load_safetensors(dir + "/net.safetensors", *b);
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
  EXPECT_EQ(loaded.metadata.at("model"), "{\"hidden\": 8}");
  ASSERT_EQ(loaded.extra.count("normalizer.mean"), 1u);
  EXPECT_TRUE(torch::equal(loaded.extra.at("normalizer.mean"), torch::tensor({1.0f, 2.0f})));

  std::vector<std::string> names;
  for (const auto& [n, t] : named_state(*a)) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"fc0.weight", "fc0.bias", "norm.weight", "norm.bias", "fc1.weight",
                                             "fc1.bias", "norm.running_mean", "norm.running_var",
                                             "norm.num_batches_tracked"}));
}

TEST(ModelFile, MissingOrMisShapedTensorsAreClearErrors) {
  const auto dir = pdestream::testing::scratch_dir("bad", MPI_COMM_SELF);
  Net small(8), wide(16);
  save_safetensors(dir + "/small.safetensors", *small);
  EXPECT_EQ(error_of([&] { load_safetensors(dir + "/small.safetensors", *wide); }),
            dir + "/small.safetensors: tensor 'fc0.weight' has shape [8, 3], the model expects [16, 3]");
  torch::nn::Linear only(3, 8);
  save_safetensors(dir + "/linear.safetensors", *only);
  EXPECT_EQ(error_of([&] { load_safetensors(dir + "/linear.safetensors", *small); }),
            dir + "/linear.safetensors: missing tensor(s) the model expects: fc0.weight, fc0.bias, norm.weight, "
                  "norm.bias, fc1.weight, ... (9 in all)");
}

TEST(ModelFile, NumpyReadsNamesShapesAndValues) {
  const auto dir = pdestream::testing::scratch_dir("py", MPI_COMM_SELF);
  torch::manual_seed(3);
  Net net;
  save_safetensors(dir + "/net.safetensors", *net);
  // The expected values, as text numpy can compare against.
  std::ofstream expect(dir + "/expected.txt");
  expect.precision(9);
  for (const auto& [name, t] : named_state(*net)) {
    auto flat = t.detach().to(torch::kFloat64).flatten();
    expect << name << " " << t.dim();
    for (auto s : t.sizes()) expect << " " << s;
    for (int64_t i = 0; i < flat.numel(); ++i) expect << " " << flat[i].item<double>();
    expect << "\n";
  }
  expect.close();
  const std::string cmd = "/usr/bin/python3 " + pdestream::testing::source_path("tests/surrogates/check_model_file.py") +
                          " " + dir + "/net.safetensors " + dir + "/expected.txt";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}
