#include "training/receivers.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "core/config.hpp"
#include "core/error.hpp"
#include "io/csv.hpp"
#include "io/wav.hpp"

namespace pdestream::training {

Receivers receivers_of_config(const Config& config, const Grid& grid) {
  Receivers r;
  if (!config.has_section("solver")) return r;
  SectionReader s(config, "solver");
  if (!s.has("receivers")) return r;
  r.positions = s.get_points("receivers", grid.dim);
  r.names = s.get_strings("receiver_names", std::vector<std::string>{});
  if (r.names.empty())
    for (std::size_t i = 0; i < r.positions.size(); ++i) r.names.push_back("r" + std::to_string(i));
  PDS_CHECK(r.names.size() == r.positions.size(), "[solver] receiver_names: expected one name per receiver ("
                                                      << r.positions.size() << "), got " << r.names.size());
  for (std::size_t i = 0; i < r.positions.size(); ++i)
    for (int a = 0; a < grid.dim; ++a)
      PDS_CHECK(r.positions[i][a] >= grid.lower[a] && r.positions[i][a] <= grid.upper[a],
                "receiver " << r.names[i] << ": expected coordinate " << a << " in [" << grid.lower[a] << ", "
                            << grid.upper[a] << "], got " << r.positions[i][a]);
  return r;
}

ReceiverResponses receiver_responses(const LoadedSurrogate& surrogate, const surrogates::Trajectory& trajectory,
                                     const Grid& grid, const Receivers& receivers) {
  torch::NoGradGuard no_grad;
  ReceiverResponses out;
  out.times = trajectory.times;
  const auto nt = static_cast<std::int64_t>(trajectory.times.size());
  const auto nr = static_cast<std::int64_t>(receivers.positions.size());
  const int dim = grid.dim;
  // Simulated: the stored frames interpolated at each receiver.
  auto frames = trajectory.frames.select(1, 0).to(torch::kFloat64).contiguous();  // [Nt, *spatial]
  for (const auto& x : receivers.positions) {
    const auto at = grid.stencil(x);
    auto series = torch::zeros({nt}, torch::kFloat64);
    for (int o = 0; o < (1 << dim); ++o) {
      double weight = 1.0;
      auto corner = frames;
      for (int a = 0; a < dim; ++a) {
        const int up = (o >> a) & 1;
        weight *= up ? at.weight[a] : 1.0 - at.weight[a];
        corner = corner.select(1, at.lo[a] + up);  // axis 1 is the next spatial axis each time
      }
      if (weight != 0.0) series += weight * corner;
    }
    const auto* p = series.data_ptr<double>();
    out.simulated.emplace_back(p, p + nt);
  }
  // Predicted: the model at (receiver, t) for every receiver and stored time, one batch.
  auto coords = torch::empty({nr * nt, dim + 1}, torch::kFloat64);
  for (std::int64_t r = 0; r < nr; ++r)
    for (std::int64_t t = 0; t < nt; ++t) {
      for (int a = 0; a < dim; ++a) coords[r * nt + t][a] = receivers.positions[r][a];
      coords[r * nt + t][dim] = trajectory.times[t];
    }
  auto input = surrogates::pointwise_input(*surrogate.task, coords).unsqueeze(0);
  auto cond = surrogate.task->condition_vector(trajectory);
  const auto start = std::chrono::steady_clock::now();
  auto pred = surrogate.predict(input, cond.defined() ? cond.unsqueeze(0) : cond)[0][0];  // [R Nt]
  out.predict_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  pred = pred.to(torch::kFloat64).contiguous();
  for (std::int64_t r = 0; r < nr; ++r) {
    const auto* p = pred.data_ptr<double>() + r * nt;
    out.predicted.emplace_back(p, p + nt);
  }
  return out;
}

namespace {

std::vector<std::vector<double>> rows_of(const std::vector<double>& times, const std::vector<std::vector<double>>& s) {
  std::vector<std::vector<double>> rows(times.size());
  for (std::size_t t = 0; t < times.size(); ++t) {
    rows[t].push_back(times[t]);
    for (const auto& series : s) rows[t].push_back(series[t]);
  }
  return rows;
}

double peak(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 1e-30;
  for (double v : a) m = std::max(m, std::abs(v));
  for (double v : b) m = std::max(m, std::abs(v));
  return m;
}

std::vector<double> scaled(std::vector<double> v, double factor) {
  for (double& x : v) x *= factor;
  return v;
}

}  // namespace

void write_receiver_csv(const std::string& dir, std::int64_t id, const Receivers& receivers,
                        const ReceiverResponses& r) {
  std::vector<std::string> header = {"t"};
  header.insert(header.end(), receivers.names.begin(), receivers.names.end());
  const std::string base = dir + "/sample" + std::to_string(id);
  io::write_csv(base + "_predicted.csv", header, rows_of(r.times, r.predicted));
  io::write_csv(base + "_simulated.csv", header, rows_of(r.times, r.simulated));
}

void write_receiver_wav(const std::string& dir, std::int64_t id, const Receivers& receivers,
                        const ReceiverResponses& r) {
  PDS_CHECK(r.times.size() >= 2, "--wav: expected at least 2 stored times per trajectory, got " << r.times.size());
  const int rate = static_cast<int>(std::lround(1.0 / (r.times[1] - r.times[0])));
  const auto dry = io::dry_signal(rate);
  io::write_wav(dir + "/dry.wav", scaled(dry, 0.9), rate);
  for (std::size_t i = 0; i < receivers.names.size(); ++i) {
    const std::string base = dir + "/sample" + std::to_string(id) + "_" + receivers.names[i];
    const double ir = 0.9 / peak(r.predicted[i], r.simulated[i]);
    io::write_wav(base + "_predicted.wav", scaled(r.predicted[i], ir), rate);
    io::write_wav(base + "_simulated.wav", scaled(r.simulated[i], ir), rate);
    const auto wet_p = io::convolve(dry, r.predicted[i]), wet_s = io::convolve(dry, r.simulated[i]);
    const double wet = 0.9 / peak(wet_p, wet_s);
    io::write_wav(base + "_predicted_dry.wav", scaled(wet_p, wet), rate);
    io::write_wav(base + "_simulated_dry.wav", scaled(wet_s, wet), rate);
  }
}

}  // namespace pdestream::training
