#include "training/objective.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "core/error.hpp"
#include "core/random.hpp"
#include "surrogates/cape.hpp"
#include "surrogates/pde_refiner.hpp"

namespace pdestream::training {

namespace {

// One example's loss of a model output `out` (in the normaliser's units) against the physical
// `truth`: "rel_l2" in physical units, like the FNO reference, or "mse" in normalised units,
// like PDEBench's and CAPE's training (defined where a decayed true field makes rel_l2 explode).
torch::Tensor example_loss(const std::string& loss, const torch::Tensor& out, const torch::Tensor& truth,
                           surrogates::UnitGaussianNormalizerImpl* normalizer) {
  if (loss == "rel_l2") return relative_l2(normalizer ? normalizer->decode(out) : out, truth);
  return (out - (normalizer ? normalizer->encode(truth) : truth)).pow(2).flatten(1).mean(1);
}

// The default: a supervised loss on (input, target) pairs.
class Supervised : public Objective {
 public:
  explicit Supervised(std::string loss) : loss_(std::move(loss)) {}
  std::string kind() const override { return "supervised"; }
  ObjectiveOutput compute(const ObjectiveInput& in) override {
    const auto& b = in.batch;
    auto x = in.input ? in.input->encode(b.x) : b.x;
    auto pred = in.model.forward(x, b.cond);
    PDS_CHECK(pred.size(1) == b.y.size(1) || pred.dim() <= 2 || b.y.size(1) % pred.size(1) != 0,
              "objective supervised: the targets hold " << b.y.size(1) / pred.size(1)
                                                        << " frames (the task's unroll): train them with [training] "
                                                           "objective = \"rollout\"");
    ObjectiveOutput out;
    out.loss = example_loss(loss_, pred, b.y, in.target);
    return out;
  }

 private:
  std::string loss_;
};

// Unrolled training: m steps from the true history, the model's own predictions fed back for
// the first t_ar of them (the curriculum), the true frames after that.
class Rollout : public Objective {
 public:
  explicit Rollout(const nlohmann::json& o)
      : loss_(o.value("loss", std::string("rel_l2"))),
        curriculum_(o.value("curriculum", std::string("none"))),
        pushforward_(o.value("pushforward", false)),
        input_noise_(o.value("input_noise", 0.0)),
        last_only_(o.value("unroll_loss", std::string("all")) == "last") {}
  std::string kind() const override { return "rollout"; }
  std::vector<std::string> term_names() const override { return {"t_ar", "loss_first_step", "loss_last_step"}; }

  ObjectiveOutput compute(const ObjectiveInput& in) override {
    const auto& b = in.batch;
    const auto batch = b.x.size(0);
    auto window = b.x;
    if (input_noise_ > 0) {
      // In normalised units, so one std means the same for every channel.
      std::vector<torch::Tensor> noise;
      for (std::int64_t i = 0; i < batch; ++i) {
        auto g = in.generator(i);
        noise.push_back(torch::randn(b.x[i].sizes(), g) * input_noise_);
      }
      auto n = torch::stack(noise);
      window = in.input ? in.input->decode(in.input->encode(window) + n) : window + n;
    }
    std::vector<torch::Tensor> losses;
    std::int64_t m = 0, c = 0, t_ar = 0;
    for (std::int64_t j = 0; m == 0 || j < m; ++j) {
      auto out = step_forward(in, in.input ? in.input->encode(window) : window, j);
      auto pred = in.target ? in.target->decode(out) : out;
      if (j == 0) {
        c = pred.size(1);
        PDS_CHECK(pred.dim() > 2 && b.y.size(1) % c == 0 && b.x.size(1) % c == 0,
                  "objective rollout: expected stacked frames of " << c << " channels (the autoregressive task), got "
                                                                 << "input " << surrogates::shape_str(b.x)
                                                                 << " and target " << surrogates::shape_str(b.y));
        m = b.y.size(1) / c;
        const double progress =
            in.horizon > 0 ? std::min(1.0, static_cast<double>(in.step) / static_cast<double>(in.horizon)) : 1.0;
        PDS_CHECK(in.horizon > 0 || curriculum_ == "none",
                  "objective rollout: curriculum = \"" << curriculum_ << "\" needs the run's length (set training.max_steps)");
        t_ar = curriculum_steps(curriculum_, progress, m);
      }
      auto truth = b.y.narrow(1, j * c, c);
      losses.push_back(example_loss(loss_, out, truth, in.target));
      if (j + 1 < m) {
        auto next = j + 1 < t_ar ? (pushforward_ ? pred.detach() : pred) : truth;
        window = torch::cat({window.narrow(1, c, window.size(1) - c), next}, 1);
      }
    }
    ObjectiveOutput o;
    o.loss = last_only_ ? losses.back() : torch::stack(losses).mean(0);
    o.terms["t_ar"] = torch::full({batch}, static_cast<double>(t_ar), torch::kFloat64);
    o.terms["loss_first_step"] = losses.front().detach();
    o.terms["loss_last_step"] = losses.back().detach();
    return o;
  }

