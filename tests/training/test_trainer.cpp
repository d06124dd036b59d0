// The training engine: 2 ranks follow 1 rank, resume is bit-for-bit, a small set is
// overfit, the saved model reproduces predictions, and bad input is a clear error.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "core/error.hpp"
#include "surrogates/cape.hpp"
#include "core/runtime.hpp"
#include "surrogates/mlp.hpp"
#include "surrogates/model_file.hpp"
#include "surrogates/pde_refiner.hpp"
#include "surrogates/registry.hpp"
#include "tests/test_util.hpp"
#include "training/trainer.hpp"

using namespace pdestream;
using namespace pdestream::training;

namespace {

std::shared_ptr<surrogates::Surrogate> small_mlp(std::uint64_t seed) {
  torch::manual_seed(seed);
  surrogates::MlpOptions o;
  o.in_features = 3;
  o.out_features = 4;
  o.hidden = {32, 32};
  o.activation = "gelu";
  return std::make_shared<surrogates::MlpImpl>(o);
}

// y = smooth function of x, so the task is learnable.
std::pair<torch::Tensor, torch::Tensor> toy_data(int n) {
  torch::manual_seed(42);
  auto x = torch::rand({n, 3}) * 2 - 1;
  auto k = torch::arange(1, 5, torch::kFloat32);
  auto y = torch::sin(x.select(1, 0).unsqueeze(1) * k) + x.select(1, 1).unsqueeze(1) * x.select(1, 2).unsqueeze(1) + 2.0;
  return {x, y};
}

TrainerOptions options(std::int64_t epochs) {
  TrainerOptions o;
  o.epochs = epochs;
  o.batch_size = 8;
  o.lr = 3e-3;
  o.threads = 1;
  o.log_every = 1000;
  return o;
}

std::vector<torch::Tensor> weights(surrogates::Surrogate& m) {
  std::vector<torch::Tensor> w;
  for (auto& p : m.parameters()) w.push_back(p.detach().clone());
  return w;
}

double max_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, (a[i] - b[i]).abs().max().item<double>());
  return d;
}

// The same options, data and initial model trained on every rank of MPI_COMM_WORLD and on
// one rank alone (shuffle seed 11), for tests that R ranks follow 1 rank.
struct ParallelAndSerial {
  std::unique_ptr<Trainer> parallel, serial;
  double weight_difference() { return max_difference(weights(parallel->model()), weights(serial->model())); }
};
// A straight run of `o`, and a run stopped after `stop_at` steps (as a killed job after
// its last checkpoint) then resumed from its checkpoint into a model with other initial
// weights (seed 99), so everything the resumed run has must come from the checkpoint.
struct StraightAndResumed {
  std::string straight_dir, resumed_dir;
  std::shared_ptr<surrogates::Surrogate> straight_model, resumed_model;
  std::unique_ptr<Trainer> straight, resumed;
  std::int64_t stopped_step = 0, resumed_step = 0, resumed_epoch = 0;
};
StraightAndResumed straight_and_resumed(const TrainerOptions& o, const torch::Tensor& x, const torch::Tensor& y,
                                        std::int64_t stop_at, const std::string& tag) {
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  StraightAndResumed r;
  r.straight_dir = pdestream::testing::scratch_dir(tag + "_straight", MPI_COMM_WORLD);
  r.resumed_dir = pdestream::testing::scratch_dir(tag + "_resumed", MPI_COMM_WORLD);
  r.straight_model = small_mlp(3);
  r.straight = std::make_unique<Trainer>(r.straight_model, o, MPI_COMM_WORLD, r.straight_dir);
  TensorDataSource data_a(x, y, o.batch_size, 5, rank, size);
  r.straight->fit(data_a);
  auto stopped = o;
  stopped.max_steps = stop_at;
  {
    Trainer first(small_mlp(3), stopped, MPI_COMM_WORLD, r.resumed_dir);
    TensorDataSource data_b(x, y, o.batch_size, 5, rank, size);
    first.fit(data_b);
    r.stopped_step = first.step();
  }
  r.resumed_model = small_mlp(99);
  r.resumed = std::make_unique<Trainer>(r.resumed_model, o, MPI_COMM_WORLD, r.resumed_dir);
  EXPECT_TRUE(r.resumed->resume_if_possible());
  r.resumed_step = r.resumed->step();
  r.resumed_epoch = r.resumed->epoch();
  TensorDataSource data_c(x, y, o.batch_size, 5, rank, size);
  r.resumed->fit(data_c);
  return r;
}

void expect_same_weights(surrogates::Surrogate& a, surrogates::Surrogate& b) {
  auto wa = weights(a), wb = weights(b);
  for (std::size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(torch::equal(wa[i], wb[i])) << "parameter " << i;
}

ParallelAndSerial fit_parallel_and_serial(const TrainerOptions& o, const torch::Tensor& x, const torch::Tensor& y,
                                          const std::function<std::shared_ptr<surrogates::Surrogate>()>& make,
                                          const torch::Tensor& cond = {}) {
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  ParallelAndSerial r;
  r.parallel = std::make_unique<Trainer>(make(), o, MPI_COMM_WORLD, "");
  TensorDataSource parallel_data(x, y, o.batch_size, 11, rank, size, true, cond);
  r.parallel->fit(parallel_data);
  r.serial = std::make_unique<Trainer>(make(), o, MPI_COMM_SELF, "");
  TensorDataSource serial_data(x, y, o.batch_size, 11, 0, 1, true, cond);
  r.serial->fit(serial_data);
  return r;
}

}  // namespace

