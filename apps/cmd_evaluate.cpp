// pdestream evaluate: a trained model against stored trajectories.
//
// Sample runs:
//   pdestream evaluate --run runs/heat2d_fno
//   pdestream evaluate --run runs/heat2d_fno --data runs/heat2d.h5 --paraview runs/eval-pv --out runs/pred.h5
//   mpirun -np 2 pdestream evaluate --run runs/heat2d_fno --samples 4
//   pdestream evaluate --run runs/heat2d_fno --set data.validation_fraction=0.5
//   pdestream evaluate --run runs/demo --data runs/demo/validation.h5 --paraview runs/demo/paraview \
//     --png runs/demo/png
//   mpirun -np 2 pdestream evaluate --run runs/heat2d_fno --png runs/eval-png --png-samples 4
//   pdestream evaluate --run runs/advection_fno --data 1D_Advection_Sols_beta0.4.hdf5 --param beta=0.4
//   pdestream evaluate --run runs/ks_refiner --data runs/ks_test.h5 --noise-samples 8 --out runs/ks_pred.h5
//   pdestream evaluate --run runs/acoustic_cube_deeponet --data runs/acoustic_test.h5 --wav runs/acoustic_wav
//
// Without --data it uses the run's held-out trajectories: the config's [data] split, or for
// an online run its validation simulations (<run>/validation.h5 or [online] validation_path).
// Reports per-sample relative L2 (mean, median, worst) and, for autoregressive tasks, the
// error against rollout step. --paraview writes <c>_pred, <c>, <c>_error per channel for
// the first --paraview-samples samples; --out writes the predictions as an HDF5 dataset.
// --png writes sample<id>.png for the first --png-samples samples, one row per shown time
// (early, middle and final predicted times for field_at_time and autoregressive tasks, the
// target for operator tasks). 2D fields (and the middle z-plane of 3D ones): prediction |
// truth | error for each channel, each panel with its title (channel, time), axes in the
// grid's units and a colour bar; prediction and truth of a row share a viridis range, the
// error has its own range symmetric around 0 (blue-white-red). 1D fields: prediction
// against truth, then the error, against x. The ranges are also printed, one line per file. --param name=value gives a parameter value the data does not hold
// (PDEBench's files name theirs only in the file name), for a model conditioned on it.
// Autoregressive tasks also report the high-correlation time (how long the rollout's Pearson
// correlation with the truth stays above 0.8, 0.9, 0.95), of the mean curve and per
// trajectory. A model that steps `stride` frames rolls out over every stride-th frame.
// --noise-samples S (a stochastic model: pde_refiner) rolls out S samples from different
// noise seeds: the prediction is their mean, their standard deviation goes beside it (<c>_std
// in ParaView, <out>_std.h5), and the report compares where the samples stop agreeing with
// each other (mutual correlation below --spread-threshold) with where the truth says the
// rollout fails, and how the spread follows the error step by step.
// A pointwise model (DeepONet) trained from a config with [solver] receivers also predicts
// the receivers' impulse responses at every stored time: <run>/receivers/sample<id>_predicted.csv
// and _simulated.csv (the stored field interpolated there; the format of simulate's
// receivers.csv), their RMSE, the model's time per response and per full-field frame, and with
// --wav DIR the responses as WAV files at the frame rate, alone and convolved with a dry signal.

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "apps/cli.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "training/evaluation.hpp"

namespace pdestream::apps {

namespace {

void run_evaluate(training::EvaluationSpec spec, const std::vector<std::string>& params, MPI_Comm world) {
  for (const auto& text : params) {
    const auto [name, value] = split_assignment(text);
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    PDS_CHECK(used == value.size() && used > 0 && std::isfinite(x),
              "--param " << text << ": expected name=number, got \"" << value << "\" as the value");
    spec.params.emplace_back(name, x);
  }
  const auto result = training::evaluate_dataset(spec, world);
  if (comm_rank(world) == 0) print0(MPI_COMM_SELF, result["report"].get<std::string>());
}

}  // namespace

SubcommandRegistration add_evaluate(CLI::App& root) {
  auto args = std::make_shared<training::EvaluationSpec>();
  auto params = std::make_shared<std::vector<std::string>>();
  auto* cmd = root.add_subcommand("evaluate", "Evaluate a trained model on stored trajectories");
  cmd->add_option("--run", args->run, "Run directory written by pdestream train")->required();
  cmd->add_option("--data", args->data, "HDF5 dataset (default: the run's held-out trajectories)");
  cmd->add_option("--paraview", args->paraview, "Write prediction, truth and error fields here");
  cmd->add_option("--paraview-samples", args->paraview_samples, "How many samples to write to ParaView")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--png", args->png, "Write PNG figures of prediction, truth and error here (1D line plots; 2D fields, 3D mid-planes)");
  cmd->add_option("--png-samples", args->png_samples, "How many samples to write as PNG (default 3)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", args->out, "Write the predictions as an HDF5 dataset");
  cmd->add_option("--samples", args->samples, "Evaluate at most this many trajectories")->check(CLI::NonNegativeNumber);
  cmd->add_option("--noise-samples", args->noise_samples,
                  "Stochastic models (pde_refiner): roll out S samples per trajectory; predict their mean, write "
                  "their standard deviation and report how well it predicts the error")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--spread-threshold", args->spread_threshold,
                  "The samples' mutual correlation below which a rollout is no longer trusted")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--receivers", args->receivers,
                  "Pointwise models with [solver] receivers: write the predicted and simulated responses here "
                  "(default <run>/receivers)");
  cmd->add_option("--wav", args->wav,
                  "Also write the receivers' responses as WAV files here, alone and convolved with a dry signal");
  cmd->add_option("--set", args->sets, "Override a key of the run's config: section.key=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--param", *params, "A parameter value the data lacks: name=value (repeatable)")
      ->allow_extra_args(false);
  return {cmd, [args, params](MPI_Comm world) { run_evaluate(*args, *params, world); }};
}

}  // namespace pdestream::apps
