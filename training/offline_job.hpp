#pragma once
// Offline training: a surrogate trained from an HDF5 dataset (written by `pdestream
// generate`, or any file in PDEBench's layout), and the one rule that decides which of a
// run's trajectories are held out, used by `train` and by `evaluate` alike.
//
//   [data]
//   path = "runs/heat2d.h5"
//   paths = ["b0.1.h5", "b0.4.h5"]  # or several files as one dataset (same grid, channels,
//   params = [{ beta = 0.1 }, { beta = 0.4 }]  # times, parameters), each with its own params
//   validation_path = ""          # held-out trajectories from another file (all of path trains)
//   validation_fraction = 0.1     # otherwise the last ceil(f N) trajectories of each file (0: none)
//   cache_mb = 512                # trajectories kept in memory per rank
//   shuffle_window = 0            # shuffle W trajectories' examples at a time (each read once
//                                 # per epoch; W must fit cache_mb), 0: all at once
//   params = { beta = 0.4 }       # parameter values the file does not hold (PDEBench's
//                                 # files carry theirs only in the file name)
//   validation_params = { beta = 0.4 }  # the same for validation_path (default: params)
//
// Sample use (what `pdestream train --config heat2d_fno.toml` does):
//   training::OfflineJobSpec spec;
//   spec.config = config;  spec.data = DataOptions::from_section(data_section);
//   spec.training = TrainerOptions::from_section(training_section);  spec.run_dir = "runs/x";
//   const auto summary = training::run_offline_job(spec, MPI_COMM_WORLD);

#include <mpi.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "training/dataset_source.hpp"
#include "training/trainer.hpp"

namespace pdestream::training {

struct DataOptions {
  std::string path;
  std::vector<std::string> paths;        // instead of path: several files as one dataset
  std::vector<NamedValues> path_params;  // one per file of paths (or empty)
  std::string validation_path;
  double validation_fraction = 0.1;
  std::int64_t cache_mb = 512;
  std::int64_t shuffle_window = 0;
  NamedValues params, validation_params;

  // `path_required`: an online run's [data] (the offline twin's file) may leave it out.
  static DataOptions from_section(SectionReader& section, bool path_required = true);
  // path or paths, each with its parameter values.
  std::vector<TrajectoryStore::File> files() const;
};

// Which trajectories train and which are held out. `validation` is null when none are.
struct DataSplit {
  std::shared_ptr<TrajectoryStore> train, validation;
  std::vector<std::int64_t> train_ids, validation_ids;
};
DataSplit split_dataset(const DataOptions& data);

struct OfflineJobSpec {
  Config config;  // the merged config: [model] and [task] are read from it
  DataOptions data;
  TrainerOptions training;
  std::string run_dir;
  bool resume = false;   // continue from run_dir/checkpoint.pt (an error if there is none)
  bool dry_run = false;  // print the architecture and the split, then stop
};

// Collective over `comm`: train, checkpoint, save run_dir/model.safetensors. Returns the
// summary ({"steps", "loss", "validation_rel_l2" (-1 without held-out data)}) on every rank.
nlohmann::json run_offline_job(const OfflineJobSpec& spec, MPI_Comm comm);

// The trajectories a run held out, as its `train` held them out: an online run's validation
// set ([online] validation_path, else <run>/validation.h5), or its [data] split. An error
// names the run when it held none out.
struct HeldOut {
  std::shared_ptr<TrajectoryStore> store;
  std::vector<std::int64_t> ids;
};
// `extra` (evaluate --param) sets parameter values the held-out file lacks, overriding the
// run's [data] params by name.
HeldOut held_out_of_run(const std::string& run_dir, const Config& config, const NamedValues& extra = {});

// Binds a task to a store: the store reads at the task's resolution, then Task::bind: its
// condition to the parameter names, a min-max
// range not given taken from trajectories `ids` (the training set; none: ranges must be
// in the task already), a pointwise task to the grid and times.
void bind_task(surrogates::Task& task, TrajectoryStore& store, const std::vector<std::int64_t>& ids);

}  // namespace pdestream::training