TEST(Trainer, TwoRanksFollowOneRankWithTheSameGlobalBatch) {
  auto [x, y] = toy_data(37);  // 37 examples: uneven shards and a short last batch
  auto o = options(3);
  o.clip_grad_norm = 1.0;
  o.schedule = "cosine";

  auto r = fit_parallel_and_serial(o, x, y, [] { return small_mlp(7); });
  EXPECT_EQ(r.parallel->step(), 3 * 5);
  EXPECT_LT(r.weight_difference(), 1e-5) << "data-parallel weights drifted from the single-rank run";
  EXPECT_NEAR(r.parallel->last_loss(), r.serial->last_loss(), 1e-5);
  EXPECT_EQ(max_parameter_divergence(r.parallel->model(), MPI_COMM_WORLD), 0.0) << "replicas differ";
}

TEST(Trainer, ResumeContinuesBitForBit) {
  auto [x, y] = toy_data(40);
  auto o = options(4);
  o.ema_decay = 0.9;
  o.schedule = "step";
  o.step_epochs = 1;
  o.gamma = 0.7;
  o.loss = "mse";
  // Stop mid-epoch (step 7 of 4 x 5).
  auto r = straight_and_resumed(o, x, y, 7, "plain");
  EXPECT_EQ(r.stopped_step, 7);
  EXPECT_EQ(r.resumed_step, 7);
  EXPECT_EQ(r.resumed_epoch, 1);
  EXPECT_EQ(r.resumed->step(), r.straight->step());
  expect_same_weights(*r.straight_model, *r.resumed_model);
  EXPECT_DOUBLE_EQ(r.resumed->learning_rate(), r.straight->learning_rate());
  // EMA weights too (they are what save_model writes).
  r.straight->save_model(r.straight_dir + "/model.safetensors", {});
  r.resumed->save_model(r.resumed_dir + "/model.safetensors", {});
  auto fa = surrogates::read_safetensors_tensors(r.straight_dir + "/model.safetensors");
  auto fc = surrogates::read_safetensors_tensors(r.resumed_dir + "/model.safetensors");
  for (const auto& [name, t] : fa.extra) EXPECT_TRUE(torch::equal(t, fc.extra.at(name))) << name;
}

