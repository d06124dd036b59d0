// Tasks (examples and model shapes per kind and layout, rollout) and normalisers.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <tuple>

#include "core/config.hpp"
#include "core/error.hpp"
#include "surrogates/normalizer.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/tasks.hpp"
#include "tests/test_util.hpp"

using pdestream::testing::error_of;

using namespace pdestream::surrogates;
using pdestream::Config;
using pdestream::SectionReader;

namespace {

class Tasks : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    torch::manual_seed(0);
  }
};

// 2 parameters, 5 times, 2 channels on an 8x6 grid; frame t holds value 100 t + index.
Trajectory trajectory() {
  Trajectory t;
  t.params = {0.5, -2.0};
  t.times = {0.0, 0.1, 0.2, 0.3, 0.4};
  t.frames = torch::arange(5 * 2 * 8 * 6, torch::kFloat32).reshape({5, 2, 8, 6});
  return t;
}

std::unique_ptr<Task> task(const std::string& toml, Layout layout) {
  Config config = Config::parse(toml, "job.toml");
  SectionReader section(config, "task");
  return make_task(section, layout);
}

using Shape = std::vector<int64_t>;

// A field model that predicts "last input frame + 1", to check the rollout's bookkeeping.
class PlusOne : public Surrogate {
 public:
  explicit PlusOne(int64_t channels, Layout layout) : c_(channels), layout_(layout) {}
  using Surrogate::forward;
  torch::Tensor forward(const torch::Tensor& x) override {
    if (layout_ == Layout::Vector) {
      auto n = x.size(1);
      return x.narrow(1, n - n / history, n / history) + 1;
    }
    return x.narrow(1, x.size(1) - c_, c_) + 1;
  }
  std::string kind() const override { return "plus_one"; }
  Layout layout() const override { return layout_; }
  nlohmann::json options_json() const override { return {}; }
  int64_t history = 2;

 private:
  int64_t c_;
  Layout layout_;
};

}  // namespace

