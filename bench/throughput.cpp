// bench_throughput: inference time of a surrogate, forward only (no grad), per call and per
// sample, for the speed-up table of bench/throughput.sh (training throughput comes from
// `pdestream train`'s metrics.jsonl; the solver's time from bench_solvers).
//
// Sample runs (bench/throughput.sh runs these and prints the table):
//   bench_throughput --header --config configs/burgers_fno.toml --grid 256 --batch 1 --threads 1
//   bench_throughput --config configs/ns2d_fno.toml --grid 64x64 --batch 20 --threads 2
//   bench_throughput --config configs/ns2d_fno.toml --grid 64x64 --batch 1 --rollout 40
//
// The model is built from the config's [model] and [task] sections exactly as `pdestream
// train` builds it for data of the given grid (and --channels), with normalisers in the
// loop (encode, forward, decode: what `pdestream evaluate` runs); the weights are random,
// which does not change the cost. --rollout S times an autoregressive rollout of S steps
// from the task's `history` frames (surrogates::rollout); without it, one call is one
// prediction. Each configuration is warmed up, then called at least 3 times and for at
// least --seconds; the median call time is reported, and the process CPU time per sample
// (mean over the timed calls, all threads; on a loaded machine the steadier measure of
// cost, like bench_solvers' last column). Prints one Markdown row:
//   model | parameters | grid | threads | batch | steps/call | ms/call | ms/sample | CPU ms/sample

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "surrogates/normalizer.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/tasks.hpp"

using namespace pdestream;

namespace {

std::vector<std::int64_t> parse_grid(const std::string& text) {
  std::vector<std::int64_t> g;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, 'x')) g.push_back(std::stoll(part));
  PDS_CHECK(!g.empty() && g.size() <= 3, "--grid: expected N, NxM or NxMxK, got \"" << text << "\"");
  for (auto n : g) PDS_CHECK(n > 0, "--grid: sizes must be positive, got \"" << text << "\"");
  return g;
}

