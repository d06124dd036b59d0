#include "training/evaluation.hpp"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/random.hpp"
#include "core/runtime.hpp"
#include "io/hdf5_dataset.hpp"
#include "io/figures.hpp"
#include "io/paraview.hpp"
#include "surrogates/field_tensor.hpp"
#include "surrogates/model_file.hpp"
#include "surrogates/registry.hpp"
#include "training/dataset_source.hpp"
#include "training/offline_job.hpp"
#include "training/receivers.hpp"
#include "training/trainer.hpp"

namespace pdestream::training {

namespace {

// A tensor's values in float64, flattened.
std::vector<double> as_doubles(const torch::Tensor& t) {
  auto d = t.contiguous().to(torch::kFloat64).flatten();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

// The predicted frames a PNG shows: early, middle and final (distinct); the initial state
// of a field_at_time trajectory is skipped when there are enough later frames.
std::vector<std::size_t> png_frames(std::size_t frames, const std::string& task) {
  if (frames == 0) return {};
  const std::size_t first = task == "field_at_time" && frames >= 4 ? 1 : 0, last = frames - 1;
  std::vector<std::size_t> picks = {first, (first + last) / 2, last};
  picks.erase(std::unique(picks.begin(), picks.end()), picks.end());
  return picks;
}

// The axes of a figure of fields on `grid` with `n` points along x and y (a model may
// predict on a subsampled grid: the physical extent is the same).
io::FieldAxes figure_axes(const Grid& grid) {
  io::FieldAxes axes;
  axes.x_first = grid.coordinate(0, 0);
  axes.x_last = grid.coordinate(0, grid.shape[0] - 1);
  axes.y_first = grid.dim > 1 ? grid.coordinate(1, 0) : 0.0;
  axes.y_last = grid.dim > 1 ? grid.coordinate(1, grid.shape[1] - 1) : 1.0;
  return axes;
}

std::string time_text(double t) {
  std::ostringstream os;
  os.precision(4);
  os << "t = " << t;
  return os.str();
}

// A PNG of the chosen frames of one sample, one row per frame: for 2D fields (and the middle
// z-plane of 3D ones) prediction | truth | error per channel, for 1D fields prediction and
// truth against x, then the error. Returns the line that reports it (file and colour ranges).
std::string write_sample_png(const std::string& dir, std::int64_t id, const TrajectoryEvaluation& e,
                             const std::vector<std::string>& channels, const std::string& task,
                             const Grid& grid) {
  const auto frames = png_frames(e.times.size(), task);
  const std::string path = dir + "/sample" + std::to_string(id) + ".png";
  std::ostringstream os;
  os.precision(3);
  os << "  " << path << ":";
  if (grid.dim == 1) {
    const auto nx = e.prediction.size(2);
    const io::FieldAxes axes = figure_axes(grid);
    std::vector<double> x(nx);
    for (std::int64_t i = 0; i < nx; ++i) x[i] = axes.x_first + (axes.x_last - axes.x_first) * i / std::max<std::int64_t>(nx - 1, 1);
    std::vector<std::vector<io::LinePanel>> rows;
    for (auto f : frames) {
      std::vector<io::LinePanel> row;
      for (std::size_t c = 0; c < channels.size(); ++c) {
        const auto pred = as_doubles(e.prediction[f][c]), truth = as_doubles(e.truth[f][c]);
        std::vector<double> error(pred.size());
        for (std::size_t i = 0; i < pred.size(); ++i) error[i] = pred[i] - truth[i];
        const std::string when = ", " + time_text(e.times[f]);
        row.push_back({channels[c] + when, "x", channels[c], false,
                       {{"truth", x, truth, false}, {"prediction", x, pred, true}}});
        row.push_back({channels[c] + " error" + when, "x", channels[c] + " prediction - truth", false,
                       {{"", x, error, false}}});
      }
      rows.push_back(std::move(row));
      os << (rows.size() > 1 ? " |" : "") << " " << time_text(e.times[f]);
    }
    io::write_line_figure(path, rows);
    return os.str();
  }
  const int nx = static_cast<int>(e.prediction.size(2)), ny = static_cast<int>(e.prediction.size(3));
  const bool slice = grid.dim == 3;
  const std::int64_t mid = slice ? e.prediction.size(4) / 2 : 0;
  std::string plane;
  if (slice) {
    std::ostringstream z;
    z.precision(3);
    z << ", z = " << grid.coordinate(2, static_cast<int>(mid * (grid.shape[2] - 1) / std::max<std::int64_t>(e.prediction.size(4) - 1, 1)));
    plane = z.str();
  }
  const auto frame_of = [&](const torch::Tensor& t, std::size_t f, std::size_t c) {
    return as_doubles(slice ? t[f][c].select(2, mid) : t[f][c]);
  };
  std::vector<std::vector<io::FieldPanel>> rows;
  int group = 0;
  for (auto f : frames) {
    std::vector<io::FieldPanel> row;
    for (std::size_t c = 0; c < channels.size(); ++c) {
      auto panels = io::comparison_panels(frame_of(e.prediction, f, c), frame_of(e.truth, f, c), nx, ny, channels[c],
                                          group++, ", " + time_text(e.times[f]) + plane);
      row.insert(row.end(), panels.begin(), panels.end());
    }
    rows.push_back(std::move(row));
  }
  const auto ranges = io::write_field_figure(path, rows, figure_axes(grid));
  std::size_t r = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    os << (i ? " |" : "") << " " << time_text(e.times[frames[i]]);
    for (std::size_t c = 0; c < channels.size(); ++c, r += 3)
      os << " " << channels[c] << " [" << ranges[r].low << ", " << ranges[r].high << "] error +-" << ranges[r + 2].high;
  }
  return os.str();
}

// Rank 0 gets every rank's text, in rank order (other ranks get an empty vector).
std::vector<std::string> gather_text(MPI_Comm comm, const std::string& text) {
  const int rank = comm_rank(comm), size = comm_size(comm);
  int length = static_cast<int>(text.size());
  std::vector<int> lengths(size), offsets(size, 0);
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm);
  for (int i = 1; i < size; ++i) offsets[i] = offsets[i - 1] + lengths[i - 1];
  std::string all(rank == 0 ? static_cast<std::size_t>(offsets[size - 1] + lengths[size - 1]) : 0, '\0');
  MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0, comm);
  std::vector<std::string> out;
  if (rank == 0)
    for (int i = 0; i < size; ++i) out.push_back(all.substr(offsets[i], lengths[i]));
  return out;
}