TEST_F(Tasks, FieldAtTimeForFieldAndVectorModels) {
  auto traj = trajectory();
  auto shape = TrajectoryShape::of(traj);
  auto field = task("[task]\nkind = \"field_at_time\"\ncoordinates = true\n", Layout::Field);
  EXPECT_EQ(field->num_examples(shape), 5);
  auto m = field->model_shape(shape);
  EXPECT_EQ(m.dim, 2);
  EXPECT_EQ(m.in_channels, 2 + 1 + 2);
  EXPECT_EQ(m.out_channels, 2);
  EXPECT_EQ(m.spatial, (Shape{8, 6}));
  auto e = field->example(traj, 3);
  EXPECT_EQ(e.input.sizes().vec(), (Shape{5, 8, 6}));
  EXPECT_EQ(e.target.sizes().vec(), (Shape{2, 8, 6}));
  EXPECT_FLOAT_EQ(e.input[0][4][2].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(e.input[1][0][5].item<float>(), -2.0f);
  EXPECT_FLOAT_EQ(e.input[2][7][0].item<float>(), 0.3f);                // t_3
  EXPECT_FLOAT_EQ(e.input[3][7][0].item<float>(), 1.0f);                // x
  EXPECT_FLOAT_EQ(e.input[4][0][5].item<float>(), 1.0f);                // y
  EXPECT_TRUE(e.target.equal(traj.frames[3]));

  auto vec = task("[task]\nkind = \"field_at_time\"\ninclude_initial = false\n", Layout::Vector);
  EXPECT_EQ(vec->num_examples(shape), 4);
  auto mv = vec->model_shape(shape);
  EXPECT_EQ(mv.dim, 0);
  EXPECT_EQ(mv.in_channels, 3);
  EXPECT_EQ(mv.out_channels, 2 * 8 * 6);
  auto ev = vec->example(traj, 0);  // first example is t_1
  EXPECT_TRUE(ev.input.allclose(torch::tensor({0.5f, -2.0f, 0.1f})));
  EXPECT_TRUE(ev.target.equal(traj.frames[1].reshape({-1})));
  EXPECT_EQ(vec->input_channels(shape), 3);
  EXPECT_EQ(vec->target_channels(shape), 2);
  // A model built from the task's shape takes a collated batch of its examples.
  Config config = Config::parse("[model]\nname = \"mlp\"\nhidden = [16]\n", "job.toml");
  SectionReader section(config, "model");
  auto mlp = make_model(section, mv);
  auto batch = collate({vec->example(traj, 0), vec->example(traj, 1)});
  EXPECT_EQ(mlp->forward(batch.input).sizes(), batch.target.sizes());
}

TEST_F(Tasks, OperatorMapsInitialToFinalState) {
  auto traj = trajectory();
  auto shape = TrajectoryShape::of(traj);
  auto op = task("[task]\nkind = \"operator\"\n", Layout::Field);
  EXPECT_EQ(op->num_examples(shape), 1);
  auto e = op->example(traj, 0);
  EXPECT_TRUE(e.input.equal(traj.frames[0]));
  EXPECT_TRUE(e.target.equal(traj.frames[4]));
  auto m = op->model_shape(shape);
  EXPECT_EQ(m.in_channels, 2);
  auto op2 = task("[task]\nkind = \"operator\"\ninput_index = 1\nt_index = 2\n", Layout::Vector);
  auto e2 = op2->example(traj, 0);
  EXPECT_TRUE(e2.target.equal(traj.frames[2].reshape({-1})));
  EXPECT_EQ(op2->model_shape(shape).in_channels, 96);
  auto bad = task("[task]\nkind = \"operator\"\nt_index = 9\n", Layout::Field);
  auto msg = error_of([&] { bad->example(traj, 0); });
  EXPECT_NE(msg.find("t_index = 9: expected an index into 5 frames"), std::string::npos) << msg;
}

TEST_F(Tasks, AutoregressiveStacksHistoryAndRollsOut) {
  auto traj = trajectory();
  auto shape = TrajectoryShape::of(traj);
  auto ar = task("[task]\nkind = \"autoregressive\"\nhistory = 2\nhorizon = 3\n", Layout::Field);
  EXPECT_EQ(ar->num_examples(shape), 3);
  EXPECT_EQ(ar->model_shape(shape).in_channels, 4);
  EXPECT_EQ(ar->input_channels(shape), 4);
  auto e = ar->example(traj, 1);
  EXPECT_EQ(e.input.sizes().vec(), (Shape{4, 8, 6}));
  EXPECT_TRUE(e.input.narrow(0, 0, 2).equal(traj.frames[1]));
  EXPECT_TRUE(e.input.narrow(0, 2, 2).equal(traj.frames[2]));
  EXPECT_TRUE(e.target.equal(traj.frames[3]));
  EXPECT_EQ(ar->options_json()["horizon"], 3);
  auto msg = error_of([&] { ar->example(traj, 3); });
  EXPECT_NE(msg.find("example index 3 out of range: expected 0..2"), std::string::npos) << msg;

  // Rollout feeds predictions back: "last frame + 1" gives frames + 1, + 2, + 3.
  auto initial = traj.frames.narrow(0, 0, 2).unsqueeze(0).repeat({3, 1, 1, 1, 1});  // [3, 2, 2, 8, 6]
  for (Layout layout : {Layout::Field, Layout::Vector}) {
    PlusOne model(2, layout);
    auto out = rollout(model, initial, 3);
    ASSERT_EQ(out.sizes().vec(), (Shape{3, 3, 2, 8, 6}));
    for (int s = 0; s < 3; ++s) EXPECT_TRUE(out[2][s].equal(traj.frames[1] + (s + 1))) << s;
  }
  // With a real model and normalisers.
  auto fno = make_model_from_json({{"name", "fno"}, {"dim", 2}, {"in_channels", 4}, {"out_channels", 2},
                                   {"width", 8}, {"modes", 3}, {"layers", 1}});
  UnitGaussianNormalizer in(4), out(2);
  in->update(collate({ar->example(traj, 0), ar->example(traj, 1)}).input);
  out->update(collate({ar->example(traj, 0), ar->example(traj, 1)}).target);
  torch::NoGradGuard g;
  auto pred = rollout(*fno, initial, 4, in.get(), out.get());
  EXPECT_EQ(pred.sizes().vec(), (Shape{3, 4, 2, 8, 6}));
  EXPECT_TRUE(torch::isfinite(pred).all().item<bool>());
}

TEST_F(Tasks, TaskOptionsAreValidated) {
  auto msg = error_of([] { task("[task]\nkind = \"forecast\"\n", Layout::Field); });
  EXPECT_NE(msg.find("job.toml: [task] kind: expected one of: autoregressive, field_at_time, operator"),
            std::string::npos) << msg;
  msg = error_of([] { task("[task]\nkind = \"operator\"\nhistory = 3\n", Layout::Field); });
  EXPECT_NE(msg.find("[task] history: unknown key"), std::string::npos) << msg;
  msg = error_of([] { task("[task]\nkind = \"autoregressive\"\nhistory = 0\n", Layout::Field); });
  EXPECT_NE(msg.find("[task] history: expected an integer in [1, 1000], got 0"), std::string::npos) << msg;
  msg = error_of([] { task("[task]\nkind = \"field_at_time\"\ncoordinates = true\n", Layout::Vector); });
  EXPECT_NE(msg.find("[task] coordinates: expected false for a vector model"), std::string::npos) << msg;
  auto t = task("[task]\nkind = \"autoregressive\"\nhistory = 7\n", Layout::Field);
  msg = error_of([&] { t->num_examples(TrajectoryShape::of(trajectory())); });
  EXPECT_NE(msg.find("history = 7 needs more than 7 frames per trajectory, got 5"), std::string::npos) << msg;
  // JSON round trip.
  auto a = task("[task]\nkind = \"autoregressive\"\nhistory = 3\n", Layout::Field);
  auto b = make_task_from_json(nlohmann::json::parse(a->options_json().dump()), Layout::Field);
  EXPECT_EQ(a->options_json(), b->options_json());
  Trajectory broken = trajectory();
  broken.times.pop_back();
  msg = error_of([&] { TrajectoryShape::of(broken); });
  EXPECT_NE(msg.find("expected 4 frames (one per time), got 5"), std::string::npos) << msg;
}

TEST_F(Tasks, NormalizerStatisticsRoundTripAndMerge) {
  auto data = torch::randn({64, 3, 10, 4}, torch::kFloat64) * torch::tensor({1.0, 5.0, 0.1}, torch::kFloat64).view({1, 3, 1, 1}) +
              torch::tensor({-2.0, 10.0, 0.5}, torch::kFloat64).view({1, 3, 1, 1});
  UnitGaussianNormalizer whole(3);
  whole->update(data.to(torch::kFloat32));
  // Streaming in uneven batches gives the same statistics.
  UnitGaussianNormalizer a(3), b(3);
  a->update(data.narrow(0, 0, 5));
  a->update(data.narrow(0, 5, 20));
  b->update(data.narrow(0, 25, 39));
  a->merge(*b);
  auto per_channel = data.transpose(0, 1).reshape({3, -1});
  EXPECT_TRUE(a->mean().allclose(per_channel.mean(1), 1e-10, 1e-12));
  EXPECT_TRUE(a->std().allclose(per_channel.std(1, false), 1e-10, 1e-12));
  EXPECT_DOUBLE_EQ(a->count(), 64.0 * 40);
  EXPECT_TRUE(whole->mean().allclose(a->mean(), 1e-5, 1e-5));

  auto x = data.to(torch::kFloat32);
  auto z = a->encode(x);
  EXPECT_EQ(z.scalar_type(), torch::kFloat32);
  auto zc = z.transpose(0, 1).reshape({3, -1});
  EXPECT_TRUE(zc.mean(1).abs().max().item<double>() < 1e-4);
  EXPECT_TRUE((zc.std(1) - 1).abs().max().item<double>() < 1e-3);
  EXPECT_TRUE(a->decode(z).allclose(x, 1e-5, 1e-4));
  // Flattened channel-major features (the MLP's target) use the same per-channel stats.
  auto flat = x.reshape({64, -1});
  EXPECT_TRUE(a->encode(flat).allclose(z.reshape({64, -1})));
  // State lives in named buffers.
  std::vector<std::string> names;
  for (const auto& buf : a->named_buffers()) names.push_back(buf.key());
  EXPECT_EQ(names, (std::vector<std::string>{"mean", "var", "count"}));

  UnitGaussianNormalizer fresh(3);
  auto msg = error_of([&] { fresh->encode(x); });
  EXPECT_NE(msg.find("encode before any data was seen"), std::string::npos) << msg;
  msg = error_of([&] { a->encode(torch::zeros({2, 4, 5})); });
  EXPECT_NE(msg.find("expected [B, 3, ...] or [B, 3 * N], got [2, 4, 5]"), std::string::npos) << msg;
}

TEST_F(Tasks, AutoregressiveUnrollStacksTheNextFrames) {
  auto traj = trajectory();
  auto shape = TrajectoryShape::of(traj);
  auto ar = task("[task]\nkind = \"autoregressive\"\nhistory = 1\nunroll = 3\n", Layout::Field);
  EXPECT_EQ(ar->num_examples(shape), 5 - 1 - 3 + 1);
  EXPECT_EQ(ar->model_shape(shape).out_channels, 2);  // the model still predicts one frame
  auto e = ar->example(traj, 0);
  EXPECT_EQ(e.target.sizes().vec(), (Shape{6, 8, 6}));
  for (int j = 0; j < 3; ++j) EXPECT_TRUE(e.target.narrow(0, 2 * j, 2).equal(traj.frames[1 + j])) << j;
  EXPECT_EQ(ar->options_json()["unroll"], 3);
  // The normalisers see each frame of a stacked target.
  auto batch = collate({e, ar->example(traj, 1)}).target;
  auto frames = frames_as_batch(batch, 2);
  EXPECT_EQ(frames.sizes().vec(), (Shape{6, 2, 8, 6}));
  EXPECT_TRUE(frames[4].equal(batch[1].narrow(0, 2, 2)));
  // Old model files (no unroll key) read as unroll = 1.
  auto old = make_task_from_json({{"kind", "autoregressive"}, {"history", 2}, {"horizon", 0}}, Layout::Field);
  EXPECT_EQ(old->options_json()["unroll"], 1);
  auto msg = error_of([] { task("[task]\nkind = \"autoregressive\"\nunroll = 2\n", Layout::Vector); });
  EXPECT_NE(msg.find("unrolled targets need a field model"), std::string::npos) << msg;
  auto longer = task("[task]\nkind = \"autoregressive\"\nhistory = 3\nunroll = 4\n", Layout::Field);
  msg = error_of([&] { longer->num_examples(shape); });
  EXPECT_NE(msg.find("need at least 7 frames per trajectory"), std::string::npos) << msg;
}

// [task] condition: names resolve against the data's parameters, each transform maps as
// documented, the bound ranges travel in options_json and rebuild the same task.
TEST_F(Tasks, ConditionSelectsNamedParametersWithTransforms) {
  auto t = task(R"([task]
kind = "autoregressive"
history = 2
condition = ["nu", "beta", "L"]
condition_transform = ["log", "minmax", "log_minmax"]
)",
                Layout::Field);
  Trajectory traj = trajectory();
  traj.params = {7.0, 0.01, 0.25, 32.0};  // ic_seed, nu, beta, L
  const std::vector<std::string> names = {"ic_seed", "nu", "beta", "L"};
  t->bind_condition(names, {{"beta", {0.0, 1.0}}, {"L", {16.0, 64.0}}, {"nu", {0.001, 0.1}}}, "data.h5");
  auto e = t->example(traj, 0);
  ASSERT_TRUE(e.cond.defined());
  ASSERT_EQ(e.cond.sizes(), (Shape{3}));
  EXPECT_NEAR(e.cond[0].item<double>(), std::log(0.01), 1e-6);
  EXPECT_NEAR(e.cond[1].item<double>(), 0.25, 1e-7);
  EXPECT_NEAR(e.cond[2].item<double>(), (std::log(32.0) - std::log(16.0)) / (std::log(64.0) - std::log(16.0)), 1e-6);
  EXPECT_EQ(t->model_shape(TrajectoryShape::of(traj)).cond_dim, 3);
  // Batches stack the conditions.
  auto b = collate({e, t->example(traj, 1)});
  EXPECT_EQ(b.cond.sizes(), (Shape{2, 3}));

  // The model file's task options rebuild the same condition, ranges included.
  const auto options = t->options_json();
  EXPECT_EQ(options.at("condition_range")[2], nlohmann::json({16.0, 64.0}));
  auto again = make_task_from_json(options, Layout::Field, "model.safetensors metadata");
  again->bind_condition(names, {}, "other.h5");
  EXPECT_TRUE(torch::equal(again->example(traj, 0).cond, e.cond));

  // The normaliser a model file records for readers that do not rebuild the task gives the
  // same vector.
  const auto n = t->condition().normalizer_json();
  ASSERT_EQ(n.at("names"), nlohmann::json({"nu", "beta", "L"}));
  const std::vector<double> values = {0.01, 0.25, 32.0};
  for (int i = 0; i < 3; ++i) {
    const double v = n["log"][i].get<bool>() ? std::log(values[i]) : values[i];
    EXPECT_NEAR(n["scale"][i].get<double>() * v + n["shift"][i].get<double>(), e.cond[i].item<double>(), 1e-6) << i;
  }

  // Without a condition, examples carry none and ic_seed conditions nothing.
  auto plain = task("[task]\nkind = \"autoregressive\"\nhistory = 2\n", Layout::Field);
  EXPECT_FALSE(plain->example(traj, 0).cond.defined());
  EXPECT_EQ(plain->model_shape(TrajectoryShape::of(traj)).cond_dim, 0);
  EXPECT_FALSE(plain->options_json().contains("condition"));
  EXPECT_TRUE(plain->condition().normalizer_json().is_null());
}

