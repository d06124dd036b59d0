#pragma once
// One online-training job: the job's ranks split into trainer ranks and simulation groups
// (online_options.hpp), simulations stream into the trainers' buffers (client.hpp,
// server.hpp), and the one Trainer trains from them (stream_source.hpp).
//
// Run directory: config.toml, metrics.jsonl (the trainer's lines plus buffer, stream and
// simulation fields), checkpoint.pt with online_state_<step>.json and
// buffer_<rank>_<step>.pt beside it, model.safetensors, online_summary.json.

#include <mpi.h>
#include <nlohmann/json.hpp>

#include <string>

#include "core/config.hpp"
#include "core/parameter_space.hpp"
#include "online_training/online_options.hpp"
#include "training/trainer.hpp"

namespace pdestream::online_training {

struct OnlineJobSpec {
  Config config;  // the merged config (model, task, solver sections are read from it)
  ParameterSpace space;
  std::string sampler_kind = "lhs";
  std::uint64_t sampler_seed = 0;
  int ranks_per_sim = 1;
  std::int64_t samples = 0;  // the sample budget: training simulations
  OnlineOptions online;
  training::TrainerOptions training;
  std::string run_dir;
  bool resume = false;
};

// Collective over `world`. Returns the job's summary on world rank 0 (an empty object on
// the other ranks).
nlohmann::json run_online_job(const OnlineJobSpec& spec, MPI_Comm world);

}  // namespace pdestream::online_training
