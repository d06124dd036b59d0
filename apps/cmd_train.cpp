// pdestream train: train a surrogate on a dataset (offline: the config names an HDF5 file).
//
// Sample runs:
//   pdestream train --config configs/heat2d_fno.toml --dry-run
//   pdestream train --config configs/heat2d_fno.toml --set training.epochs=2
//   mpirun -np 2 pdestream train --config configs/heat2d_fno.toml   # data parallel
//   pdestream train --resume runs/heat2d_fno --set training.epochs=20   # continue a run
//
// Writes <output.dir>/config.toml, metrics.jsonl, checkpoint.pt and model.safetensors
// (architecture, task and normalisers in its metadata).

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "apps/cli.hpp"
#include "core/error.hpp"
#include "online_training/dataset_source.hpp"
#include "online_training/trainer.hpp"
#include "surrogates/registry.hpp"

namespace pdestream::apps {

namespace {

struct TrainArgs {
  ConfigOptions config;
  bool dry_run = false;
  std::string resume;
};

struct DataOptions {
  std::string path;
  std::string validation_path;
  double validation_fraction = 0.1;
  std::int64_t cache_mb = 512;
};

DataOptions read_data_options(const Config& config) {
  SectionReader s(config, "data");
  DataOptions o;
  o.path = s.get_string("path");
  o.validation_path = s.get_string("validation_path", "");
  o.validation_fraction = s.get_double("validation_fraction", o.validation_fraction, 0.0, 0.9);
  o.cache_mb = s.get_int("cache_mb", o.cache_mb, 1);
  s.finish();
  return o;
}

void run_train(const TrainArgs& args, MPI_Comm world) {
  const int rank = comm_rank(world), size = comm_size(world);
  Config config;
  DataOptions data;
  OutputOptions out;
  online_training::TrainerOptions training;
  std::shared_ptr<online_training::TrajectoryStore> store, validation_store;
  std::shared_ptr<surrogates::Task> task;
  std::shared_ptr<surrogates::Surrogate> model;
  surrogates::ModelShape shape;
  std::vector<std::int64_t> train_ids, val_ids;
  collective_try(world, [&] {
    if (!args.resume.empty()) {
      const std::string saved = args.resume + "/config.toml";
      PDS_CHECK(std::filesystem::exists(saved), "--resume " << args.resume << ": no config.toml there (expected a run "
                                                            "directory written by pdestream train)");
      ConfigOptions c = args.config;
      c.path = saved;
      config = c.load();
      config.apply_override("output.dir=\"" + args.resume + "\"");
    } else {
      config = args.config.load();
    }
    data = read_data_options(config);
    out = read_output_options(config, "train");
    SectionReader t(config, "training");
    training = online_training::TrainerOptions::from_section(t);
    t.finish();
    store = std::make_shared<online_training::TrajectoryStore>(data.path, std::size_t(data.cache_mb) << 20);
    SectionReader m(config, "model");
    const std::string name = m.get_string("name", std::nullopt, surrogates::model_names());
    SectionReader ts(config, "task");
    task = surrogates::make_task(ts, surrogates::model_layout(name));
    shape = task->model_shape(store->shape());
    model = surrogates::make_model(m, shape);
    // Held-out trajectories: a separate file, or the last fraction of this one.
    const std::int64_t n = store->size();
    if (!data.validation_path.empty()) {
      validation_store = std::make_shared<online_training::TrajectoryStore>(data.validation_path);
      for (std::int64_t i = 0; i < n; ++i) train_ids.push_back(i);
      for (std::int64_t i = 0; i < validation_store->size(); ++i) val_ids.push_back(i);
    } else {
      const auto held = static_cast<std::int64_t>(std::ceil(data.validation_fraction * n));
      PDS_CHECK(n - held >= 1, data.path << ": " << n << " samples leave none for training after holding out "
                                         << held << " for validation");
      for (std::int64_t i = 0; i < n - held; ++i) train_ids.push_back(i);
      for (std::int64_t i = n - held; i < n; ++i) val_ids.push_back(i);
      validation_store = store;
    }
  });

  if (args.dry_run) {
    std::ostringstream os;
    os << surrogates::model_summary(*model, shape) << "\n"
       << "task: " << task->options_json().dump() << "\n"
       << "data: " << data.path << " (" << train_ids.size() << " training, " << val_ids.size()
       << " validation trajectories)";
    print0(world, os.str());
    return;
  }

  make_dir(out.dir, world);
  if (rank == 0 && args.resume.empty()) config.write(out.dir + "/config.toml");
  online_training::DatasetSource train(store, task, train_ids, training.batch_size, training.seed, rank, size);
  std::unique_ptr<online_training::DatasetSource> validation;
  if (!val_ids.empty())
    validation = std::make_unique<online_training::DatasetSource>(validation_store, task, val_ids,
                                                                  training.batch_size, 0, rank, size, false);
  const auto tshape = store->shape();
  surrogates::UnitGaussianNormalizer input(task->input_channels(tshape)), target(task->target_channels(tshape));
  online_training::fit_normalizers(train, *input, *target);

  online_training::Trainer trainer(model, training, world, out.dir);
  trainer.set_normalizers(input, target);
  if (!args.resume.empty()) {
    bool resumed = false;
    collective_try(world, [&] { resumed = trainer.resume_if_possible(); });
    PDS_CHECK(resumed, "--resume " << args.resume << ": no checkpoint.pt to resume from");
    print0(world, "[train] resumed " + args.resume + " at step " + std::to_string(trainer.step()));
  }
  {
    std::ostringstream os;
    os << "[train] " << model->kind() << " (" << model->num_parameters() << " parameters) on " << train.examples_per_epoch()
       << " examples from " << train_ids.size() << " trajectories; " << size << " trainer rank(s); run dir " << out.dir;
    print0(world, os.str());
  }
  collective_try(world, [&] { trainer.fit(train, validation.get()); });
  trainer.save_model(out.dir + "/model.safetensors",
                     {{"task", task->options_json().dump()}, {"data", data.path}, {"config", config.to_toml()}});
  std::ostringstream os;
  os << "[train] done: step " << trainer.step() << ", loss " << trainer.last_loss();
  if (trainer.last_validation() >= 0) os << ", validation relative L2 " << trainer.last_validation();
  os << "; model " << out.dir << "/model.safetensors";
  print0(world, os.str());
}

}  // namespace

SubcommandRegistration add_train(CLI::App& root) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = root.add_subcommand("train", "Train a surrogate on an HDF5 dataset ([data] path)");
  args->config.add_to(*cmd, false);
  cmd->add_flag("--dry-run", args->dry_run, "Print the architecture and parameter count, then stop");
  cmd->add_option("--resume", args->resume, "Continue the run in this directory from its checkpoint");
  cmd->callback([args, cmd] {
    if (args->config.path.empty() && args->resume.empty())
      throw CLI::ValidationError("train needs --config FILE or --resume RUN_DIR");
  });
  return {cmd, [args](MPI_Comm world) { run_train(*args, world); }};
}

}  // namespace pdestream::apps
