#pragma once
// Evaluating a trained surrogate on whole trajectories: the model file is all it needs
// (architecture, task and normalisers travel in the .safetensors metadata).
//
//   field_at_time   every stored time predicted from (params, t)
//   operator        the target frame predicted from the input frame
//   autoregressive  a rollout from the first `history` frames over the horizon (every
//                   `stride`-th frame); the error is also reported per rollout step, and
//                   the high-correlation time per trajectory and of the mean curve
//   pointwise       every grid point of every frame, reassembled into frames

#include <mpi.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/grid.hpp"
#include "surrogates/normalizer.hpp"
#include "surrogates/surrogate.hpp"
#include "surrogates/tasks.hpp"
#include "training/dataset_source.hpp"

namespace pdestream::training {

struct LoadedSurrogate {
  std::shared_ptr<surrogates::Surrogate> model;
  std::shared_ptr<surrogates::Task> task;
  surrogates::UnitGaussianNormalizer input{nullptr}, target{nullptr};
  std::map<std::string, std::string> metadata;

  // Reads a model.safetensors written by the trainer; a file without the architecture or
  // task metadata is a clear error.
  static LoadedSurrogate from_file(const std::string& path);
  // Physical-unit predictions for raw inputs [B, ...] (and their cond [B, P], if any).
  torch::Tensor predict(const torch::Tensor& x, const torch::Tensor& cond = {}) const;
};

// What a trained model's file carries besides the model and its normalisers (which
// Trainer::save_model adds): "task" (its options, the bound condition included),
// "cond_normalizer" (Condition::normalizer_json, when the task has a condition) and
// "config" (the run's merged config). LoadedSurrogate::from_file reads it back.
std::map<std::string, std::string> model_file_metadata(const surrogates::Task& task, const Config& config);

struct TrajectoryEvaluation {
  std::vector<double> times;   // times of the predicted frames
  torch::Tensor prediction;    // [T, C, *spatial]
  torch::Tensor truth;         // [T, C, *spatial]
  double relative_l2 = 0;      // over the whole predicted trajectory
  std::vector<double> per_step;  // relative L2 of each predicted frame
  std::vector<double> params;  // the trajectory's PDE parameters
  double predict_seconds = 0;  // the model's wall time for the prediction
  // PDEBench's metrics, per predicted frame (see the functions below).
  std::vector<double> nrmse_per_step;        // nRMSE, mean over channels
  std::vector<double> rmse_per_step;         // RMSE, mean over channels
  std::vector<double> correlation_per_step;  // Pearson correlation over channels and space
  std::vector<double> conservation_sq;       // [C * T]: ((sum pred - sum truth) / points)^2
  double nrmse = 0;                          // mean of nrmse_per_step
  double rmse = 0;                           // mean of rmse_per_step
  double start_time = 0;                     // time of the last input frame (rollouts)
  // With noise samples (a stochastic model, evaluate --noise-samples S): the prediction is
  // the mean of S rollouts, and
  torch::Tensor spread;                      // their standard deviation [T, C, *spatial]
  std::vector<double> spread_per_step;       // RMS over space of the spread, mean over channels
  std::vector<double> sample_correlation;    // mean Pearson correlation of pairs of samples
};

// Metrics of one predicted trajectory against the truth, both [T, C, *spatial]:
//   nRMSE[t]  = mean over channels c of RMSE_space(pred - truth)[t, c] / RMS_space(truth)[t, c]
//               (PDEBench's normalised RMSE; averaged over trajectories it is theirs)
//   RMSE[t]   = mean over channels c of RMSE_space(pred - truth)[t, c] (PDEBench's RMSE: in
//               the field's units, so defined where a decayed true field makes nRMSE blow up)
//   corr[t]   = Pearson correlation of pred[t] and truth[t] over channels and space
//   cons[c,t] = ((sum_space pred - sum_space truth)[t, c] / points)^2; the cRMSE of a set is
//               the mean over (c, t) of sqrt(mean over trajectories of cons[c, t])
torch::Tensor nrmse_per_step(const torch::Tensor& pred, const torch::Tensor& truth);        // [T]
torch::Tensor rmse_per_step(const torch::Tensor& pred, const torch::Tensor& truth);         // [T]
torch::Tensor correlation_per_step(const torch::Tensor& pred, const torch::Tensor& truth);  // [T]
torch::Tensor conservation_sq(const torch::Tensor& pred, const torch::Tensor& truth);       // [C, T]

// The first predicted frame whose (mean) correlation falls below `threshold`: its index,
// or the number of frames if none does.
std::int64_t high_correlation_steps(const std::vector<double>& correlation, double threshold);

// Pearson correlation of two equally long series (0 when either is constant).
double pearson(const std::vector<double>& a, const std::vector<double>& b);

// A stochastic model (PDE-Refiner) draws its noise from (id, sample) alone, so a trajectory's
// rollouts do not depend on the ranks; noise_samples S >= 2 rolls out S samples and fills
// the spread fields (an autoregressive task and a stochastic model only).
TrajectoryEvaluation evaluate_trajectory(const LoadedSurrogate& surrogate, const surrogates::Trajectory& trajectory,
                                         std::int64_t id = 0, int noise_samples = 0);

// `pdestream evaluate`: a run's model on a dataset, every rank taking every size-th
// trajectory.
struct EvaluationSpec {
  std::string run;                // run directory: model.safetensors and config.toml
  std::vector<std::string> sets;  // overrides of the run's config (they can change the split)
  std::string data;               // dataset to evaluate; "": the trajectories the run held out
  int samples = 0;                // only the first N (0: all)
  std::string paraview;           // <c>_pred, <c>, <c>_error per channel, first paraview_samples
  int paraview_samples = 2;
  std::string png;                // prediction | truth | error PNGs (2D), first png_samples
  int png_samples = 3;
  std::string out;                // predictions as an HDF5 dataset in the same layout
  NamedValues params;             // --param name=value: values the data does not hold
  // Rollouts per trajectory from different noise seeds (stochastic models): the prediction
  // is their mean; their standard deviation goes beside it (<c>_std in ParaView, <out>_std.h5)
  // and evaluation.json's "uncertainty" says how well it predicts the error.
  int noise_samples = 0;
  double spread_threshold = 0.8;  // the samples' mutual correlation that ends the trusted horizon
  // Pointwise models of a config with [solver] receivers: the receivers' impulse responses,
  // predicted and simulated, as CSV into `receivers` ("": <run>/receivers) and, with `wav`,
  // as WAV files (each also convolved with a dry test signal).
  std::string receivers;
  std::string wav;
};
// Collective over `comm`. Writes the requested outputs and <run>/evaluation.json; returns
// that JSON plus "report" (the human summary, one line per file written) on rank 0, an
// empty object elsewhere.
nlohmann::json evaluate_dataset(const EvaluationSpec& spec, MPI_Comm comm);

}  // namespace pdestream::training