// checkpoint.pt is written to a temporary name and renamed, keeping the one before as
// checkpoint.prev.pt: a truncated or missing checkpoint.pt falls back to it, two unusable
// ones are a one-line error, and a write that fails (a file size limit, as a full disk)
// is a one-line error on every rank that leaves both checkpoints as they were.
TEST(Trainer, AnUnusableCheckpointFallsBackToThePreviousOne) {
  namespace fs = std::filesystem;
  auto [x, y] = toy_data(40);
  auto o = options(10);
  o.checkpoint_every = 2;
  o.max_steps = 5;  // checkpoints at steps 2, 4 and 5 (the end)
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  const auto dir = pdestream::testing::scratch_dir("checkpoint_fallback", MPI_COMM_WORLD);
  Trainer first(small_mlp(3), o, MPI_COMM_WORLD, dir);
  TensorDataSource data(x, y, o.batch_size, 5, rank, size);
  first.fit(data);
  const auto current = first.checkpoint_path(), previous = first.previous_checkpoint_path();
  ASSERT_TRUE(fs::exists(current) && fs::exists(previous));
  const auto backup = dir + "/backup.pt";
  if (rank == 0) fs::copy_file(current, backup);
  MPI_Barrier(MPI_COMM_WORLD);
  auto resumed_step = [&] {
    Trainer t(small_mlp(99), o, MPI_COMM_WORLD, dir);
    EXPECT_TRUE(t.resume_if_possible());
    return t.step();
  };
  // Rank 0 edits the files only once every rank has finished reading them.
  auto on_rank0 = [&](const std::function<void()>& f) {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) f();
    MPI_Barrier(MPI_COMM_WORLD);
  };
  EXPECT_EQ(resumed_step(), 5);
  // Truncated (a kill while torch wrote it, on a file system without atomic rename).
  on_rank0([&] { fs::resize_file(current, fs::file_size(current) / 2); });
  EXPECT_EQ(resumed_step(), 4);
  // Missing (a kill between the two renames).
  on_rank0([&] { fs::remove(current); });
  EXPECT_EQ(resumed_step(), 4);
  // Both unusable.
  on_rank0([&] {
    pdestream::testing::write_text(current, "not a checkpoint");
    fs::resize_file(previous, 100);
  });
  {
    Trainer t(small_mlp(99), o, MPI_COMM_WORLD, dir);
    const auto message = pdestream::testing::error_of([&] { t.resume_if_possible(); });
    EXPECT_NE(message.find("cannot read the checkpoint"), std::string::npos) << message;
    EXPECT_NE(message.find("the previous checkpoint is unusable too"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // A write that fails: RLIMIT_FSIZE as a full disk (SIGXFSZ ignored, so write() fails).
  on_rank0([&] {
    fs::copy_file(backup, current, fs::copy_options::overwrite_existing);
    fs::copy_file(backup, previous, fs::copy_options::overwrite_existing);
  });
  {
    Trainer t(small_mlp(99), o, MPI_COMM_WORLD, dir);
    EXPECT_TRUE(t.resume_if_possible());  // not ASSERT: a rank that left would hang the other
    const auto bytes = fs::file_size(current);
    struct rlimit old_limit {};
    getrlimit(RLIMIT_FSIZE, &old_limit);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    if (rank == 0) {
      struct rlimit small = old_limit;
      small.rlim_cur = 4096;
      setrlimit(RLIMIT_FSIZE, &small);
    }
    const auto message = pdestream::testing::error_of([&] { t.save_checkpoint(); });
    if (rank == 0) setrlimit(RLIMIT_FSIZE, &old_limit);
    std::signal(SIGXFSZ, old_handler);
    EXPECT_NE(message.find("cannot write the step-5 checkpoint"), std::string::npos) << message;
    EXPECT_NE(message.find("is unchanged"), std::string::npos) << message;
    EXPECT_EQ(fs::file_size(current), bytes);
    EXPECT_FALSE(fs::exists(current + ".tmp"));
  }
  EXPECT_EQ(resumed_step(), 5);
}

// The epoch event (and the epoch hook) carry the epoch's mean loss: the mean of its steps'
// losses, also for an epoch that a kill cut in two (the sum up to the checkpoint resumes).
TEST(Trainer, EpochEventsCarryTheEpochsMeanLossAcrossAResume) {
  auto [x, y] = toy_data(40);  // 5 batches of 8 per epoch
  auto o = options(3);
  o.log_every = 1;
  auto r = straight_and_resumed(o, x, y, 7, "epoch_mean");
  auto events = [](const std::string& dir) {
    std::map<std::string, std::vector<nlohmann::json>> by_kind;
    std::ifstream in(dir + "/metrics.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      by_kind[j["event"].get<std::string>()].push_back(j);
    }
    return by_kind;
  };
  if (comm_rank(MPI_COMM_WORLD) != 0) return;  // rank 0 writes metrics.jsonl
  auto straight = events(r.straight_dir), resumed = events(r.resumed_dir);
  ASSERT_EQ(straight["epoch"].size(), 3u);
  ASSERT_EQ(straight["step"].size(), 15u);
  for (int e = 0; e < 3; ++e) {
    double sum = 0;
    for (int s = 0; s < 5; ++s) sum += straight["step"][5 * e + s]["loss"].get<double>();
    EXPECT_NEAR(straight["epoch"][e]["loss"].get<double>(), sum / 5, 1e-12) << "epoch " << e;
    EXPECT_EQ(straight["epoch"][e]["last_loss"], straight["step"][5 * e + 4]["loss"]);
  }
  ASSERT_EQ(resumed["epoch"].size(), 3u);
  for (int e = 0; e < 3; ++e) EXPECT_EQ(resumed["epoch"][e]["loss"], straight["epoch"][e]["loss"]) << "epoch " << e;
}

TEST(Trainer, OverfitsASmallSetAndTheSavedModelPredictsTheSame) {
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  auto [x, y] = toy_data(8);
  auto o = options(300);
  o.batch_size = 8;
  o.lr = 5e-3;
  const auto dir = pdestream::testing::scratch_dir("overfit", MPI_COMM_WORLD);
  auto model = small_mlp(1);
  Trainer trainer(model, o, MPI_COMM_WORLD, dir);
  surrogates::UnitGaussianNormalizer in(3), out(4);
  in->update(x);
  out->update(y);
  trainer.set_normalizers(in, out);
  TensorDataSource train(x, y, o.batch_size, 2, rank, size);
  TensorDataSource val(x, y, o.batch_size, 2, rank, size, false);
  const double before = trainer.validate(val);
  trainer.fit(train, &val);
  EXPECT_LT(trainer.last_validation(), 0.01) << "started at " << before;
  EXPECT_LT(trainer.last_validation(), before / 10);
  trainer.save_model(dir + "/model.safetensors", {{"task", "toy"}});

  auto reloaded = small_mlp(123);
  auto file = surrogates::load_safetensors(dir + "/model.safetensors", *reloaded);
  EXPECT_EQ(file.metadata.at("task"), "toy");
  surrogates::UnitGaussianNormalizer in2(3), out2(4);
  for (auto& [name, t] : surrogates::named_state(*in2)) t.detach().copy_(file.extra.at("input_normalizer." + name));
  for (auto& [name, t] : surrogates::named_state(*out2)) t.detach().copy_(file.extra.at("target_normalizer." + name));
  reloaded->eval();
  torch::NoGradGuard no_grad;
  auto again = out2->decode(reloaded->forward(in2->encode(x)));
  EXPECT_TRUE(torch::allclose(again, trainer.predict(x), 0, 0)) << "reloaded model predicts differently";
  // The metrics log has step, validation and epoch lines.
  if (rank == 0) {
    const auto text = pdestream::testing::read_text(dir + "/metrics.jsonl");
    EXPECT_NE(text.find("\"event\":\"validation\""), std::string::npos);
    EXPECT_NE(text.find("\"val_rel_l2\""), std::string::npos);
  }
}

TEST(Trainer, NonFiniteLossAndBadOptionsAreClearErrors) {
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  auto [x, y] = toy_data(8);
  y[3][1] = std::nan("");
  Trainer trainer(small_mlp(1), options(1), MPI_COMM_WORLD, "");
  TensorDataSource data(x, y, 8, 2, rank, size);
  try {
    trainer.fit(data);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("training diverged: loss is nan at step 0"), std::string::npos) << e.message();
  }
  Config c = Config::parse("[training]\nepochs = 2\nlearning_rate = 0.1\n", "t.toml");
  SectionReader s(c, "training");
  TrainerOptions::from_section(s);
  try {
    s.finish();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("t.toml: [training] learning_rate: unknown key"), std::string::npos);
  }
}