TEST_F(Tasks, ConditionErrorsNameWhatIsMissing) {
  auto t = task("[task]\nkind = \"operator\"\ncondition = [\"beta\"]\n", Layout::Field);
  EXPECT_EQ(error_of([&] { t->bind_condition({"nu", "ic_seed"}, {}, "burgers.h5"); }),
            "[task] condition: parameter \"beta\" is not in burgers.h5 (it has: nu, ic_seed); set it with [data] "
            "params = { beta = ... } or drop it from the condition");
  auto m = task("[task]\nkind = \"operator\"\ncondition = [\"nu\"]\ncondition_transform = [\"minmax\"]\n",
                Layout::Field);
  EXPECT_NE(error_of([&] { m->bind_condition({"nu"}, {{"nu", {0.5, 0.5}}}, "one.h5"); }).find("needs low < high"),
            std::string::npos);
  EXPECT_NE(error_of([&] { m->bind_condition({"nu"}, {}, "solver x"); }).find("needs a range, and solver x gives none"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              task("[task]\nkind = \"operator\"\ncondition = [\"nu\"]\ncondition_transform = [\"exp\"]\n", Layout::Field);
            }).find("condition_transform: expected one of: none, log, minmax, log_minmax, got \"exp\""),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              task("[task]\nkind = \"operator\"\ncondition = [\"nu\", \"L\"]\ncondition_transform = [\"log\"]\n",
                   Layout::Field);
            }).find("expected 2 transforms (one per condition name), got 1"),
            std::string::npos);
  auto log = task("[task]\nkind = \"operator\"\ncondition = [\"nu\"]\ncondition_transform = [\"log\"]\n", Layout::Field);
  log->bind_condition({"nu"}, {}, "x.h5");
  Trajectory traj = trajectory();
  traj.params = {-1.0};
  EXPECT_NE(error_of([&] { log->example(traj, 0); }).find("needs positive values, got -1"), std::string::npos);
}