// sum += v, growing sum to v's length.
void add_to(std::vector<double>& sum, const std::vector<double>& v) {
  if (sum.size() < v.size()) sum.resize(v.size(), 0.0);
  for (std::size_t i = 0; i < v.size(); ++i) sum[i] += v[i];
}

// Sums a per-rank curve over ranks (ranks that evaluated nothing have an empty one).
void sum_over_ranks(std::vector<double>& curve, MPI_Comm comm) {
  int length = static_cast<int>(curve.size());
  MPI_Allreduce(MPI_IN_PLACE, &length, 1, MPI_INT, MPI_MAX, comm);
  curve.resize(static_cast<std::size_t>(length), 0.0);
  MPI_Allreduce(MPI_IN_PLACE, curve.data(), length, MPI_DOUBLE, MPI_SUM, comm);
}

// The errors by parameter value: by distinct value when a parameter repeats and takes at
// most 8 values, else in 5 equal-width bins over its range, so seen and unseen values can
// be compared.
nlohmann::json breakdown(const std::vector<std::string>& names, const std::vector<double>& params,
                         const std::vector<double>& errors, const std::vector<double>& nrmses,
                         const std::vector<double>& rmses) {
  nlohmann::json out = nlohmann::json::object();
  const std::size_t n = errors.size(), p = names.size();
  if (p == 0 || n == 0) return out;
  for (std::size_t j = 0; j < p; ++j) {
    std::vector<double> values(n);
    for (std::size_t k = 0; k < n; ++k) values[k] = params[k * p + j];
    std::vector<double> distinct = values;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    // A parameter that repeats (PDEBench's beta = 0.1, 0.4, ...) is listed by value; one
    // that varies continuously (every trajectory its own value) in bins.
    const bool by_value = distinct.size() == 1 || (distinct.size() <= 8 && distinct.size() < n);
    const std::size_t groups = by_value ? distinct.size() : 5;
    const double lo = distinct.front(), hi = distinct.back();
    std::vector<double> err(groups, 0.0), nrm(groups, 0.0), rms(groups, 0.0);
    std::vector<std::int64_t> count(groups, 0);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t g =
          by_value ? static_cast<std::size_t>(std::lower_bound(distinct.begin(), distinct.end(), values[k]) - distinct.begin())
                   : std::min<std::size_t>(groups - 1, static_cast<std::size_t>((values[k] - lo) / (hi - lo) * groups));
      err[g] += errors[k];
      nrm[g] += nrmses[k];
      rms[g] += rmses[k];
      ++count[g];
    }
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t g = 0; g < groups; ++g) {
      if (count[g] == 0) continue;
      nlohmann::json entry = {{"count", count[g]},
                              {"relative_l2", err[g] / static_cast<double>(count[g])},
                              {"nrmse", nrm[g] / static_cast<double>(count[g])},
                              {"rmse", rms[g] / static_cast<double>(count[g])}};
      if (by_value) {
        entry["value"] = distinct[g];
      } else {
        entry["low"] = lo + (hi - lo) * static_cast<double>(g) / static_cast<double>(groups);
        entry["high"] = lo + (hi - lo) * static_cast<double>(g + 1) / static_cast<double>(groups);
      }
      list.push_back(entry);
    }
    out[names[j]] = list;
  }
  return out;
}


// The spread of S sampled rollouts [S, T, C, *spatial]: their standard deviation, its RMS per
// step, and how well the samples still agree with each other (mean pairwise correlation).
double mean_value(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x / static_cast<double>(v.size());
  return v.empty() ? 0.0 : m;
}

