#include "training/offline_job.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "core/runtime.hpp"
#include "surrogates/registry.hpp"
#include "training/evaluation.hpp"

namespace pdestream::training {

DataOptions DataOptions::from_section(SectionReader& s, bool path_required) {
  DataOptions o;
  if (s.has("paths")) {
    PDS_CHECK(s.get_string("path", "").empty(), s.where("paths") << ": expected path or paths, got both (an empty "
                                                                   "path, --set data.path='\"\"', leaves paths)");
    o.paths = s.get_strings("paths");
    PDS_CHECK(!o.paths.empty(), s.where("paths") << ": expected at least one file, got none");
  } else {
    o.path = path_required ? s.get_string("path") : s.get_string("path", "");
  }
  o.validation_path = s.get_string("validation_path", "");
  o.validation_fraction = s.get_double("validation_fraction", o.validation_fraction, 0.0, 0.9);
  o.cache_mb = s.get_int("cache_mb", o.cache_mb, 1);
  o.shuffle_window = s.get_int("shuffle_window", o.shuffle_window, 0);
  if (s.has("params") && !o.paths.empty()) {
    o.path_params = s.get_number_tables("params");
    PDS_CHECK(o.path_params.size() == o.paths.size(), s.where("params") << ": expected one table per file of paths ("
                                                                        << o.paths.size() << "), got "
                                                                        << o.path_params.size());
  } else if (s.has("params")) {
    o.params = s.get_number_table("params");
  }
  o.validation_params = s.has("validation_params") ? s.get_number_table("validation_params") : o.params;
  s.accept("params");
  s.accept("validation_params");
  return o;
}

std::vector<TrajectoryStore::File> DataOptions::files() const {
  if (paths.empty()) return {{path, params}};
  std::vector<TrajectoryStore::File> f;
  for (std::size_t i = 0; i < paths.size(); ++i) f.push_back({paths[i], path_params.empty() ? params : path_params[i]});
  return f;
}

DataSplit split_dataset(const DataOptions& data) {
  DataSplit split;
  split.train = std::make_shared<TrajectoryStore>(data.files(), std::size_t(data.cache_mb) << 20);
  const std::int64_t n = split.train->size();
  if (!data.validation_path.empty()) {
    split.validation = std::make_shared<TrajectoryStore>(data.validation_path, std::size_t(data.cache_mb) << 20,
                                                         data.validation_params);
    for (std::int64_t i = 0; i < n; ++i) split.train_ids.push_back(i);
    for (std::int64_t i = 0; i < split.validation->size(); ++i) split.validation_ids.push_back(i);
    // One task serves both files, so it finds each parameter at the same position in both.
    PDS_CHECK(split.validation->param_names() == split.train->param_names(),
              data.validation_path << ": expected the parameters of " << data.path << " ("
                                   << join(split.train->param_names()) << "), got ("
                                   << join(split.validation->param_names()) << ")");
    return split;
  }
  // The last trajectories of each file, not a random subset: a dataset generated with more
  // samples keeps its first ones in training, and every file (each parameter value of
  // PDEBench's one-value files) is both trained on and held out.
  const auto files = data.files();
  std::int64_t held_total = 0;
  for (std::int64_t f = 0; f < split.train->num_files(); ++f) {
    const auto [begin, end] = split.train->file_range(f);
    const auto count = end - begin;
    const auto held = static_cast<std::int64_t>(std::ceil(data.validation_fraction * static_cast<double>(count)));
    PDS_CHECK(count - held >= 1, files[static_cast<std::size_t>(f)].path
                                     << ": " << count << " samples leave none for training after holding out " << held
                                     << " for validation ([data] validation_fraction = " << data.validation_fraction
                                     << ")");
    for (std::int64_t i = begin; i < end - held; ++i) split.train_ids.push_back(i);
    for (std::int64_t i = end - held; i < end; ++i) split.validation_ids.push_back(i);
    held_total += held;
  }
  if (held_total > 0) split.validation = split.train;
  (void)n;
  return split;
}

namespace {
// `base` with the values of `extra` put in (by name) or appended.
NamedValues override_values(NamedValues base, const NamedValues& extra) {
  for (const auto& e : extra) {
    auto it = std::find_if(base.begin(), base.end(), [&](const auto& b) { return b.first == e.first; });
    if (it != base.end())
      it->second = e.second;
    else
      base.push_back(e);
  }
  return base;
}
}  // namespace

HeldOut held_out_of_run(const std::string& run_dir, const Config& config, const NamedValues& extra) {
  HeldOut h;
  SectionReader o(config, "online");
  if (o.get_bool("enabled", false)) {
    std::string path = o.get_string("validation_path", "");
    if (path.empty()) path = run_dir + "/validation.h5";
    h.store = std::make_shared<TrajectoryStore>(path, std::size_t(512) << 20, extra);
    for (std::int64_t i = 0; i < h.store->size(); ++i) h.ids.push_back(i);
    return h;
  }
  SectionReader d(config, "data");
  auto data = DataOptions::from_section(d);
  data.params = override_values(data.params, extra);
  for (auto& p : data.path_params) p = override_values(p, extra);
  data.validation_params = override_values(data.validation_params, extra);
  const auto split = split_dataset(data);
  PDS_CHECK(split.validation, "run " << run_dir << " held no trajectories out ([data] validation_fraction = 0 and "
                                                   "no validation_path): name the data to evaluate with --data FILE");
  h.store = split.validation;
  h.ids = split.validation_ids;
  return h;
}

void bind_task(surrogates::Task& task, TrajectoryStore& store, const std::vector<std::int64_t>& ids) {
  store.set_resolution(task.resolution());
  task.bind(store.shape(),
            ids.empty() || task.condition().empty() ? std::map<std::string, std::pair<double, double>>{}
                                                    : store.param_ranges(ids),
            store.path());
}

nlohmann::json run_offline_job(const OfflineJobSpec& spec, MPI_Comm comm) {
  const int rank = comm_rank(comm), size = comm_size(comm);
  DataSplit split;
  std::shared_ptr<surrogates::Task> task;
  std::shared_ptr<surrogates::Surrogate> model;
  surrogates::ModelShape shape;
  collective_try(comm, [&] {
    split = split_dataset(spec.data);
    SectionReader m(spec.config, "model");
    const std::string name = m.get_string("name", std::nullopt, surrogates::model_names());
    SectionReader ts(spec.config, "task");
    task = surrogates::make_task(ts, surrogates::model_layout(name));
    bind_task(*task, *split.train, split.train_ids);
    if (split.validation) split.validation->set_resolution(task->resolution());
    shape = task->model_shape(split.train->shape());
    // training.seed decides the initial weights too, so a run is reproducible.
    torch::manual_seed(spec.training.seed);
    model = surrogates::make_model(m, shape);
  });
  if (spec.dry_run) {
    std::ostringstream os;
    os << surrogates::model_summary(*model, shape) << "\n"
       << "task: " << task->options_json().dump() << "\n"
       << "data: " << split.train->path() << " (" << split.train_ids.size() << " training, " << split.validation_ids.size()
       << " validation trajectories)";
    print0(comm, os.str());
    return nlohmann::json::object();
  }

  if (rank == 0) std::filesystem::create_directories(spec.run_dir);
  MPI_Barrier(comm);
  if (rank == 0 && !spec.resume) spec.config.write(spec.run_dir + "/config.toml");
  const auto& o = spec.training;
  DatasetSource train(split.train, task, split.train_ids, o.batch_size, o.seed, rank, size);
  train.set_shuffle_window(spec.data.shuffle_window);
  std::unique_ptr<DatasetSource> validation;
  if (split.validation) {
    std::shared_ptr<const surrogates::Task> validation_task = task;
    collective_try(comm, [&] {
      if (o.validate_rollout) validation_task = surrogates::rollout_validation_task(*task, split.validation->shape());
    });
    validation = std::make_unique<DatasetSource>(split.validation, validation_task, split.validation_ids,
                                                 o.batch_size, 0, rank, size, false);
  }
  const auto tshape = split.train->shape();
  surrogates::UnitGaussianNormalizer input(task->input_channels(tshape)), target(task->target_channels(tshape));
  fit_normalizers(train, *input, *target);

  Trainer trainer(model, o, comm, spec.run_dir);
  trainer.set_normalizers(input, target);
  if (spec.resume) {
    bool resumed = false;
    collective_try(comm, [&] { resumed = trainer.resume_if_possible(); });
    PDS_CHECK(resumed, "--resume " << spec.run_dir << ": no checkpoint.pt to resume from");
    print0(comm, "[train] resumed " + spec.run_dir + " at step " + std::to_string(trainer.step()));
  }
  {
    std::ostringstream os;
    os << "[train] " << model->kind() << " (" << model->num_parameters() << " parameters) on "
       << train.examples_per_epoch() << " examples from " << split.train_ids.size() << " trajectories; " << size
       << " trainer rank(s); run dir " << spec.run_dir;
    print0(comm, os.str());
  }
  collective_try(comm, [&] { trainer.fit(train, validation.get()); });
  auto metadata = model_file_metadata(*task, spec.config);
  metadata["data"] = split.train->path();
  trainer.save_model(spec.run_dir + "/model.safetensors", metadata);
  return {{"steps", trainer.step()}, {"loss", trainer.last_loss()}, {"validation_rel_l2", trainer.last_validation()}};
}

}  // namespace pdestream::training