// The pointwise task: blocks of M (x, t) points of one trajectory, coordinates scaled to
// [-1, 1] over the bound grid, the values there as targets; every point lands in a block,
// and all points reassemble into the frames.
TEST_F(Tasks, PointwiseBlocksCoverTheTrajectoryAtScaledCoordinates) {
  auto t = task("[task]\nkind = \"pointwise\"\npoints = 7\ncondition = [\"a\"]\n", Layout::Vector);
  Trajectory traj = trajectory();  // 5 frames, 2 channels, 8x6
  TrajectoryShape shape = TrajectoryShape::of(traj);
  shape.param_names = {"a", "b"};
  shape.times = traj.times;
  std::vector<double> x(8), y(6);
  for (int i = 0; i < 8; ++i) x[i] = 2.0 + 0.5 * i;  // [2, 5.5]
  for (int j = 0; j < 6; ++j) y[j] = -1.0 + 0.2 * j;  // [-1, 0]
  shape.coordinates = {x, y};
  EXPECT_NE(error_of([&] { t->example(traj, 0); }).find("before it was bound"), std::string::npos);
  t->bind(shape, {}, "data.h5");
  const auto n = t->num_examples(shape);
  EXPECT_EQ(n, (5 * 48 + 6) / 7);
  EXPECT_EQ(t->model_shape(shape).in_channels, 3);
  EXPECT_EQ(t->model_shape(shape).out_channels, 2);
  EXPECT_EQ(t->model_shape(shape).cond_dim, 1);
  std::set<std::tuple<int, int, int>> seen;
  for (std::int64_t i = 0; i < n; ++i) {
    auto e = t->example(traj, i);
    ASSERT_EQ(e.input.sizes(), (Shape{3, 7}));
    ASSERT_EQ(e.target.sizes(), (Shape{2, 7}));
    EXPECT_NEAR(e.cond[0].item<double>(), 0.5, 1e-7);
    EXPECT_LE(e.input.abs().max().item<double>(), 1.0 + 1e-6);
    for (int m = 0; m < 7; ++m) {
      // Undo the scaling: grid index from x and y, frame from t.
      const int ix = static_cast<int>(std::lround(((e.input[0][m].item<double>() + 1) / 2 * 3.5) / 0.5));
      const int iy = static_cast<int>(std::lround(((e.input[1][m].item<double>() + 1) / 2 * 1.0) / 0.2));
      const int f = static_cast<int>(std::lround((e.input[2][m].item<double>() + 1) / 2 * 0.4 / 0.1));
      for (int c = 0; c < 2; ++c)
        EXPECT_EQ(e.target[c][m].item<float>(), traj.frames[f][c][ix][iy].item<float>()) << i << " " << m;
      seen.insert({f, ix, iy});
    }
  }
  EXPECT_EQ(seen.size(), 5u * 48u) << "every (t, x) point is in some block";
  std::int64_t frames = 0;
  auto all = pointwise_all_points(*t, traj, &frames);
  EXPECT_EQ(frames, 5);
  EXPECT_TRUE(torch::equal(all.target.reshape({2, 5, 8, 6}).permute({1, 0, 2, 3}), traj.frames));
  // The scaling is kept: another grid of the same domain maps into the same range.
  auto again = make_task_from_json(t->options_json(), Layout::Vector, "model file");
  EXPECT_EQ(again->options_json().at("domain"), nlohmann::json::parse("[[2.0, 5.5], [-1.0, 0.0]]"));

  // Sensors: the first frame at evenly spaced points is the branch input.
  auto sensors = task("[task]\nkind = \"pointwise\"\npoints = 4\nbranch = \"sensors\"\nsensors = 3\n", Layout::Vector);
  sensors->bind(shape, {}, "data.h5");
  EXPECT_EQ(sensors->model_shape(shape).cond_dim, 6);
  auto e = sensors->example(traj, 0);
  EXPECT_TRUE(torch::equal(e.cond, traj.frames[0].reshape({2, 48}).index_select(1, torch::tensor({0, 24, 47})).reshape({-1})));

  EXPECT_NE(error_of([&] { task("[task]\nkind = \"pointwise\"\n", Layout::Field); }).find("needs a model that takes points"),
            std::string::npos);
  auto bare = task("[task]\nkind = \"pointwise\"\n", Layout::Vector);
  bare->bind(shape, {}, "data.h5");
  EXPECT_NE(error_of([&] { bare->model_shape(shape); }).find("names no parameter"), std::string::npos);
  auto lone = task("[task]\nkind = \"pointwise\"\ncondition = [\"a\"]\n", Layout::Vector);
  TrajectoryShape no_grid = shape;
  no_grid.coordinates.clear();
  EXPECT_NE(error_of([&] { lone->bind(no_grid, {}, "stream"); }).find("stream gives no grid coordinates"),
            std::string::npos);
}