TEST(Trainer, SchedulesCountInStepsWithWarmupAndNeedAHorizon) {
  auto expect_error = [](const std::function<void()>& f, const std::string& what) {
    try {
      f();
      FAIL() << "expected an error with: " << what;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(what), std::string::npos) << e.message();
    }
  };
  auto o = options(3);
  o.lr = 1e-3;
  o.schedule = "cosine";
  o.min_lr = 1e-5;
  o.warmup_steps = 4;
  Trainer trainer(small_mlp(1), o, MPI_COMM_WORLD, "");
  // Warm-up ramps linearly: lr/4, 2 lr/4, ... reaching lr at the last warm-up step.
  for (int s = 0; s < 4; ++s) EXPECT_DOUBLE_EQ(trainer.scheduled_lr(s, 10), 1e-3 * (s + 1) / 4);
  // Cosine over epochs x epoch length = 30 steps, after the warm-up: lr, the middle, min_lr.
  EXPECT_DOUBLE_EQ(trainer.scheduled_lr(4, 10), 1e-3);
  EXPECT_NEAR(trainer.scheduled_lr(4 + 13, 10), 0.5 * (1e-3 + 1e-5), 1e-15);
  EXPECT_DOUBLE_EQ(trainer.scheduled_lr(30, 10), 1e-5);
  EXPECT_DOUBLE_EQ(trainer.scheduled_lr(100, 10), 1e-5);
  // A stream (unknown epoch length) has no horizon until one is given.
  expect_error([&] { trainer.scheduled_lr(5, -1); }, "schedule = \"cosine\" needs a horizon");
  trainer.set_horizon(24);
  EXPECT_NEAR(trainer.scheduled_lr(4 + 10, -1), 0.5 * (1e-3 + 1e-5), 1e-15);

  auto st = options(3);
  st.schedule = "step";
  st.gamma = 0.5;
  st.step_epochs = 2;
  Trainer stepped(small_mlp(1), st, MPI_COMM_WORLD, "");
  EXPECT_DOUBLE_EQ(stepped.scheduled_lr(19, 10), 3e-3);  // epochs 0-1
  EXPECT_DOUBLE_EQ(stepped.scheduled_lr(20, 10), 1.5e-3);
  expect_error([&] { stepped.scheduled_lr(0, -1); }, "set training.step_every");
  st.step_every = 7;
  Trainer every(small_mlp(1), st, MPI_COMM_WORLD, "");
  EXPECT_DOUBLE_EQ(every.scheduled_lr(6, -1), 3e-3);
  EXPECT_DOUBLE_EQ(every.scheduled_lr(14, -1), 0.75e-3);
}

namespace {

// A stochastic objective for the tests: MSE on inputs perturbed by noise drawn from the
// per-example generator, with the noise's RMS as a named term.
class NoisyInputs : public Objective {
 public:
  explicit NoisyInputs(double sigma) : sigma_(sigma) {}
  std::string kind() const override { return "noisy_inputs"; }
  std::vector<std::string> term_names() const override { return {"noise_rms"}; }
  ObjectiveOutput compute(const ObjectiveInput& in) override {
    std::vector<torch::Tensor> noise;
    for (std::int64_t i = 0; i < in.batch.x.size(0); ++i) {
      auto g = in.generator(i);
      noise.push_back(torch::randn(in.batch.x[i].sizes(), g) * sigma_);
    }
    auto n = torch::stack(noise);
    auto pred = in.model.forward(in.batch.x + n);
    ObjectiveOutput out;
    out.loss = (pred - in.batch.y).pow(2).flatten(1).mean(1);
    out.terms["noise_rms"] = n.pow(2).flatten(1).mean(1).sqrt();
    return out;
  }

 private:
  double sigma_;
};

void register_noisy_inputs() {
  register_objective("noisy_inputs",
                     {[](SectionReader& s) { return nlohmann::json{{"sigma", s.get_double("sigma", 0.1, 0.0)}}; },
                      [](const nlohmann::json& o) { return std::make_unique<NoisyInputs>(o.at("sigma").get<double>()); }});
}

}  // namespace

TEST(Trainer, AStochasticObjectiveFollowsOneRankAndResumesBitForBit) {
  register_noisy_inputs();
  const int rank = comm_rank(MPI_COMM_WORLD);
  auto [x, y] = toy_data(37);
  Config c = Config::parse("[training]\nobjective = \"noisy_inputs\"\nsigma = 0.3\nepochs = 3\nbatch_size = 8\n"
                           "lr = 3e-3\nthreads = 1\nlog_every = 1\nseed = 5\n",
                           "t.toml");
  SectionReader s(c, "training");
  auto o = TrainerOptions::from_section(s);
  s.finish();
  EXPECT_EQ(o.objective_options["sigma"].get<double>(), 0.3);

  // R ranks against 1 rank: the same noise reaches the same examples.
  auto r = fit_parallel_and_serial(o, x, y, [] { return small_mlp(7); });
  EXPECT_LT(r.weight_difference(), 1e-5);
  ASSERT_EQ(r.parallel->last_terms().count("noise_rms"), 1u);
  EXPECT_NEAR(r.parallel->last_terms().at("noise_rms"), r.serial->last_terms().at("noise_rms"), 1e-6);
  EXPECT_NEAR(r.parallel->last_terms().at("noise_rms"), 0.3, 0.15);  // ~sigma, over 3 features

  // Stopped at step 6 and resumed: the noise after the resume is the noise of a straight run.
  auto run = straight_and_resumed(o, x, y, 6, "noisy");
  expect_same_weights(*run.straight_model, *run.resumed_model);

  // Every term goes into metrics.jsonl.
  if (rank == 0) {
    std::ifstream in(run.straight_dir + "/metrics.jsonl");
    std::string line;
    int with_term = 0;
    while (std::getline(in, line)) with_term += line.find("\"noise_rms\"") != std::string::npos;
    EXPECT_EQ(with_term, run.straight->step());
  }
}

