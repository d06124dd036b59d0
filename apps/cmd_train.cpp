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
#include "online_training/online_job.hpp"
#include "surrogates/registry.hpp"
#include "training/offline_job.hpp"
#include "training/trainer.hpp"

namespace pdestream::apps {

namespace {

struct TrainArgs {
  ConfigOptions config;
  bool dry_run = false;
  std::string resume;
};

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
    spec.training = training::TrainerOptions::from_section(t);
    t.finish();
    out = read_output_options(config, "train");
    // [data] names the offline twin's dataset; an online run only checks its keys.
    SectionReader d(config, "data");
    training::DataOptions::from_section(d, false);
    d.finish();
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
  training::OfflineJobSpec spec;
  collective_try(world, [&] {
    // The online twin's keys are checked even though an offline run does not use them.
    SectionReader o(config, "online");
    online_training::OnlineOptions::from_section(o);
    o.finish();
    SectionReader d(config, "data");
    spec.data = training::DataOptions::from_section(d);
    d.finish();
    spec.run_dir = read_output_options(config, "train").dir;
    SectionReader t(config, "training");
    spec.training = training::TrainerOptions::from_section(t);
    t.finish();
  });
  spec.config = config;
  spec.resume = !args.resume.empty();
  spec.dry_run = args.dry_run;
  const auto summary = training::run_offline_job(spec, world);
  if (args.dry_run) return;
  std::ostringstream os;
  os << "[train] done: step " << summary["steps"] << ", loss " << summary["loss"].get<double>();
  if (summary["validation_rel_l2"].get<double>() >= 0)
    os << ", validation relative L2 " << summary["validation_rel_l2"].get<double>();
  os << "; model " << spec.run_dir << "/model.safetensors";
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