// [task] reduce_x, reduce_t: every x-th point along each axis and every t-th frame, kept in
// the task's options (the model file) and read back.
TEST_F(Tasks, ResolutionKeepsEveryXthPointAndTthFrame) {
  auto t = task("[task]\nkind = \"autoregressive\"\nhistory = 1\nreduce_x = 3\nreduce_t = 2\n", Layout::Field);
  EXPECT_EQ(t->resolution().x, 3);
  EXPECT_EQ(t->resolution().t, 2);
  const Trajectory full = trajectory();  // [5, 2, 8, 6]
  const Trajectory r = t->resolution().apply(full);
  ASSERT_EQ(r.frames.sizes(), (Shape{3, 2, 3, 2}));
  EXPECT_EQ(r.times, (std::vector<double>{0.0, 0.2, 0.4}));
  EXPECT_EQ(r.params, full.params);
  EXPECT_TRUE(torch::equal(r.frames[1][1], full.frames[2][1].slice(0, 0, 8, 3).slice(1, 0, 6, 3)));
  EXPECT_EQ(Resolution::kept(1024, 8), 128);
  EXPECT_EQ(Resolution::kept(201, 5), 41);
  const auto options = t->options_json();
  EXPECT_EQ(options.at("reduce_x"), 3);
  EXPECT_EQ(make_task_from_json(options, Layout::Field, "m")->resolution().t, 2);
  auto plain = task("[task]\nkind = \"operator\"\n", Layout::Field);
  EXPECT_TRUE(plain->resolution().identity());
  EXPECT_FALSE(plain->options_json().contains("reduce_x"));
  EXPECT_TRUE(torch::equal(plain->resolution().apply(full).frames, full.frames));
  EXPECT_NE(error_of([&] { task("[task]\nkind = \"operator\"\nreduce_x = 0\n", Layout::Field); }).find("reduce_x"),
            std::string::npos);
}