TEST(Trainer, UnknownObjectiveIsAClearError) {
  Config c = Config::parse("[training]\nobjective = \"denoise\"\n", "t.toml");
  SectionReader s(c, "training");
  try {
    TrainerOptions::from_section(s);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("objective"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("supervised"), std::string::npos) << e.message();
  }
}

namespace {

// Travelling waves u(x, t) = sin(2 pi (x - c t) + phase) on 16 points, [N, Nt, 1, 16];
// examples for history 2, unroll m: input [2, 16], target [m, 16].
std::pair<torch::Tensor, torch::Tensor> waves(int n, int m) {
  torch::manual_seed(1);
  auto x = torch::linspace(0, 1, 17).narrow(0, 0, 16);
  std::vector<torch::Tensor> xs, ys;
  for (int i = 0; i < n; ++i) {
    const double phase = torch::rand({1}).item<double>() * 6.28, c = 0.05 + 0.05 * (i % 3);
    std::vector<torch::Tensor> frames;
    for (int t = 0; t < 2 + m; ++t) frames.push_back(torch::sin(2 * M_PI * (x - c * t) + phase));
    xs.push_back(torch::stack({frames[0], frames[1]}));
    ys.push_back(torch::stack(std::vector<torch::Tensor>(frames.begin() + 2, frames.end())));
  }
  return {torch::stack(xs), torch::stack(ys)};
}

std::shared_ptr<surrogates::Surrogate> small_fno(std::uint64_t seed) {
  torch::manual_seed(seed);
  return surrogates::make_model_from_json({{"name", "fno"}, {"dim", 1}, {"in_channels", 2}, {"out_channels", 1},
                                           {"width", 8}, {"modes", 4}, {"layers", 2}, {"projection", 16}});
}

ObjectiveOutput run_objective(Objective& objective, surrogates::Surrogate& model, const Batch& batch,
                              std::int64_t step = 0, std::int64_t horizon = 10) {
  ObjectiveInput in{batch, model, nullptr, nullptr, 3, step, horizon};
  return objective.compute(in);
}

}  // namespace

TEST(Objectives, TheRolloutCurriculum) {
  for (std::int64_t m : {1, 4, 8}) {
    EXPECT_EQ(curriculum_steps("none", 0.0, m), m);
    EXPECT_EQ(curriculum_steps("linear", 0.0, m), 1);
    EXPECT_EQ(curriculum_steps("linear", 0.5, m), std::max<std::int64_t>(1, m / 2));
    EXPECT_EQ(curriculum_steps("linear", 1.0, m), m);
    EXPECT_EQ(curriculum_steps("tanh", 0.0, m), 1);  // tau = 0.0067
    EXPECT_EQ(curriculum_steps("tanh", 0.5, m), std::max<std::int64_t>(1, m / 2));
    EXPECT_EQ(curriculum_steps("tanh", 1.0, m), std::max<std::int64_t>(1, m - 1));  // tau = 0.9933 < 1
  }
}

TEST(Objectives, RolloutWithOneStepIsSupervisedAndPushforwardStopsGradients) {
  auto [x1, y1] = waves(6, 1);
  auto model = small_fno(2);
  Batch one{x1, y1, 6, 0};
  auto mse = make_objective("supervised", {{"loss", "mse"}});
  auto unrolled = make_objective("rollout", {{"loss", "mse"}});
  EXPECT_TRUE(torch::allclose(run_objective(*mse, *model, one).loss, run_objective(*unrolled, *model, one).loss));

  // Three steps, fully autoregressive: pushforward leaves the loss alone but cuts the
  // gradient through the fed-back predictions.
  auto [x3, y3] = waves(6, 3);
  Batch three{x3, y3, 6, 0};
  auto grads = [&](bool pushforward) {
    auto o = make_objective("rollout", {{"loss", "mse"}, {"pushforward", pushforward}});
    model->zero_grad();
    auto out = run_objective(*o, *model, three);
    out.loss.sum().backward();
    std::vector<torch::Tensor> g;
    for (auto& p : model->parameters()) g.push_back(p.grad().clone());
    return std::make_pair(out.loss.detach(), g);
  };
  auto [loss_a, ga] = grads(false);
  auto [loss_b, gb] = grads(true);
  EXPECT_TRUE(torch::allclose(loss_a, loss_b));
  EXPECT_GT(max_difference(ga, gb), 1e-6);
  // Teacher forcing (linear curriculum at step 0: t_ar = 1): every step sees true frames, so
  // step j's loss is the one-step loss on the shifted window.
  auto tf = make_objective("rollout", {{"loss", "mse"}, {"curriculum", "linear"}, {"unroll_loss", "last"}});
  auto out = run_objective(*tf, *model, three, 0, 100);
  EXPECT_EQ(out.terms.at("t_ar")[0].item<double>(), 1.0);
  Batch shifted{torch::stack({y3.select(1, 0), y3.select(1, 1)}, 1), y3.narrow(1, 2, 1), 6, 0};
  EXPECT_TRUE(torch::allclose(out.loss, run_objective(*mse, *model, shifted).loss, 1e-5, 1e-6));
  // The supervised objective refuses unrolled targets with a pointer to the right one.
  try {
    run_objective(*mse, *model, three);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("objective = \"rollout\""), std::string::npos) << e.message();
  }
}