// <out>.h5 -> <out>_std.h5: where the samples' standard deviation goes.
std::string spread_path(const std::string& out) {
  const auto dot = out.rfind('.');
  const auto slash = out.rfind('/');
  const bool ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return (ext ? out.substr(0, dot) : out) + "_std" + (ext ? out.substr(dot) : std::string(".h5"));
}

void sample_statistics(const torch::Tensor& samples, TrajectoryEvaluation& e) {
  e.spread = samples.std(0);
  e.spread_per_step = as_doubles(e.spread.to(torch::kFloat64).flatten(2).pow(2).mean(2).sqrt().mean(1));
  torch::Tensor sum;
  std::int64_t pairs = 0;
  for (std::int64_t a = 0; a < samples.size(0); ++a)
    for (std::int64_t b = a + 1; b < samples.size(0); ++b, ++pairs) {
      auto c = correlation_per_step(samples[a], samples[b]);
      sum = sum.defined() ? sum + c : c;
    }
  e.sample_correlation = as_doubles(sum / static_cast<double>(pairs));
}

}  // namespace

std::map<std::string, std::string> model_file_metadata(const surrogates::Task& task, const Config& config) {
  std::map<std::string, std::string> metadata = {{"task", task.options_json().dump()}, {"config", config.to_toml()}};
  if (!task.condition().empty()) metadata["cond_normalizer"] = task.condition().normalizer_json().dump();
  return metadata;
}

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

torch::Tensor LoadedSurrogate::predict(const torch::Tensor& x, const torch::Tensor& cond) const {
  torch::NoGradGuard no_grad;
  auto pred = model->infer(input ? input->encode(x) : x, cond);
  return target ? target->decode(pred) : pred;
}