// [task] stride: a model step spans `stride` stored frames. Training takes every phase; the
// validation rollout steps from frame 0.
TEST_F(Tasks, AutoregressiveStrideStepsSeveralFramesFromEveryPhase) {
  Trajectory traj;
  traj.params = {1.0, 2.0};
  for (int t = 0; t < 11; ++t) traj.times.push_back(0.2 * t);
  traj.frames = torch::arange(11 * 4, torch::kFloat32).reshape({11, 1, 4});
  const auto shape = TrajectoryShape::of(traj);
  auto ar = task("[task]\nkind = \"autoregressive\"\nhistory = 2\nunroll = 2\nstride = 3\n", Layout::Field);
  // history 2 + unroll 2 frames, 3 apart, span 10 frames: starts 0 and 1.
  ASSERT_EQ(ar->num_examples(shape), 2);
  for (std::int64_t i = 0; i < 2; ++i) {
    const auto e = ar->example(traj, i);
    EXPECT_TRUE(e.input.equal(torch::cat({traj.frames[i], traj.frames[i + 3]}))) << i;
    EXPECT_TRUE(e.target.equal(torch::cat({traj.frames[i + 6], traj.frames[i + 9]}))) << i;
  }
  EXPECT_EQ(ar->options_json()["stride"], 3);
  EXPECT_FALSE(task("[task]\nkind = \"autoregressive\"\n", Layout::Field)->options_json().contains("stride"));
  // Validation rolls out over frames 0, 3, 6, 9 after the history's 0 and 3: 2 steps.
  auto val = rollout_validation_task(*ar, shape);
  ASSERT_EQ(val->num_examples(shape), 1);
  const auto v = val->example(traj, 0);
  EXPECT_TRUE(v.target.equal(torch::cat({traj.frames[6], traj.frames[9]})));
  auto wide = task("[task]\nkind = \"autoregressive\"\nstride = 12\n", Layout::Field);
  EXPECT_EQ(error_of([&] { wide->num_examples(shape); }),
            "autoregressive task: history = 1 and unroll = 1 at stride = 12 need at least 13 frames per trajectory, "
            "got 11");
  EXPECT_NE(error_of([] { task("[task]\nkind = \"autoregressive\"\nstride = 0\n", Layout::Field); }).find("stride"),
            std::string::npos);
}