TEST(Objectives, RolloutWithInputNoiseFollowsOneRank) {
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  auto [x, y] = waves(21, 3);
  auto o = options(2);
  o.batch_size = 6;
  o.objective = "rollout";
  o.objective_options = {{"curriculum", "tanh"}, {"input_noise", 0.01}};
  o.loss = "mse";
  auto r = fit_parallel_and_serial(o, x, y, [] { return small_fno(5); });
  EXPECT_LT(r.weight_difference(), 1e-5);
  // tanh curriculum over 2 epochs x 4 steps: t_ar grows from 1 to m - 1 = 2.
  EXPECT_EQ(r.parallel->last_terms().at("t_ar"), 2.0);
  // Validation predicts unrolled targets autoregressively.
  TensorDataSource val(x, y, 6, 0, rank, size, false);
  const double v = r.parallel->validate(val);
  EXPECT_TRUE(std::isfinite(v) && v > 0) << v;
}

// Conditioning on a PDE parameter: the same inputs give y = p f(x) for p in {0.5, 2}. An
// unconditioned model can only learn the mean over p; the twin that gets cond = [p] (the
// same architecture otherwise) separates the two values. Also on 2 ranks, following 1.
TEST(Trainer, AConditionedModelSeparatesWhatTheParameterDecides) {
  torch::manual_seed(5);
  const int n = 64;
  auto x = torch::rand({n, 3}) * 2 - 1;
  auto p = torch::where(torch::arange(n) % 2 == 0, torch::full({n}, 0.5), torch::full({n}, 2.0)).unsqueeze(1);
  auto y = p * (torch::sin(x.narrow(1, 0, 1) * torch::arange(1, 5, torch::kFloat32)) + 1.5);
  auto o = options(200);
  o.batch_size = 16;
  auto make = [](std::int64_t cond_dim) {
    torch::manual_seed(3);
    surrogates::MlpOptions m;
    m.in_features = 3;
    m.out_features = 4;
    m.hidden = {32, 32};
    m.activation = "gelu";
    m.cond_dim = cond_dim;
    return std::make_shared<surrogates::MlpImpl>(m);
  };
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  auto fitted_error = [&](std::int64_t cond_dim) {
    const auto cond = cond_dim ? p : torch::Tensor();
    Trainer t(make(cond_dim), o, MPI_COMM_WORLD, "");
    TensorDataSource data(x, y, o.batch_size, 1, rank, size, true, cond);
    t.fit(data);
    TensorDataSource all(x, y, o.batch_size, 0, rank, size, false, cond);
    return t.validate(all);
  };
  const double conditioned = fitted_error(1), unconditioned = fitted_error(0);
  std::cout << "relative L2 after " << o.epochs << " epochs: conditioned " << conditioned << ", unconditioned "
            << unconditioned << "\n";
  EXPECT_GT(unconditioned, 0.3) << "no model can tell p = 0.5 from p = 2 without cond";
  EXPECT_LT(conditioned, 0.25 * unconditioned);

  auto short_run = options(2);
  auto r = fit_parallel_and_serial(short_run, x, y, [&] { return make(1); }, p);
  EXPECT_LT(r.weight_difference(), 1e-5) << "conditioned data-parallel weights drifted from the single-rank run";
}

namespace {
// An objective built in code, holding data of its own: the mean squared distance of the
// prediction to a fixed target vector it owns (as DCDM's objective will own its matrix).
class ToTarget : public Objective {
 public:
  explicit ToTarget(torch::Tensor target) : target_(std::move(target)) {}
  std::string kind() const override { return "to_target"; }
  std::vector<std::string> term_names() const override { return {"distance"}; }
  ObjectiveOutput compute(const ObjectiveInput& in) override {
    auto pred = in.model.forward(in.batch.x);
    auto d = (pred - target_).pow(2).mean(1);
    return {d, {{"distance", d.detach().sqrt()}}};
  }

 private:
  torch::Tensor target_;
};

class ClashingTerms : public ToTarget {
 public:
  using ToTarget::ToTarget;
  std::vector<std::string> term_names() const override { return {"lr"}; }
};
}  // namespace

TEST(Trainer, TakesAnObjectiveBuiltInCode) {
  auto [x, y] = toy_data(32);
  auto o = options(100);
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  const auto target = torch::tensor({1.0f, -2.0f, 0.5f, 3.0f});
  Trainer t(small_mlp(4), o, MPI_COMM_WORLD, "");
  t.set_objective(std::make_unique<ToTarget>(target));
  TensorDataSource data(x, y, o.batch_size, 1, rank, size);
  t.fit(data);
  EXPECT_LT(t.last_terms().at("distance"), 0.05) << "the trainer minimised the objective it was given";
  EXPECT_LT((t.predict(x.narrow(0, 0, 4)) - target).abs().max().item<double>(), 0.2);
  const auto message = pdestream::testing::error_of([&] { t.set_objective(std::make_unique<ClashingTerms>(target)); });
  EXPECT_NE(message.find("term name \"lr\" is taken"), std::string::npos) << message;
}

