// pdestream train: train a surrogate offline on a dataset (the config names an HDF5 file),
// or online, with simulations streaming into the trainer ([online] enabled = true).
//
// Sample runs:
//   mpirun -np 3 pdestream train --config configs/heat2d_fno_online.toml        # 1 trainer + 2 sims
//   mpirun -np 3 pdestream train --resume runs/heat2d_fno_online                # continue it
//   pdestream train --config configs/heat2d_fno_online.toml --set online.enabled=false  # offline twin
//   pdestream train --config configs/heat2d_fno.toml --dry-run
//   pdestream train --config configs/heat2d_fno.toml --set training.epochs=2
//   mpirun -np 2 pdestream train --config configs/heat2d_fno.toml   # data parallel
//   pdestream train --resume runs/heat2d_fno --set training.epochs=20   # continue a run
//
// Writes <output.dir>/config.toml, metrics.jsonl, checkpoint.pt and model.safetensors
// (architecture, task and normalisers in its metadata); online runs also write
// online_summary.json (see online_training/online_job.hpp).

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "apps/cli.hpp"
#include "core/error.hpp"
#include "online_training/dataset_source.hpp"
#include "online_training/online_job.hpp"
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

DataOptions read_data_options(const Config& config, bool required = true) {
  SectionReader s(config, "data");
  DataOptions o;
  o.path = required ? s.get_string("path") : s.get_string("path", "");
  o.validation_path = s.get_string("validation_path", "");
  o.validation_fraction = s.get_double("validation_fraction", o.validation_fraction, 0.0, 0.9);
  o.cache_mb = s.get_int("cache_mb", o.cache_mb, 1);
  s.finish();
  return o;
}

Config load_train_config(const TrainArgs& args) {
  if (args.resume.empty()) return args.config.load();
  const std::string saved = args.resume + "/config.toml";
  PDS_CHECK(std::filesystem::exists(saved), "--resume " << args.resume << ": no config.toml there (expected a run "
                                                        "directory written by pdestream train)");
  ConfigOptions c = args.config;
  c.path = saved;
  Config config = c.load();
  config.apply_override("output.dir=\"" + args.resume + "\"");
  return config;
}

void run_online(const TrainArgs& args, Config config, MPI_Comm world) {
  online_training::OnlineJobSpec spec;
  OutputOptions out;
  collective_try(world, [&] {
    SectionReader o(config, "online");
    spec.online = online_training::OnlineOptions::from_section(o);
    o.finish();
    const auto sampling = read_sampling_options(config);
    spec.space = sampling.space;
    spec.sampler_kind = sampling.kind;
    spec.sampler_seed = sampling.seed;
    spec.ranks_per_sim = sampling.ranks_per_sim;
    spec.samples = sampling.samples;
    SectionReader t(config, "training");
    spec.training = online_training::TrainerOptions::from_section(t);
    t.finish();
    out = read_output_options(config, "train");
    // [data] names the offline twin's dataset; an online run only checks its keys.
    read_data_options(config, false);
  });
  spec.config = config;
  spec.run_dir = out.dir;
  spec.resume = !args.resume.empty();
  if (args.dry_run) {
    print0(world, "[train] online job: " + std::to_string(spec.online.trainer_ranks) + " trainer rank(s), " +
                      std::to_string(spec.samples) + " simulations of " + std::to_string(spec.ranks_per_sim) +
                      " rank(s) each, buffer " + spec.online.buffer.kind);
    return;
  }
  make_dir(out.dir, world);
  if (comm_rank(world) == 0 && args.resume.empty()) config.write(out.dir + "/config.toml");
  const auto summary = online_training::run_online_job(spec, world);
  if (comm_rank(world) != 0) return;
  std::ostringstream os;
  os.precision(4);
  os << "[train] online done in " << format_seconds(summary["wall_s"].get<double>()) << ": "
     << summary["sims_done"] << " simulations (" << summary["sims_failed"] << " failed), "
     << summary["examples_received"] << " examples received, " << summary["steps"] << " steps, validation relative L2 "
     << summary["validation_rel_l2"].get<double>() << "\n"
     << "[train] model " << out.dir << "/model.safetensors; summary " << out.dir << "/online_summary.json\n"
     << "[train] evaluate: pdestream evaluate --run " << out.dir << "   resume: mpirun -np "
     << comm_size(world) << " pdestream train --resume " << out.dir;
  print0(MPI_COMM_SELF, os.str());
}

void run_train(const TrainArgs& args, MPI_Comm world) {
  const int rank = comm_rank(world), size = comm_size(world);
  Config config;
  bool online = false;
  collective_try(world, [&] {
    config = load_train_config(args);
    SectionReader o(config, "online");
    online = o.get_bool("enabled", false);
    for (const auto& k : o.keys()) o.accept(k);
  });
  if (online) {
    run_online(args, config, world);
    return;
  }
  DataOptions data;
  OutputOptions out;
  online_training::TrainerOptions training;
  std::shared_ptr<online_training::TrajectoryStore> store, validation_store;
  std::shared_ptr<surrogates::Task> task;
  std::shared_ptr<surrogates::Surrogate> model;
  surrogates::ModelShape shape;
  std::vector<std::int64_t> train_ids, val_ids;
  collective_try(world, [&] {
    // The online twin's keys are checked even though an offline run does not use them.
    SectionReader o(config, "online");
    online_training::OnlineOptions::from_section(o);
    o.finish();
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
  auto* cmd = root.add_subcommand("train", "Train a surrogate: online from streaming simulations ([online] enabled) "
                                           "or offline from an HDF5 dataset ([data] path)");
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