int usage(int code) {
  std::printf(
      "usage: bench_throughput --config FILE [--set section.key=value ...] --grid N[xM[xK]] [--channels C]\n"
      "                        [--frames NT] [--batch B] [--rollout S] [--threads T] [--seconds S] [--header]\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string config_path, grid_text;
  std::vector<std::string> sets;
  std::int64_t channels = 1, frames = 51, batch = 1, rollout_steps = 0;
  int threads = 1;
  double min_seconds = 2.0;
  bool header = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--help" || a == "-h") return usage(0);
    if (a == "--header") header = true;
    else if (a == "--config" && has_value) config_path = argv[++i];
    else if (a == "--set" && has_value) sets.push_back(argv[++i]);
    else if (a == "--grid" && has_value) grid_text = argv[++i];
    else if (a == "--channels" && has_value) channels = std::stoll(argv[++i]);
    else if (a == "--frames" && has_value) frames = std::stoll(argv[++i]);
    else if (a == "--batch" && has_value) batch = std::stoll(argv[++i]);
    else if (a == "--rollout" && has_value) rollout_steps = std::stoll(argv[++i]);
    else if (a == "--threads" && has_value) threads = std::stoi(argv[++i]);
    else if (a == "--seconds" && has_value) min_seconds = std::stod(argv[++i]);
    else {
      std::fprintf(stderr, "bench_throughput: unknown argument %s\n", a.c_str());
      return usage(2);
    }
  }
  if (header) {
    std::puts("| model | parameters | grid | threads | batch | steps/call | ms/call | ms/sample | CPU ms/sample |");
    std::puts("|:---|---:|---:|---:|---:|---:|---:|---:|---:|");
  }
  if (config_path.empty() && grid_text.empty()) return 0;  // header only
  PDS_CHECK(!config_path.empty() && !grid_text.empty(), "bench_throughput needs --config FILE and --grid N[xM]");
  PDS_CHECK(batch > 0 && channels > 0 && threads > 0 && rollout_steps >= 0,
            "bench_throughput: --batch, --channels and --threads must be positive, --rollout non-negative");
  torch::set_num_threads(threads);
  torch::manual_seed(0);

  Config config = Config::load(config_path);
  config.apply_overrides(sets);
  SectionReader m(config, "model");
  const std::string name = m.get_string("name", std::nullopt, surrogates::model_names());
  SectionReader ts(config, "task");
  auto task = surrogates::make_task(ts, surrogates::model_layout(name));
  surrogates::TrajectoryShape data;
  data.num_times = frames;
  data.channels = channels;
  data.spatial = parse_grid(grid_text);
  const auto shape = task->model_shape(data);
  auto model = surrogates::make_model(m, shape);
  model->eval();

  // Normalisers fitted on random data: the cost of encode/decode, not their values, matters.
  surrogates::UnitGaussianNormalizer input(task->input_channels(data)), target(task->target_channels(data));
  std::vector<std::int64_t> frame = {channels};
  frame.insert(frame.end(), data.spatial.begin(), data.spatial.end());
  const bool autoregressive = task->kind() == "autoregressive";
  PDS_CHECK(rollout_steps == 0 || autoregressive,
            "--rollout needs an autoregressive task, the config's is " << task->kind());
  const std::int64_t history = autoregressive ? task->options_json().at("history").get<std::int64_t>() : 1;

  torch::Tensor x;  // one call's input
  {
    surrogates::Trajectory t;
    t.frames = torch::randn([&] {
      std::vector<std::int64_t> s = {frames};
      s.insert(s.end(), frame.begin(), frame.end());
      return s;
    }());
    for (std::int64_t i = 0; i < frames; ++i) t.times.push_back(static_cast<double>(i));
    t.params.assign(data.num_params, 0.0);
    std::vector<surrogates::Example> examples;
    for (std::int64_t b = 0; b < batch; ++b) examples.push_back(task->example(t, b % task->num_examples(data)));
    auto ex = surrogates::collate(examples);
    input->update(ex.input);
    target->update(ex.target);
    if (rollout_steps > 0) {
      std::vector<std::int64_t> s = {batch, history};
      s.insert(s.end(), frame.begin(), frame.end());
      x = t.frames.narrow(0, 0, history).unsqueeze(0).expand(s).contiguous();
    } else {
      x = ex.input;
    }
  }

  torch::NoGradGuard no_grad;
  auto call = [&] {
    torch::Tensor y;
    if (rollout_steps > 0)
      y = surrogates::rollout(*model, x, rollout_steps, input.get(), target.get());
    else
      y = target->decode(model->forward(input->encode(x)));
    PDS_CHECK(y.defined() && y.size(0) == batch, "bench_throughput: unexpected output " << surrogates::shape_str(y));
  };
  using Clock = std::chrono::steady_clock;
  // Warm-up (thread pool, allocator, FFT plans): up to 3 calls or 1 s, then at least 3
  // timed calls and --seconds.
  const auto warm = Clock::now();
  for (int w = 0; w < 3 && (w == 0 || std::chrono::duration<double>(Clock::now() - warm).count() < 1.0); ++w) call();
  std::vector<double> times;
  const auto start = Clock::now();
  const std::clock_t cpu_start = std::clock();
  while (times.size() < 3 || std::chrono::duration<double>(Clock::now() - start).count() < min_seconds) {
    const auto t0 = Clock::now();
    call();
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC / static_cast<double>(times.size());
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  std::string grid;
  for (std::size_t i = 0; i < data.spatial.size(); ++i) grid += (i ? "x" : "") + std::to_string(data.spatial[i]);
  const std::string label = name + std::to_string(shape.dim) + "d (" + task->kind() + ")";
  std::printf("| %s | %lld | %s | %d | %lld | %lld | %.3f | %.4f | %.4f |\n", label.c_str(),
              static_cast<long long>(model->num_parameters()), grid.c_str(), threads, static_cast<long long>(batch),
              static_cast<long long>(std::max<std::int64_t>(rollout_steps, 1)), 1e3 * median, 1e3 * median / batch,
              1e3 * cpu / batch);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_throughput: %s\n", e.what());
  return 1;
}