namespace {

// A small CAPE + FNO for 2 history frames of 16 points, conditioned on one parameter.
std::shared_ptr<surrogates::Surrogate> small_cape(std::uint64_t seed) {
  torch::manual_seed(seed);
  Config c = Config::parse("[model]\nname = \"cape\"\nwidth = 8\nmodes = 3\n[model.base]\nname = \"fno\"\nwidth = 8\n"
                           "modes = 4\n",
                           "cape.toml");
  SectionReader s(c, "model");
  surrogates::ModelShape shape;
  shape.dim = 1;
  shape.in_channels = 2;
  shape.out_channels = 1;
  shape.spatial = {16};
  shape.cond_dim = 1;
  return surrogates::make_model(s, shape);
}

// The waves' speed, which decides their next frames.
torch::Tensor wave_speeds(int n) {
  std::vector<float> c;
  for (int i = 0; i < n; ++i) c.push_back(0.05f + 0.05f * (i % 3));
  return torch::tensor(c).view({n, 1});
}

}  // namespace

// The cape objective: during block_warmup_steps only the CAPE block moves (its auxiliary
// loss alone), then everything trains; the block's loss is a metrics term; 2 ranks follow 1.
TEST(Objectives, CapeTrainsTheBlockAloneDuringItsWarmupThenEverything) {
  auto [x, y] = waves(16, 2);
  const auto cond = wave_speeds(16);
  auto o = options(100);
  o.batch_size = 4;
  o.objective = "cape";
  o.objective_options = {{"curriculum", "none"}, {"input_noise", 1e-3}, {"aux_weight", 0.5}, {"block_warmup_steps", 3}};
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  auto params_of = [](surrogates::Surrogate& m, bool block) {
    std::vector<torch::Tensor> out;
    for (const auto& p : m.named_parameters())
      if ((p.key().rfind("PrmEmb_Pre.", 0) == 0) == block) out.push_back(p.value().detach().clone());
    return out;
  };
  for (std::int64_t steps : {3, 6}) {
    auto model = small_cape(21);
    const auto base0 = params_of(*model, false), block0 = params_of(*model, true);
    auto run = o;
    run.max_steps = steps;
    Trainer t(model, run, MPI_COMM_WORLD, "");
    TensorDataSource data(x, y, run.batch_size, 2, rank, size, true, cond);
    t.fit(data);
    EXPECT_GT(max_difference(params_of(*model, true), block0), 1e-6) << steps << " steps: the block trains";
    if (steps == 3)
      EXPECT_EQ(max_difference(params_of(*model, false), base0), 0.0) << "the base model waits for the warm-up";
    else
      EXPECT_GT(max_difference(params_of(*model, false), base0), 1e-6) << "after the warm-up everything trains";
    ASSERT_TRUE(t.last_terms().count("loss_cape_block"));
    EXPECT_GT(t.last_terms().at("loss_cape_block"), 0.0);
  }
  auto p = o;
  p.epochs = 2;
  auto r = fit_parallel_and_serial(p, x, y, [] { return small_cape(5); }, cond);
  // CNN_2's bias is a constant per channel that the LayerNorm over space removes: its exact
  // gradient is 0, and Adam turns the rounding noise in it into full-size steps of either
  // sign. It cannot change an output, so the comparison leaves it out and checks outputs.
  double diff = 0;
  auto a = r.parallel->model().named_parameters(), b = r.serial->model().named_parameters();
  for (const auto& q : a)
    if (q.key() != "PrmEmb_Pre.0.CNN_2.bias") diff = std::max(diff, (q.value() - b[q.key()]).abs().max().item<double>());
  std::printf("cape on %d ranks: weights within %.3g of 1 rank (CNN_2.bias: %.3g)\n", size, diff,
              (a["PrmEmb_Pre.0.CNN_2.bias"] - b["PrmEmb_Pre.0.CNN_2.bias"]).abs().max().item<double>());
  EXPECT_LT(diff, 1e-5) << "2 ranks follow 1 rank with the cape objective";
  auto& mp = r.parallel->model();
  auto& ms = r.serial->model();
  mp.eval();
  ms.eval();
  torch::NoGradGuard no_grad;
  EXPECT_LT((mp.forward(x, cond) - ms.forward(x, cond)).abs().max().item<double>(), 1e-5);
  // The objective needs a CAPE model.
  Trainer plain(small_mlp(1), o, MPI_COMM_WORLD, "");
  auto [xm, ym] = toy_data(8);
  TensorDataSource mlp_data(xm, ym, 4, 1, rank, size);
  EXPECT_NE(pdestream::testing::error_of([&] { plain.fit(mlp_data); }).find("objective cape: expected a model of name \"cape\", got mlp"),
            std::string::npos);
}

// Burgers at large viscosity: most states decay to rounding level, so a batch mixes O(1)
// examples with ones of size 1e-19. The relative L2 of such an example explodes (in the
// rollout and in the CAPE block's loss); with loss = "mse" (normalised units, PDEBench's and
// CAPE's training loss) both stay of order one.
TEST(Objectives, CapeWithMseStaysBoundedOnDecayedStates) {
  auto [x, y] = waves(8, 2);
  for (int i = 4; i < 8; ++i) {
    x[i].mul_(1e-19);
    y[i].mul_(1e-19);
  }
  const auto cond = wave_speeds(8);
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  for (const std::string loss : {"rel_l2", "mse"}) {
    auto o = options(100);
    o.batch_size = 8;
    o.max_steps = 1;
    o.loss = loss;
    o.objective = "cape";
    o.objective_options = {{"curriculum", "none"}, {"aux_weight", 0.5}};
    Trainer t(small_cape(3), o, MPI_COMM_WORLD, "");
    TensorDataSource data(x, y, o.batch_size, 2, rank, size, true, cond);
    t.fit(data);
    const double block = t.last_terms().at("loss_cape_block");
    if (loss == "mse") {
      EXPECT_LT(t.last_loss(), 10.0);
      EXPECT_LT(block, 10.0);
    } else {
      EXPECT_GT(t.last_loss(), 1e6) << "the relative L2 of a decayed example explodes";
      EXPECT_GT(block, 1e6);
    }
  }
}