 protected:
  // Unrolled step j's forward pass on the (normalised) window.
  virtual torch::Tensor step_forward(const ObjectiveInput& in, const torch::Tensor& x, std::int64_t) {
    return in.model.forward(x, in.batch.cond);
  }
  const std::string& loss() const { return loss_; }

 private:
  std::string loss_, curriculum_;
  bool pushforward_;
  double input_noise_;
  bool last_only_;
};

// CAPE: the rollout objective plus the CAPE block's auxiliary loss, the loss (rel_l2 or mse)
// of the block's own output e = CAPE(x, p) (from the rollout's first, noised, input, as the
// reference computes it) to the next window (the next frame when the
// history is one frame), weighted by aux_weight. For the first block_warmup_steps steps the
// loss is the auxiliary loss alone, so only the block trains (the base model's gradients are
// zero and Adam leaves it where it is), as the reference's warm-up epochs do.
class CapeObjective : public Rollout {
 public:
  explicit CapeObjective(const nlohmann::json& o)
      : Rollout(o), aux_weight_(o.value("aux_weight", 1e-3)), warmup_(o.value("block_warmup_steps", 0)) {}
  std::string kind() const override { return "cape"; }
  std::vector<std::string> term_names() const override {
    auto names = Rollout::term_names();
    names.push_back("loss_cape_block");
    return names;
  }

  ObjectiveOutput compute(const ObjectiveInput& in) override {
    cape_ = dynamic_cast<surrogates::CapeImpl*>(&in.model);
    PDS_CHECK(cape_, "objective cape: expected a model of name \"cape\", got " << in.model.kind());
    const auto& b = in.batch;
    // The rollout's first step also gives the block's output e (one forward pass for both).
    auto out = Rollout::compute(in);
    // The next window: the history shifted by one frame (frames of C_out channels).
    const auto frame = cape_->options().out_channels;
    const auto next = torch::cat({b.x.narrow(1, frame, b.x.size(1) - frame), b.y.narrow(1, 0, frame)}, 1);
    // The block's output is in the input's normalised units.
    const auto aux = example_loss(loss(), block_, next, in.input);
    out.loss = in.step < warmup_ ? aux : out.loss + aux_weight_ * aux;
    out.terms["loss_cape_block"] = aux.detach();
    block_ = torch::Tensor();
    return out;
  }

 protected:
  torch::Tensor step_forward(const ObjectiveInput& in, const torch::Tensor& x, std::int64_t j) override {
    if (j > 0) return Rollout::step_forward(in, x, j);
    auto [prediction, block] = cape_->forward_with_block(x, in.batch.cond);
    block_ = block;
    return prediction;
  }

