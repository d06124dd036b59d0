#include "training/objective.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <mutex>

#include "core/error.hpp"
#include "core/random.hpp"

namespace pdestream::training {

namespace {


// The default: a supervised loss on (input, target) pairs.
class Supervised : public Objective {
 public:
  explicit Supervised(std::string loss) : loss_(std::move(loss)) {}
  std::string kind() const override { return "supervised"; }
  ObjectiveOutput compute(const ObjectiveInput& in) override {
    const auto& b = in.batch;
    auto x = in.input ? in.input->encode(b.x) : b.x;
    auto pred = in.model.forward(x);
    ObjectiveOutput out;
    if (loss_ == "rel_l2") {
      // In physical units, like the FNO reference: decode the prediction.
      out.loss = relative_l2(in.target ? in.target->decode(pred) : pred, b.y);
    } else {
      auto yn = in.target ? in.target->encode(b.y) : b.y;
      out.loss = (pred - yn).pow(2).flatten(1).mean(1);
    }
    return out;
  }

 private:
  std::string loss_;
};

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

torch::Tensor relative_l2(const torch::Tensor& pred, const torch::Tensor& y) {
  PDS_CHECK(pred.sizes() == y.sizes(), "relative L2 needs equal shapes, got " << surrogates::shape_str(pred)
                                                                             << " and " << surrogates::shape_str(y));
  auto d = (pred - y).flatten(1).norm(2, {1});
  auto n = y.flatten(1).norm(2, {1});
  // Guard an all-zero target: its error is then absolute.
  return d / torch::where(n > 0, n, torch::ones_like(n));
}

}  // namespace pdestream::training
