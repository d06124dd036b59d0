#include "training/evaluation.hpp"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "surrogates/model_file.hpp"
#include "surrogates/registry.hpp"
#include "training/trainer.hpp"

namespace pdestream::training {

LoadedSurrogate LoadedSurrogate::from_file(const std::string& path) {
  auto file = surrogates::read_safetensors_tensors(path);
  for (const char* key : {"model", "task"})
    PDS_CHECK(file.metadata.count(key), path << ": no '" << key << "' in the metadata (expected a model.safetensors "
                                                                    "written by pdestream train)");
  LoadedSurrogate s;
  s.metadata = file.metadata;
  nlohmann::json model_json, task_json;
  try {
    model_json = nlohmann::json::parse(file.metadata.at("model"));
    task_json = nlohmann::json::parse(file.metadata.at("task"));
  } catch (const std::exception&) {
    PDS_FAIL(path << ": the model/task metadata is not valid JSON");
  }
  s.model = surrogates::make_model_from_json(model_json, path + " metadata");
  s.task = surrogates::make_task_from_json(task_json, s.model->layout(), path + " metadata");
  surrogates::load_safetensors(path, *s.model);
  if (file.metadata.count("input_normalizer")) {
    auto make = [&](const std::string& prefix) {
      auto opts = nlohmann::json::parse(file.metadata.at(prefix));
      surrogates::UnitGaussianNormalizer n(opts.at("channels").get<std::int64_t>(), opts.at("eps").get<double>());
      torch::NoGradGuard no_grad;
      for (auto& [name, t] : surrogates::named_state(*n)) {
        auto it = file.extra.find(prefix + "." + name);
        PDS_CHECK(it != file.extra.end(), path << ": missing tensor '" << prefix << "." << name << "'");
        PDS_CHECK(it->second.sizes() == t.sizes(), path << ": tensor '" << prefix << "." << name << "' has the wrong shape");
        t.copy_(it->second);
      }
      return n;
    };
    s.input = make("input_normalizer");
    s.target = make("target_normalizer");
  }
  s.model->eval();
  return s;
}

torch::Tensor LoadedSurrogate::predict(const torch::Tensor& x) const {
  torch::NoGradGuard no_grad;
  auto pred = model->forward(input ? input->encode(x) : x);
  return target ? target->decode(pred) : pred;
}

TrajectoryEvaluation evaluate_trajectory(const LoadedSurrogate& s, const surrogates::Trajectory& traj) {
  torch::NoGradGuard no_grad;
  traj.validate();
  const auto shape = surrogates::TrajectoryShape::of(traj);
  const auto options = s.task->options_json();
  const std::string kind = s.task->kind();
  TrajectoryEvaluation e;
  std::vector<std::int64_t> frame_sizes = {shape.channels};
  frame_sizes.insert(frame_sizes.end(), shape.spatial.begin(), shape.spatial.end());

  if (kind == "autoregressive") {
    const auto k = options.at("history").get<std::int64_t>();
    const auto horizon = options.at("horizon").get<std::int64_t>();
    const auto steps = horizon > 0 ? std::min(horizon, shape.num_times - k) : shape.num_times - k;
    PDS_CHECK(steps > 0, "autoregressive evaluation needs more than " << k << " frames, got " << shape.num_times);
    auto initial = traj.frames.narrow(0, 0, k).unsqueeze(0);
    e.prediction = surrogates::rollout(*s.model, initial, steps, s.input ? s.input.get() : nullptr,
                                       s.target ? s.target.get() : nullptr)[0];
    e.truth = traj.frames.narrow(0, k, steps);
    e.times.assign(traj.times.begin() + k, traj.times.begin() + k + steps);
  } else {
    const auto n = s.task->num_examples(shape);
    std::vector<surrogates::Example> examples;
    for (std::int64_t i = 0; i < n; ++i) examples.push_back(s.task->example(traj, i));
    auto batch = surrogates::collate(examples);
    std::vector<std::int64_t> sizes = {n};
    sizes.insert(sizes.end(), frame_sizes.begin(), frame_sizes.end());
    e.prediction = s.predict(batch.input).reshape(sizes);
    e.truth = batch.target.reshape(sizes);
    if (kind == "field_at_time") {
      const std::size_t first = options.value("include_initial", true) ? 0 : 1;
      e.times.assign(traj.times.begin() + first, traj.times.end());
    } else {
      auto t = options.value("t_index", std::int64_t(-1));
      if (t < 0) t += shape.num_times;
      e.times = {traj.times.at(t)};
    }
  }
  e.relative_l2 = relative_l2(e.prediction.flatten().unsqueeze(0), e.truth.flatten().unsqueeze(0)).item<double>();
  auto per = relative_l2(e.prediction, e.truth);
  for (std::int64_t i = 0; i < per.size(0); ++i) e.per_step.push_back(per[i].item<double>());
  return e;
}

Field to_field(const torch::Tensor& frame, const std::vector<std::string>& channels) {
  const auto dim = frame.dim() - 1;
  PDS_CHECK(dim >= 1 && dim <= 3 && frame.size(0) == static_cast<std::int64_t>(channels.size()),
            "to_field needs a [C, *spatial] frame with C = " << channels.size() << ", got "
                                                            << surrogates::shape_str(frame));
  Box box;
  for (int a = 0; a < dim; ++a) box.hi[a] = static_cast<int>(frame.size(1 + a));
  Field f(channels, box);
  std::vector<std::int64_t> perm;
  for (int a = 0; a < dim; ++a) perm.push_back(1 + a);
  perm.push_back(0);
  auto t = frame.permute(perm).contiguous().to(torch::kFloat64);
  std::memcpy(f.data().data(), t.data_ptr<double>(), sizeof(double) * f.size());
  return f;
}

}  // namespace pdestream::training