 private:
  double aux_weight_;
  std::int64_t warmup_;
  surrogates::CapeImpl* cape_ = nullptr;
  torch::Tensor block_;  // the block's output at the first step of the current compute()
};

// PDE-Refiner's training step (see surrogates/pde_refiner.hpp): per example a refinement step
// j uniform in 0..K and noise eps, both from the example's generator; the v-prediction
// target; the squared error averaged over space and summed over channels, as pdearena's
// loss. In the normalisers' units when they are on (the same units infer works in).
class PdeRefinerObjective : public Objective {
 public:
  std::string kind() const override { return "pde_refiner"; }
  ObjectiveOutput compute(const ObjectiveInput& in) override {
    auto* refiner = dynamic_cast<surrogates::PdeRefinerImpl*>(&in.model);
    PDS_CHECK(refiner, "objective pde_refiner: expected a model of name \"pde_refiner\", got " << in.model.kind());
    const auto& b = in.batch;
    const auto x = in.input ? in.input->encode(b.x) : b.x;
    const auto target = in.target ? in.target->encode(b.y) : b.y;
    PDS_CHECK(target.sizes() == x.narrow(1, 0, target.size(1)).sizes() && target.size(1) == refiner->options().out_channels,
              "objective pde_refiner: expected one target frame of " << refiner->options().out_channels
                                                                     << " channels, got " << surrogates::shape_str(b.y)
                                                                     << " (the task's unroll must be 1)");
    const auto y = refiner->target_to_y(x, target);
    const auto batch = x.size(0);
    const auto k = refiner->options().num_refinement_steps;
    const auto& abar = refiner->alphas_cumprod();
    std::vector<torch::Tensor> noise;
    std::vector<double> steps, signal, sigma;
    for (std::int64_t i = 0; i < batch; ++i) {
      auto g = in.generator(i);
      const auto j = torch::randint(0, k + 1, {1}, g, torch::kInt64).item<std::int64_t>();
      noise.push_back(torch::randn(y[i].sizes(), g, y.options()));
      steps.push_back(static_cast<double>(j));
      signal.push_back(std::sqrt(abar[j]));
      sigma.push_back(std::sqrt(1 - abar[j]));
    }
    auto per_example = [&](const std::vector<double>& v) {
      std::vector<std::int64_t> shape(y.dim(), 1);
      shape[0] = batch;
      return torch::tensor(v, torch::kFloat64).to(y.scalar_type()).view(shape);
    };
    const auto eps = torch::stack(noise), a = per_example(signal), s = per_example(sigma);
    const auto pred = refiner->denoise(x, a * y + s * eps, torch::tensor(steps, torch::kFloat64), b.cond);
    const auto v = a * eps - s * y;
    ObjectiveOutput out;
    out.loss = (pred - v).pow(2).flatten(2).mean(2).sum(1);
    return out;
  }
};

nlohmann::json read_rollout_options(SectionReader& s) {
  return nlohmann::json{{"curriculum", s.get_string("curriculum", "none", {"none", "linear", "tanh"})},
                        {"pushforward", s.get_bool("pushforward", false)},
                        {"input_noise", s.get_double("input_noise", 0.0, 0.0)},
                        {"unroll_loss", s.get_string("unroll_loss", "all", {"all", "last"})}};
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, ObjectiveRegistration>& registry() {
  static std::map<std::string, ObjectiveRegistration> r = [] {
    std::map<std::string, ObjectiveRegistration> init;
    init["supervised"] = {[](SectionReader& s) {
                            return nlohmann::json{{"loss", s.get_string("loss", "rel_l2", {"rel_l2", "mse"})}};
                          },
                          [](const nlohmann::json& o) {
                            return std::make_unique<Supervised>(o.value("loss", std::string("rel_l2")));
                          }};
    init["rollout"] = {read_rollout_options, [](const nlohmann::json& o) { return std::make_unique<Rollout>(o); }};
    init["cape"] = {[](SectionReader& s) {
                      auto o = read_rollout_options(s);
                      o["aux_weight"] = s.get_double("aux_weight", 1e-3, 0.0);
                      o["block_warmup_steps"] = s.get_int("block_warmup_steps", 0, 0);
                      return o;
                    },
                    [](const nlohmann::json& o) { return std::make_unique<CapeObjective>(o); }};
    init["pde_refiner"] = {[](SectionReader&) { return nlohmann::json::object(); },
                           [](const nlohmann::json&) { return std::make_unique<PdeRefinerObjective>(); }};
    return init;
  }();
  return r;
}

const ObjectiveRegistration& find(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& [n, r] : registry()) known += (known.empty() ? "" : ", ") + n;
    PDS_FAIL("[training] objective: unknown objective \"" << name << "\"; expected one of: " << known);
  }
  return it->second;
}

}  // namespace

torch::Generator ObjectiveInput::generator(std::int64_t i) const {
  // (seed, step, position) mixed in turn, so nearby triples give unrelated streams.
  const auto s = splitmix64(splitmix64(splitmix64(seed) ^ static_cast<std::uint64_t>(step)) ^
                            static_cast<std::uint64_t>(batch.offset + i));
  return at::make_generator<at::CPUGeneratorImpl>(s);
}

void register_objective(const std::string& name, ObjectiveRegistration registration) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[name] = std::move(registration);
}

std::vector<std::string> objective_names() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names;
  for (const auto& [n, r] : registry()) names.push_back(n);
  return names;
}

nlohmann::json read_objective_options(const std::string& name, SectionReader& training) {
  return find(name).read_options(training);
}

std::unique_ptr<Objective> make_objective(const std::string& name, const nlohmann::json& options) {
  return find(name).make(options);
}

std::int64_t curriculum_steps(const std::string& kind, double progress, std::int64_t m) {
  double tau = 1.0;
  if (kind == "linear")
    tau = progress;
  else if (kind == "tanh")
    tau = 0.5 * (1.0 + std::tanh((progress - 0.5) / 0.2));
  else
    PDS_CHECK(kind == "none", "curriculum: expected none, linear or tanh, got \"" << kind << "\"");
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(static_cast<double>(m) * tau)), 1, m);
}

torch::Tensor relative_l2(const torch::Tensor& pred, const torch::Tensor& y) {
  PDS_CHECK(pred.sizes() == y.sizes(), "relative L2 needs equal shapes, got " << surrogates::shape_str(pred)
                                                                             << " and " << surrogates::shape_str(y));
  auto d = (pred - y).flatten(1).norm(2, {1});
  auto n = y.flatten(1).norm(2, {1});
  // Guard an all-zero target: its error is then absolute.
  return d / torch::where(n > 0, n, torch::ones_like(n));
}

}  // namespace pdestream::training