namespace {

std::shared_ptr<surrogates::Surrogate> small_refiner(std::uint64_t seed) {
  torch::manual_seed(seed);
  return surrogates::make_model_from_json(
      {{"name", "pde_refiner"}, {"dim", 1}, {"in_channels", 2}, {"out_channels", 1},
       {"base", {{"name", "unet_modern"}, {"hidden", 8}, {"ch_mults", {1, 2}}}}},
      "test");
}

}  // namespace

// PDE-Refiner's objective: each example's refinement step and noise come from its own
// generator (a shard's losses are the full batch's), 2 ranks follow 1, the trained sampler
// (K + 1 passes) beats persistence on travelling waves, and the model insists on its objective.
TEST(Objectives, PdeRefinerFollowsOneRankAndLearnsTheStep) {
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  auto [x, y] = waves(8, 1);
  auto objective = make_objective("pde_refiner", nlohmann::json::object());
  auto model = small_refiner(4);
  Batch all{x, y, 8, 0}, shard{x.narrow(0, 3, 4), y.narrow(0, 3, 4), 8, 3};
  const auto full = run_objective(*objective, *model, all).loss.detach();
  const auto part = run_objective(*objective, *model, shard).loss.detach();
  EXPECT_EQ(full.sizes(), torch::IntArrayRef({8}));
  EXPECT_TRUE(torch::allclose(full.narrow(0, 3, 4), part, 1e-5, 1e-7)) << "a shard draws as the full batch does";
  EXPECT_TRUE(torch::equal(run_objective(*objective, *model, all).loss.detach(), full));
  EXPECT_FALSE(torch::equal(run_objective(*objective, *model, all, 1).loss.detach(), full)) << "new draws per step";

  auto o = options(2);
  o.batch_size = 4;
  o.objective = "pde_refiner";
  o.normalize = false;
  auto r = fit_parallel_and_serial(o, x, y, [] { return small_refiner(5); });
  // Biases that feed a GroupNorm with one channel per group (the output norm at hidden 8) are
  // removed by it: their exact gradient is 0, and Adam turns the rounding noise in it into
  // full-size steps of either sign (as CAPE's CNN_2.bias), which then nudge their neighbours.
  // They cannot change an output: the predictions are what must agree.
  std::printf("pde_refiner on %d ranks: weights within %.3g of 1 rank\n", size, r.weight_difference());
  {
    auto& mp = dynamic_cast<surrogates::PdeRefinerImpl&>(r.parallel->model());
    auto& ms = dynamic_cast<surrogates::PdeRefinerImpl&>(r.serial->model());
    const auto [mean_p, std_p] = mp.infer_samples(x, {}, 2, 9);
    const auto [mean_s, std_s] = ms.infer_samples(x, {}, 2, 9);
    const double out = (mean_p - mean_s).abs().max().item<double>();
    std::printf("pde_refiner on %d ranks: predictions within %.3g of 1 rank\n", size, out);
    EXPECT_LT(out, 1e-5) << "2 ranks follow 1 rank with the pde_refiner objective";
  }

  // Overfit 8 examples; the sampler's mean prediction against the persistence error.
  auto fit = options(400);
  fit.batch_size = 8;
  fit.objective = "pde_refiner";
  fit.normalize = false;
  fit.lr = 3e-3;
  auto trained = small_refiner(6);
  Trainer t(trained, fit, MPI_COMM_WORLD, "");
  surrogates::UnitGaussianNormalizer in(2), out(1);
  in->update(x);
  out->update(y);
  t.set_normalizers(in, out);  // ignored: normalize = false
  TensorDataSource data(x, y, fit.batch_size, 3, rank, size);
  t.fit(data);
  trained->eval();
  const auto pred = t.predict(x);  // no normalisers: physical units in and out
  const double err = ((pred - y).norm() / y.norm()).item<double>();
  const double persistence = ((x.narrow(1, 1, 1) - y).norm() / y.norm()).item<double>();
  std::printf("pde_refiner overfit 8 waves: relative L2 %.4f (persistence %.4f)\n", err, persistence);
  EXPECT_LT(err, persistence / 5);

  // The model trains with its own objective only, and the objective needs the model.
  auto plain = options(1);
  EXPECT_EQ(pdestream::testing::error_of([&] { Trainer bad(small_refiner(1), plain, MPI_COMM_WORLD, ""); }),
            "model pde_refiner trains with [training] objective = \"pde_refiner\", got \"supervised\"");
  Trainer mlp(small_mlp(1), o, MPI_COMM_WORLD, "");
  auto [xm, ym] = toy_data(8);
  TensorDataSource mlp_data(xm, ym, 4, 1, rank, size);
  EXPECT_NE(pdestream::testing::error_of([&] { mlp.fit(mlp_data); })
                .find("objective pde_refiner: expected a model of name \"pde_refiner\", got mlp"),
            std::string::npos);
}
