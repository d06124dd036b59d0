// pdestream dcdm-train: trains the DCDM network on a Poisson problem (issue 5; see
// linear_systems/dcdm_train.hpp for the method: Lanczos Ritz vectors, right-hand sides biased
// to the low end of the spectrum, the paper's unsupervised loss, Adam) and writes
// OUT/model.safetensors for `pdestream poisson -ksp_type dcdm -ksp_dcdm_model FILE`, with
// OUT/config.toml, OUT/metrics.jsonl and OUT/checkpoint.pt.
//
// Training runs on one rank (run it without mpirun, or with -np 1): the trained model then
// solves on any grid size and rank count.
//
// Sample runs:
//   pdestream dcdm-train --grid 16 16 16 --ritz 100 --samples 800 --epochs 10 --out runs/dcdm16
//   pdestream dcdm-train --grid 32 32 --bc neumann,x-=dirichlet --obstacle sphere --out runs/dcdm2d

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "apps/cli.hpp"
#include "core/error.hpp"
#include "linear_systems/dcdm_train.hpp"

namespace pdestream::apps {

namespace {

struct DcdmTrainArgs {
  std::vector<int> grid;
  int ritz = 100;
  int samples = 1000;
  int epochs = 10;
  int batch = 16;
  double lr = 1e-3;
  std::uint64_t seed = 0;
  std::string obstacle = "none";
  std::string bc = "dirichlet";
  int threads = 0;
  std::string out = "runs/dcdm-train";
};


void run_dcdm_train(const DcdmTrainArgs& args, MPI_Comm world) {
  linear_systems::DcdmTrainOptions o;
  collective_try(world, [&] {
    PDS_CHECK(comm_size(world) == 1, "dcdm-train runs on one rank; got " << comm_size(world)
                                         << " (run it without mpirun: the model then solves on any rank count)");
    o.problem.set_grid(args.grid);
    linear_systems::parse_obstacle(args.obstacle, o.problem.obstacle);
    o.problem.set_boundaries(args.bc);
    o.problem.seed = args.seed;
    o.ritz = args.ritz;
    o.samples = args.samples;
    o.epochs = args.epochs;
    o.batch = args.batch;
    o.lr = args.lr;
    o.seed = args.seed;
    o.threads = args.threads;
    o.out = args.out;
    o.validate();
  });
  linear_systems::DcdmTrainReport r;
  collective_try(world, [&] { r = linear_systems::train_dcdm(o, [&](const std::string& s) { print0(world, s); }); });
  char line[512];
  std::snprintf(line, sizeof line,
                "[dcdm-train] %lld steps in %s (Lanczos %s): loss %.4g (first step) -> %.4g (last epoch)\n"
                "[dcdm-train] wrote %s (%lld parameters), %s/metrics.jsonl, %s/checkpoint.pt",
                static_cast<long long>(r.steps), format_seconds(r.train_seconds).c_str(),
                format_seconds(r.lanczos_seconds).c_str(), r.first_loss, r.final_loss, r.model_path.c_str(),
                static_cast<long long>(r.net->num_parameters()), o.out.c_str(), o.out.c_str());
  print0(world, line);
}

}  // namespace

SubcommandRegistration add_dcdm_train(CLI::App& root) {
  auto args = std::make_shared<DcdmTrainArgs>();
  auto* cmd = root.add_subcommand(
      "dcdm-train", "Train the DCDM network on a Poisson problem (Lanczos Ritz vectors, unsupervised loss); writes "
                    "OUT/model.safetensors for -ksp_type dcdm -ksp_dcdm_model");
  cmd->add_option("--grid", args->grid, "Cells per axis NX NY [NZ] of the training problem (2D or 3D network)")
      ->expected(2, 3)
      ->required();
  cmd->add_option("--ritz", args->ritz, "Lanczos steps = Ritz vectors")->capture_default_str();
  cmd->add_option("--samples", args->samples, "Right-hand sides (random combinations of Ritz vectors)")
      ->capture_default_str();
  cmd->add_option("--epochs", args->epochs, "Passes over the right-hand sides")->capture_default_str();
  cmd->add_option("--batch", args->batch, "Batch size")->capture_default_str();
  cmd->add_option("--lr", args->lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of Lanczos' start, the coefficients, the network and shuffles")
      ->capture_default_str();
  cmd->add_option("--obstacle", args->obstacle,
                  "none | sphere | box | random-boxes[:COUNT] | FILE.npy (as pdestream poisson)")
      ->capture_default_str();
  cmd->add_option("--bc", args->bc, "dirichlet | neumann | SIDE=KIND,... (as pdestream poisson)")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "torch threads (0: torch's default)")->capture_default_str();
  cmd->add_option("--out", args->out, "Run directory (model.safetensors, metrics.jsonl, checkpoint.pt, config.toml)")
      ->capture_default_str();
  return {cmd, [args](MPI_Comm world) { run_dcdm_train(*args, world); }};
}

}  // namespace pdestream::apps