TrajectoryEvaluation evaluate_trajectory(const LoadedSurrogate& s, const surrogates::Trajectory& trajectory,
                                         std::int64_t id, int noise_samples) {
  torch::NoGradGuard no_grad;
  trajectory.validate();
  const auto options = s.task->options_json();
  const std::string kind = s.task->kind();
  // A model that steps `stride` frames rolls out over frames 0, stride, 2 stride, ...
  const auto stride = options.value("stride", std::int64_t(1));
  const auto traj = stride > 1 ? surrogates::Resolution{1, stride}.apply(trajectory) : trajectory;
  const auto shape = surrogates::TrajectoryShape::of(traj);
  TrajectoryEvaluation e;
  std::vector<std::int64_t> frame_sizes = {shape.channels};
  frame_sizes.insert(frame_sizes.end(), shape.spatial.begin(), shape.spatial.end());

  if (kind == "autoregressive") {
    const auto k = options.at("history").get<std::int64_t>();
    const auto horizon = options.at("horizon").get<std::int64_t>();
    const auto steps = horizon > 0 ? std::min(horizon, shape.num_times - k) : shape.num_times - k;
    PDS_CHECK(steps > 0, "autoregressive evaluation needs more than " << k << " frames, got " << shape.num_times);
    PDS_CHECK(noise_samples <= 1 || s.model->stochastic(),
              "--noise-samples " << noise_samples << ": expected a stochastic model (pde_refiner), got "
                                 << s.model->kind() << ", whose rollouts are all the same");
    const std::int64_t draws = std::max(1, noise_samples);
    std::vector<std::uint64_t> seeds;
    for (std::int64_t d = 0; d < draws; ++d)
      seeds.push_back(splitmix64(splitmix64(static_cast<std::uint64_t>(id)) ^ static_cast<std::uint64_t>(d)));
    s.model->set_noise_seeds(seeds);
    auto initial = traj.frames.narrow(0, 0, k).unsqueeze(0);
    auto sizes = initial.sizes().vec();
    sizes[0] = draws;
    initial = initial.expand(sizes).contiguous();
    auto cond = s.task->condition_vector(traj);
    const auto samples = surrogates::rollout(*s.model, initial, steps, s.input ? s.input.get() : nullptr,
                                             s.target ? s.target.get() : nullptr,
                                             cond.defined() ? cond.unsqueeze(0).expand({draws, -1}) : cond);
    s.model->set_noise_seeds({});
    e.prediction = samples.mean(0);
    e.truth = traj.frames.narrow(0, k, steps);
    e.times.assign(traj.times.begin() + k, traj.times.begin() + k + steps);
    e.start_time = traj.times[k - 1];
    if (draws > 1) sample_statistics(samples, e);
  } else if (kind == "pointwise") {
    // Every grid point at every frame, predicted in chunks, reassembled into frames.
    std::int64_t frames = 0;
    auto all = surrogates::pointwise_all_points(*s.task, traj, &frames);
    const std::int64_t chunk = 1 << 16, total = all.input.size(1);
    std::vector<torch::Tensor> parts;
    const auto start = std::chrono::steady_clock::now();
    for (std::int64_t p = 0; p < total; p += chunk) {
      const auto m = std::min(chunk, total - p);
      parts.push_back(s.predict(all.input.narrow(1, p, m).unsqueeze(0),
                                all.cond.defined() ? all.cond.unsqueeze(0) : all.cond)[0]);
    }
    auto to_frames = [&](const torch::Tensor& points) {  // [C, F N] -> [F, C, *spatial]
      std::vector<std::int64_t> sizes = {frames};
      sizes.insert(sizes.end(), frame_sizes.begin(), frame_sizes.end());
      return points.reshape({shape.channels, frames, -1}).permute({1, 0, 2}).reshape(sizes).contiguous();
    };
    e.prediction = to_frames(torch::cat(parts, 1));
    e.predict_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    e.truth = to_frames(all.target);
    e.times.assign(traj.times.end() - frames, traj.times.end());
  } else {
    const auto n = s.task->num_examples(shape);
    std::vector<surrogates::Example> examples;
    for (std::int64_t i = 0; i < n; ++i) examples.push_back(s.task->example(traj, i));
    auto batch = surrogates::collate(examples);
    std::vector<std::int64_t> sizes = {n};
    sizes.insert(sizes.end(), frame_sizes.begin(), frame_sizes.end());
    e.prediction = s.predict(batch.input, batch.cond).reshape(sizes);
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
  e.per_step = as_doubles(relative_l2(e.prediction, e.truth));
  e.params = traj.params;
  const auto nrmse = nrmse_per_step(e.prediction, e.truth);
  e.nrmse_per_step = as_doubles(nrmse);
  e.nrmse = nrmse.mean().item<double>();
  const auto rmse = rmse_per_step(e.prediction, e.truth);
  e.rmse_per_step = as_doubles(rmse);
  e.rmse = rmse.mean().item<double>();
  e.correlation_per_step = as_doubles(correlation_per_step(e.prediction, e.truth));
  e.conservation_sq = as_doubles(conservation_sq(e.prediction, e.truth));
  return e;
}

namespace {
// [T, C, *spatial] -> [T, C, points] in float64, so sums over large grids keep their digits.
torch::Tensor points(const torch::Tensor& frames) {
  PDS_CHECK(frames.dim() >= 3, "metrics need [T, C, *spatial] frames, got " << surrogates::shape_str(frames));
  return frames.to(torch::kFloat64).flatten(2);
}
}  // namespace

torch::Tensor nrmse_per_step(const torch::Tensor& pred, const torch::Tensor& truth) {
  PDS_CHECK(pred.sizes() == truth.sizes(), "nRMSE needs equal shapes, got " << surrogates::shape_str(pred) << " and "
                                                                            << surrogates::shape_str(truth));
  const auto p = points(pred), y = points(truth);
  const auto err = (p - y).pow(2).mean(2).sqrt();
  const auto norm = y.pow(2).mean(2).sqrt();
  // An all-zero true field: its error is then absolute, as for the relative L2.
  return (err / torch::where(norm > 0, norm, torch::ones_like(norm))).mean(1);
}

torch::Tensor rmse_per_step(const torch::Tensor& pred, const torch::Tensor& truth) {
  PDS_CHECK(pred.sizes() == truth.sizes(), "RMSE needs equal shapes, got " << surrogates::shape_str(pred) << " and "
                                                                           << surrogates::shape_str(truth));
  return (points(pred) - points(truth)).pow(2).mean(2).sqrt().mean(1);
}

torch::Tensor correlation_per_step(const torch::Tensor& pred, const torch::Tensor& truth) {
  PDS_CHECK(pred.sizes() == truth.sizes(), "correlation needs equal shapes, got " << surrogates::shape_str(pred)
                                                                                  << " and " << surrogates::shape_str(truth));
  auto p = points(pred).flatten(1), y = points(truth).flatten(1);
  p = p - p.mean(1, true);
  y = y - y.mean(1, true);
  const auto denom = (p.pow(2).sum(1) * y.pow(2).sum(1)).sqrt();
  // Two constant fields correlate perfectly only if they are equal.
  const auto equal = ((points(pred) - points(truth)).abs().flatten(1).amax(1) == 0).to(torch::kFloat64);
  return torch::where(denom > 0, (p * y).sum(1) / denom.clamp_min(1e-300), equal);
}

torch::Tensor conservation_sq(const torch::Tensor& pred, const torch::Tensor& truth) {
  PDS_CHECK(pred.sizes() == truth.sizes(), "cRMSE needs equal shapes, got " << surrogates::shape_str(pred) << " and "
                                                                            << surrogates::shape_str(truth));
  const auto p = points(pred), y = points(truth);
  const double n = static_cast<double>(p.size(2));
  return ((p.sum(2) - y.sum(2)) / n).pow(2).transpose(0, 1).contiguous();
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  PDS_CHECK(a.size() == b.size(), "pearson: expected equally long series, got " << a.size() << " and " << b.size());
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a[i] / n, mb += b[i] / n;
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) * (a[i] - ma);
    bb += (b[i] - mb) * (b[i] - mb);
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

std::int64_t high_correlation_steps(const std::vector<double>& correlation, double threshold) {
  for (std::size_t t = 0; t < correlation.size(); ++t)
    if (!(correlation[t] >= threshold)) return static_cast<std::int64_t>(t);
  return static_cast<std::int64_t>(correlation.size());
}


nlohmann::json evaluate_dataset(const EvaluationSpec& args, MPI_Comm world) {
  const int rank = comm_rank(world), size = comm_size(world);
  LoadedSurrogate surrogate;
  std::shared_ptr<TrajectoryStore> store;
  std::vector<std::int64_t> ids;
  Receivers receivers;
  std::string receiver_dir;
  collective_try(world, [&] {
    const std::string model_path = args.run + "/model.safetensors";
    PDS_CHECK(std::filesystem::exists(model_path), "--run " << args.run << ": no model.safetensors there (expected a "
                                                                            "run directory written by pdestream train)");
    surrogate = LoadedSurrogate::from_file(model_path);
    if (args.data.empty()) {
      // The trajectories `train` held out, by the same rule.
      Config config = Config::load(args.run + "/config.toml");
      config.apply_overrides(args.sets);
      auto held = held_out_of_run(args.run, config, args.params);
      store = held.store;
      ids = held.ids;
    } else {
      store = std::make_shared<TrajectoryStore>(args.data, std::size_t(512) << 20, args.params);
      for (std::int64_t i = 0; i < store->size(); ++i) ids.push_back(i);
    }
    // The model file holds the condition's ranges and a pointwise task's scaling: only the
    // names and the grid are looked up here.
    bind_task(*surrogate.task, *store, {});
    if (args.samples > 0 && static_cast<std::size_t>(args.samples) < ids.size()) ids.resize(args.samples);
    if (surrogate.task->kind() == "pointwise") {
      Config config = Config::parse(surrogate.metadata.count("config") ? surrogate.metadata.at("config") : "",
                                    args.run + "/model.safetensors (config)");
      config.apply_overrides(args.sets);
      receivers = receivers_of_config(config, store->layout().grid);
    }
    PDS_CHECK(args.wav.empty() || !receivers.empty(),
              "--wav: expected a pointwise model trained from a config with [solver] receivers, got "
                  << surrogate.model->kind() << " / " << surrogate.task->kind()
                  << (surrogate.task->kind() == "pointwise" ? " without receivers" : ""));
    receiver_dir = args.receivers.empty() ? args.run + "/receivers" : args.receivers;
    if (!receivers.empty()) std::filesystem::create_directories(receiver_dir);
    if (!args.wav.empty()) std::filesystem::create_directories(args.wav);
  });
  const auto& layout = store->layout();
  const auto n = static_cast<std::int64_t>(ids.size());

  // Every rank evaluates samples rank, rank + size, ...; rounds keep collective writes in step.
  std::vector<double> errors(n, 0.0), nrmses(n, 0.0), rmses(n, 0.0);
  // Per trajectory: the high-correlation time at each threshold (rollouts), and with noise
  // samples the horizon the truth gives, the one the spread gives, and their agreement.
  const std::vector<double> thresholds = {0.8, 0.9, 0.95};
  std::vector<double> high_times(thresholds.size() * n, 0.0);
  std::vector<double> true_horizon(n, 0.0), spread_horizon(n, 0.0), spread_error(n, 0.0);
  std::vector<double> spread_sum, sample_corr_sum;
  const bool rollout_task = surrogate.task->kind() == "autoregressive";
  const bool sampled = args.noise_samples > 1;
  const auto& param_names = store->param_names();
  const auto num_params = param_names.size();
  std::vector<double> params(static_cast<std::size_t>(n) * num_params, 0.0);
  // Sums over this rank's trajectories, per predicted frame (and channel for conservation).
  std::vector<double> step_sum, nrmse_sum, correlation_sum, conservation_sum;
  std::vector<double> first_times;  // rank 0: the predicted times of sample 0
  double first_start = 0;           // and the time its rollout starts from
  std::unique_ptr<io::DatasetWriter> writer, spread_writer;
  std::vector<std::string> png_lines(n);  // this rank's report lines, by sample position
  // Receivers: squared error and count per receiver, the model's time for the responses and
  // for the full fields (with the frames it predicted), summed over this rank's samples.
  std::vector<double> receiver_sq(receivers.names.size(), 0.0), receiver_count(receivers.names.size(), 0.0);
  double response_seconds = 0, field_seconds = 0, field_frames = 0;
  const std::int64_t rounds = (n + size - 1) / size;
  for (std::int64_t r = 0; r < rounds; ++r) {
    const std::int64_t k = r * size + rank;
    TrajectoryEvaluation e;
    collective_try(world, [&] {
      if (k < n) e = evaluate_trajectory(surrogate, store->get(ids[k]), ids[k], args.noise_samples);
    });
    if (!receivers.empty())
      collective_try(world, [&] {
        if (k >= n) return;
        const auto traj = store->get(ids[k]);
        const auto r = receiver_responses(surrogate, traj, layout.grid, receivers);
        for (std::size_t i = 0; i < receivers.names.size(); ++i)
          for (std::size_t t = 0; t < r.times.size(); ++t) {
            receiver_sq[i] += std::pow(r.predicted[i][t] - r.simulated[i][t], 2);
            receiver_count[i] += 1;
          }
        response_seconds += r.predict_seconds;
        write_receiver_csv(receiver_dir, ids[k], receivers, r);
        if (!args.wav.empty()) write_receiver_wav(args.wav, ids[k], receivers, r);
      });
    if (k < n) {
      field_seconds += e.predict_seconds;
      field_frames += static_cast<double>(e.times.size());
      errors[k] = e.relative_l2;
      nrmses[k] = e.nrmse;
      rmses[k] = e.rmse;
      for (std::size_t j = 0; j < num_params && j < e.params.size(); ++j) params[k * num_params + j] = e.params[j];
      add_to(step_sum, e.per_step);
      add_to(nrmse_sum, e.nrmse_per_step);
      add_to(correlation_sum, e.correlation_per_step);
      add_to(conservation_sum, e.conservation_sq);
      if (k == 0) first_times = e.times, first_start = e.start_time;
      // The time the rollout stays above a threshold (0 if its first step does not).
      const auto duration = [&](std::int64_t steps) { return steps > 0 ? e.times[steps - 1] - e.start_time : 0.0; };
      if (rollout_task)
        for (std::size_t i = 0; i < thresholds.size(); ++i)
          high_times[i * n + k] = duration(high_correlation_steps(e.correlation_per_step, thresholds[i]));
      if (sampled) {
        true_horizon[k] = duration(high_correlation_steps(e.correlation_per_step, args.spread_threshold));
        spread_horizon[k] = duration(high_correlation_steps(e.sample_correlation, args.spread_threshold));
        spread_error[k] = pearson(e.spread_per_step, e.rmse_per_step);
        add_to(spread_sum, e.spread_per_step);
        add_to(sample_corr_sum, e.sample_correlation);
      }
    }
    if (!args.out.empty()) {
      if (!writer) {
        // Every rank needs the times of a prediction to create the file; agree on rank 0's.
        std::vector<double> times = k < n ? e.times : std::vector<double>();
        int count = static_cast<int>(times.size());
        MPI_Bcast(&count, 1, MPI_INT, 0, world);
        times.resize(count);
        MPI_Bcast(times.data(), count, MPI_DOUBLE, 0, world);
        io::DatasetLayout out = layout;
        out.param_names = param_names;
        out.num_samples = static_cast<int>(n);
        out.times = times;
        out.config_toml = surrogate.metadata.count("config") ? surrogate.metadata.at("config") : "";
        out.solver = layout.solver + " (predicted by " + surrogate.model->kind() + ")";
        collective_try(world, [&] { writer = std::make_unique<io::DatasetWriter>(args.out, out, world); });
        if (sampled) {
          out.solver += ", the standard deviation of " + std::to_string(args.noise_samples) + " samples";
          collective_try(world, [&] { spread_writer = std::make_unique<io::DatasetWriter>(spread_path(args.out), out, world); });
        }
      }
      for (int t = 0; t < writer->layout().num_times(); ++t) {
        Field f;
        if (k < n) f = surrogates::to_field(e.prediction[t], layout.channels);
        writer->write_frame(static_cast<int>(k < n ? k : 0), t, k < n ? &f : nullptr);
        if (spread_writer) {
          if (k < n) f = surrogates::to_field(e.spread[t], layout.channels);
          spread_writer->write_frame(static_cast<int>(k < n ? k : 0), t, k < n ? &f : nullptr);
        }
      }
    }
    if (!args.paraview.empty() && k < n && k < args.paraview_samples) {
      std::vector<std::string> names;
      for (const auto& c : layout.channels) names.insert(names.end(), {c + "_pred", c, c + "_error"});
      if (sampled)
        for (const auto& c : layout.channels) names.push_back(c + "_std");
      io::ParaViewWriter pv(args.paraview, "sample" + std::to_string(ids[k]), layout.grid, MPI_COMM_SELF);
      for (std::size_t t = 0; t < e.times.size(); ++t) {
        auto frame = torch::cat({e.prediction[t], e.truth[t], e.prediction[t] - e.truth[t]}, 0);
        // Interleave per channel: [pred_c, truth_c, error_c] for each c.
        const auto c = static_cast<std::int64_t>(layout.channels.size());
        std::vector<torch::Tensor> parts;
        for (std::int64_t i = 0; i < c; ++i)
          for (std::int64_t j = 0; j < 3; ++j) parts.push_back(frame[j * c + i].unsqueeze(0));
        if (sampled) parts.push_back(e.spread[t]);
        pv.write(surrogates::to_field(torch::cat(parts, 0), names), e.times[t]);
      }
    }
    if (!args.png.empty() && r * size < args.png_samples)
      collective_try(world, [&] {
        if (k < n && k < args.png_samples)
          png_lines[k] = write_sample_png(args.png, ids[k], e, layout.channels, surrogate.task->kind(), layout.grid);
      });
  }
  std::string png_report;
  if (!args.png.empty()) {
    std::string mine;  // "position<TAB>line\n" for this rank's samples
    for (std::int64_t k = 0; k < n; ++k)
      if (!png_lines[k].empty()) mine += std::to_string(k) + "\t" + png_lines[k] + "\n";
    std::vector<std::string> ordered(n);
    for (const auto& text : gather_text(world, mine)) {
      std::istringstream in(text);
      std::string entry;
      while (std::getline(in, entry)) {
        const auto tab = entry.find('\t');
        ordered[std::stoll(entry.substr(0, tab))] = entry.substr(tab + 1);
      }
    }
    for (const auto& line : ordered)
      if (!line.empty()) png_report += "\n" + line;
  }
  if (writer) {
    std::vector<std::vector<double>> params;
    if (rank == 0)
      for (auto id : ids) params.push_back(store->params(id));
    if (!param_names.empty()) writer->write_params(params);
    writer->close();
    if (spread_writer) {
      if (!param_names.empty()) spread_writer->write_params(params);
      spread_writer->close();
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, errors.data(), static_cast<int>(n), MPI_DOUBLE, MPI_SUM, world);
  MPI_Allreduce(MPI_IN_PLACE, nrmses.data(), static_cast<int>(n), MPI_DOUBLE, MPI_SUM, world);
  MPI_Allreduce(MPI_IN_PLACE, rmses.data(), static_cast<int>(n), MPI_DOUBLE, MPI_SUM, world);
  MPI_Allreduce(MPI_IN_PLACE, params.data(), static_cast<int>(params.size()), MPI_DOUBLE, MPI_SUM, world);
  for (auto* v : {&receiver_sq, &receiver_count})
    MPI_Allreduce(MPI_IN_PLACE, v->data(), static_cast<int>(v->size()), MPI_DOUBLE, MPI_SUM, world);
  for (double* v : {&response_seconds, &field_seconds, &field_frames})
    MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_DOUBLE, MPI_SUM, world);
  for (auto* v : {&high_times, &true_horizon, &spread_horizon, &spread_error})
    MPI_Allreduce(MPI_IN_PLACE, v->data(), static_cast<int>(v->size()), MPI_DOUBLE, MPI_SUM, world);
  for (auto* curve : {&step_sum, &nrmse_sum, &correlation_sum, &conservation_sum, &spread_sum, &sample_corr_sum})
    sum_over_ranks(*curve, world);
  const int steps = static_cast<int>(step_sum.size());
  const auto mean_of = [n](const std::vector<double>& sum) {
    std::vector<double> m(sum.size());
    for (std::size_t i = 0; i < sum.size(); ++i) m[i] = sum[i] / static_cast<double>(n);
    return m;
  };
  const auto nrmse_curve = mean_of(nrmse_sum), correlation = mean_of(correlation_sum);
  double nrmse = 0, crmse = 0;
  for (double v : nrmse_curve) nrmse += v / static_cast<double>(nrmse_curve.size());
  for (double v : mean_of(conservation_sum)) crmse += std::sqrt(v) / static_cast<double>(conservation_sum.size());
  // The mean curve's steps above each threshold and their duration; per trajectory the same
  // duration (rollouts), with its mean.
  nlohmann::json high = nlohmann::json::object();
  for (std::size_t i = 0; i < thresholds.size(); ++i) {
    const auto k = high_correlation_steps(correlation, thresholds[i]);
    const bool beyond = k >= static_cast<std::int64_t>(correlation.size());
    std::ostringstream key;
    key << thresholds[i];
    auto& h = high[key.str()];
    h = {{"steps", k},
         {"time", k > 0 && !first_times.empty() ? first_times[k - 1] - first_start : 0.0},
         {"beyond_horizon", beyond}};
    if (rollout_task) {
      std::vector<double> per(high_times.begin() + static_cast<std::ptrdiff_t>(i * n),
                              high_times.begin() + static_cast<std::ptrdiff_t>((i + 1) * n));
      h["time_per_trajectory"] = per;
      h["mean_time_per_trajectory"] = mean_value(per);
    }
  }
  nlohmann::json uncertainty;
  if (sampled) {
    double gap = 0;
    for (std::int64_t k = 0; k < n; ++k) gap += std::abs(spread_horizon[k] - true_horizon[k]) / static_cast<double>(n);
    uncertainty = {{"samples", args.noise_samples},
                   {"threshold", args.spread_threshold},
                   {"spread_per_step", mean_of(spread_sum)},
                   {"sample_correlation_per_step", mean_of(sample_corr_sum)},
                   {"spread_error_correlation", mean_value(spread_error)},
                   {"true_horizon", true_horizon},
                   {"spread_horizon", spread_horizon},
                   {"horizon_correlation", n > 1 ? pearson(true_horizon, spread_horizon) : 0.0},
                   {"horizon_mean_abs_difference", gap}};
  }
  const auto by_parameter = breakdown(param_names, params, errors, nrmses, rmses);
  const double rmse = mean_value(rmses);  // every trajectory predicts as many frames: the mean over (trajectory, frame)

  std::vector<double> sorted = errors;
  std::sort(sorted.begin(), sorted.end());
  const double mean = mean_value(errors);
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  const auto worst = std::max_element(errors.begin(), errors.end()) - errors.begin();
  std::ostringstream os;
  os.precision(4);
  os << "[evaluate] " << surrogate.model->kind() << " / " << surrogate.task->kind() << " on " << n << " trajectories of "
     << store->path() << "\n  relative L2: mean " << mean << ", median " << median << ", worst " << errors[worst]
     << " (sample " << ids[worst] << ")\n  nRMSE " << nrmse << ", RMSE " << rmse << ", cRMSE " << crmse << "; correlation stays";
  for (const auto& [threshold, h] : high.items())
    os << (threshold == "0.8" ? " " : ", ") << "> " << threshold << " for " << h["steps"] << " of " << correlation.size()
       << " frames";
  if (rollout_task) {
    os << "\n  high-correlation time (mean curve; mean over trajectories):";
    for (const auto& [threshold, h] : high.items())
      os << (threshold == "0.8" ? " " : ", ") << "> " << threshold << " " << h["time"].get<double>() << " ("
         << h["mean_time_per_trajectory"].get<double>() << ")";
  }
  if (sampled) {
    os << "\n  uncertainty from " << args.noise_samples << " samples: spread vs error correlation "
       << uncertainty["spread_error_correlation"].get<double>() << " (mean over trajectories); horizon where the "
       << "samples' mutual correlation falls below " << args.spread_threshold << ": "
       << mean_value(spread_horizon) << " against " << mean_value(true_horizon)
       << " where the truth's does (mean; correlation over trajectories "
       << uncertainty["horizon_correlation"].get<double>() << ", mean |difference| "
       << uncertainty["horizon_mean_abs_difference"].get<double>() << ")";
  }
  for (const auto& [name, groups] : by_parameter.items()) {
    os << "\n  by " << name << ":";
    for (const auto& g : groups) {
      if (g.contains("value"))
        os << " " << g["value"].get<double>();
      else
        os << " [" << g["low"].get<double>() << ", " << g["high"].get<double>() << "]";
      os << " " << g["relative_l2"].get<double>() << " (" << g["count"] << ")";
    }
  }
  if (surrogate.task->kind() == "autoregressive") {
    os << "\n  error vs rollout step:";
    for (int i = 0; i < steps; ++i) os << (i % 10 == 0 ? "\n   " : "") << " " << step_sum[i] / static_cast<double>(n);
  }
  nlohmann::json receiver_json, timing;
  if (field_frames > 0) timing["ms_per_field_frame"] = 1e3 * field_seconds / field_frames;
  if (!receivers.empty()) {
    double sq = 0, count = 0;
    std::vector<double> per;
    for (std::size_t i = 0; i < receivers.names.size(); ++i) {
      sq += receiver_sq[i];
      count += receiver_count[i];
      per.push_back(std::sqrt(receiver_sq[i] / std::max(1.0, receiver_count[i])));
    }
    const double responses = static_cast<double>(n) * static_cast<double>(receivers.names.size());
    timing["ms_per_receiver_response"] = 1e3 * response_seconds / responses;
    receiver_json = {{"names", receivers.names},
                     {"positions", receivers.positions},
                     {"rmse", std::sqrt(sq / std::max(1.0, count))},
                     {"rmse_per_receiver", per},
                     {"dir", receiver_dir}};
    os << "\n  receivers: RMSE " << receiver_json["rmse"].get<double>() << " over " << receivers.names.size()
       << " receivers (";
    for (std::size_t i = 0; i < per.size(); ++i) os << (i ? ", " : "") << receivers.names[i] << " " << per[i];
    os << "); predicted and simulated responses in " << receiver_dir;
    if (!args.wav.empty()) os << ", WAV in " << args.wav;
  }
  if (!timing.empty()) {
    os << "\n  model time (this run's threads):";
    if (timing.contains("ms_per_field_frame"))
      os << " " << timing["ms_per_field_frame"].get<double>() << " ms per full-field frame";
    if (timing.contains("ms_per_receiver_response"))
      os << ", " << timing["ms_per_receiver_response"].get<double>() << " ms per receiver impulse response";
  }
  if (!args.paraview.empty()) os << "\n  ParaView: " << args.paraview;
  if (!args.png.empty())
    os << "\n  PNG (prediction | truth | error; colour ranges per row):" << png_report;
  if (!args.out.empty()) os << "\n  predictions: " << args.out;
  nlohmann::json result = nlohmann::json::object();
  if (rank == 0) {
    std::ofstream metrics(args.run + "/evaluation.json");
    nlohmann::json j = {{"data", store->path()}, {"samples", ids}, {"relative_l2", errors},
                        {"mean", mean},          {"median", median}, {"worst", errors[worst]},
                        {"nrmse", nrmse},        {"crmse", crmse}, {"nrmse_per_sample", nrmses},
                        {"rmse", rmse},          {"rmse_per_sample", rmses},
                        {"nrmse_per_step", nrmse_curve}, {"correlation_per_step", correlation},
                        {"high_correlation_time", high}, {"by_parameter", by_parameter}};
    if (sampled) j["uncertainty"] = uncertainty;
    if (!receiver_json.is_null()) j["receivers"] = receiver_json;
    if (!timing.is_null()) j["timing"] = timing;
    if (steps > 0) {
      std::vector<double> curve(steps);
      for (int i = 0; i < steps; ++i) curve[i] = step_sum[i] / static_cast<double>(n);
      j["per_step"] = curve;
    }
    metrics << j.dump(2) << "\n";
    result = j;
    result["report"] = os.str();
  }
  return result;
}


}  // namespace pdestream::training
