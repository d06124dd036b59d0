// pdestream plot: the figures of a run, from the files train and evaluate wrote in it.
//
// Sample runs:
//   pdestream plot runs/demo
//   pdestream plot runs/heat2d_fno --out figures/heat2d_fno
//
// Writes into RUN/plots (or --out), each figure from what the run holds:
//   loss.png     the training loss against step (metrics.jsonl's step lines, log scale) and
//                the validation relative L2 against step (its validation lines)
//   rollout.png  from evaluation.json: the relative L2 and nRMSE of every predicted frame,
//                mean over the evaluated trajectories, and the correlation with the truth
//   online.png   online runs: the buffer's occupancy, and the fraction of time the trainer
//                waited for data and the simulations waited for credit, against time: the
//                figures that say which side to scale (a waiting trainer wants more
//                simulation ranks; waiting simulations want more trainer ranks or a bigger
//                buffer)
// A figure whose data the run lacks is skipped with a note; a run with none is an error.
// Runs on one rank (the others wait).

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "apps/cli.hpp"
#include "core/error.hpp"
#include "core/runtime.hpp"
#include "io/figures.hpp"

namespace pdestream::apps {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct PlotArgs {
  std::string run;
  std::string out;
};

// One line of metrics.jsonl: its event and its numbers.
struct MetricsLine {
  std::string event;
  std::map<std::string, double> values;
  double get(const std::string& key) const {
    const auto it = values.find(key);
    return it == values.end() ? NAN : it->second;
  }
  bool has(const std::string& key) const { return values.count(key) > 0; }
};

std::vector<MetricsLine> read_metrics(const std::string& path) {
  std::ifstream in(path);
  PDS_CHECK(in, "cannot read '" << path << "'");
  std::vector<MetricsLine> lines;
  std::string text;
  for (int number = 1; std::getline(in, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json j = json::parse(text, nullptr, false);
    PDS_CHECK(j.is_object() && j.contains("event") && j["event"].is_string(),
              path << ":" << number << ": expected a JSON object with an \"event\", got '" << text.substr(0, 60)
                   << (text.size() > 60 ? "..." : "") << "'");
    MetricsLine line{j["event"].get<std::string>(), {}};
    for (const auto& [key, value] : j.items())
      if (value.is_number()) line.values[key] = value.get<double>();
    lines.push_back(std::move(line));
  }
  return lines;
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  PDS_CHECK(in, "cannot read '" << path << "'");
  const json j = json::parse(in, nullptr, false);
  PDS_CHECK(j.is_object(), path << ": expected a JSON object");
  return j;
}

// `key`'s numbers in `j`, or empty when it is missing or not a list of numbers.
std::vector<double> numbers(const json& j, const std::string& key) {
  std::vector<double> v;
  if (!j.contains(key) || !j[key].is_array()) return v;
  for (const auto& x : j[key]) v.push_back(x.is_number() ? x.get<double>() : NAN);
  return v;
}

io::LineSeries series_of(const std::vector<MetricsLine>& lines, const std::string& event, const std::string& x,
                         const std::string& y, const std::string& label) {
  io::LineSeries s{label, {}, {}, false};
  for (const auto& l : lines)
    if (l.event == event && l.has(x) && l.has(y)) {
      s.x.push_back(l.get(x));
      s.y.push_back(l.get(y));
    }
  return s;
}

bool all_positive(const std::vector<double>& v) {
  for (double x : v)
    if (std::isfinite(x) && x <= 0) return false;
  return true;
}

// The fraction of each interval between consecutive step lines that a cumulative wait
// counter grew by, divided among `sharers`.
io::LineSeries wait_fraction(const std::vector<MetricsLine>& lines, const std::string& key, double sharers,
                             const std::string& label) {
  io::LineSeries s{label, {}, {}, false};
  double last_t = NAN, last_w = NAN;
  for (const auto& l : lines) {
    if (l.event != "step" || !l.has("time") || !l.has(key)) continue;
    const double t = l.get("time"), w = l.get(key);
    if (std::isfinite(last_t) && t > last_t) {
      s.x.push_back(t);
      s.y.push_back(std::clamp((w - last_w) / (t - last_t) / sharers, 0.0, 1.0));
    }
    last_t = t;
    last_w = w;
  }
  return s;
}

void run_plot(const PlotArgs& args, MPI_Comm world) {
  std::vector<std::string> report;
  collective_try(world, [&] {
    if (comm_rank(world) != 0) return;
    PDS_CHECK(fs::is_directory(args.run), "'" << args.run << "' is not a run directory (written by pdestream train)");
    const std::string out = args.out.empty() ? args.run + "/plots" : args.out;
    const std::string metrics_path = args.run + "/metrics.jsonl";
    std::vector<MetricsLine> metrics;
    if (fs::exists(metrics_path)) metrics = read_metrics(metrics_path);

    // Loss and validation error against step.
    io::LinePanel loss{"training loss", "step", "loss", false, {series_of(metrics, "step", "step", "loss", "")}};
    loss.log_y = all_positive(loss.series[0].y);
    io::LinePanel validation{"validation error", "step", "relative L2", false,
                             {series_of(metrics, "validation", "step", "val_rel_l2", "")}};
    validation.log_y = all_positive(validation.series[0].y);
    std::vector<io::LinePanel> row;
    if (!loss.series[0].x.empty()) row.push_back(loss);
    if (!validation.series[0].x.empty()) row.push_back(validation);
    if (!row.empty()) {
      io::write_line_figure(out + "/loss.png", {row});
      report.push_back(out + "/loss.png: training loss" +
                       std::string(row.size() > 1 ? " and validation relative L2" : "") + " against step");
    } else {
      report.push_back("(no loss.png: " + metrics_path + (metrics.empty() ? " is missing or empty" : " has no step lines") +
                       ")");
    }

    // The rollout's error and correlation per predicted frame.
    const std::string evaluation_path = args.run + "/evaluation.json";
    if (fs::exists(evaluation_path)) {
      const json e = read_json(evaluation_path);
      const auto rel = numbers(e, "per_step"), nrmse = numbers(e, "nrmse_per_step"),
                 corr = numbers(e, "correlation_per_step");
      PDS_CHECK(!rel.empty(), evaluation_path << ": expected a \"per_step\" list of numbers");
      std::vector<double> frame(rel.size());
      for (std::size_t k = 0; k < frame.size(); ++k) frame[k] = static_cast<double>(k + 1);
      const std::size_t trajectories = e.contains("samples") && e["samples"].is_array() ? e["samples"].size() : 0;
      io::LinePanel error{"error per predicted frame (" + std::to_string(trajectories) + " trajectories)",
                          "predicted frame", "error", false, {{"relative L2", frame, rel, false}}};
      if (nrmse.size() == rel.size()) error.series.push_back({"nRMSE", frame, nrmse, true});
      std::vector<io::LinePanel> panels = {error};
      if (corr.size() == rel.size())
        panels.push_back({"correlation with the truth", "predicted frame", "Pearson correlation", false,
                          {{"", frame, corr, false}}});
      io::write_line_figure(out + "/rollout.png", {panels});
      report.push_back(out + "/rollout.png: error" + std::string(panels.size() > 1 ? " and correlation" : "") +
                       " per predicted frame, from " + evaluation_path);
    } else {
      report.push_back("(no rollout.png: no " + evaluation_path + "; run pdestream evaluate --run " + args.run + ")");
    }

    // Online runs: where the time goes.
    bool online = false;
    for (const auto& l : metrics) online = online || (l.event == "step" && l.has("buffer_occupancy"));
    if (online) {
      double groups = 1;
      const std::string summary_path = args.run + "/online_summary.json";
      if (fs::exists(summary_path)) {
        const json s = read_json(summary_path);
        if (s.contains("simulation_groups") && s["simulation_groups"].is_number())
          groups = std::max(1.0, s["simulation_groups"].get<double>());
      }
      io::LinePanel buffer{"buffer occupancy", "time [s]", "fraction of capacity", false,
                           {series_of(metrics, "step", "time", "buffer_occupancy", "")}};
      // trainer_wait_s is already a mean over trainer ranks; sim_credit_wait_s a sum over groups.
      io::LinePanel waits{"time spent waiting", "time [s]", "fraction of time", false,
                          {wait_fraction(metrics, "trainer_wait_s", 1.0, "trainer, for data"),
                           wait_fraction(metrics, "sim_credit_wait_s", groups, "simulations, for credit")}};
      waits.series[1].dashed = true;
      std::vector<io::LinePanel> panels = {buffer};
      if (!waits.series[0].x.empty() || !waits.series[1].x.empty()) panels.push_back(waits);
      io::write_line_figure(out + "/online.png", {panels});
      report.push_back(out + "/online.png: buffer occupancy and the trainer's and simulations' waiting against time");
    }
    bool any = false;
    for (const auto& line : report) any = any || line.front() != '(';
    PDS_CHECK(any, "nothing to plot in '" << args.run << "': no step lines in metrics.jsonl and no evaluation.json");
  });
  std::ostringstream os;
  for (const auto& line : report) os << (os.tellp() > 0 ? "\n" : "") << "[plot] " << line;
  print0(world, os.str());
}

}  // namespace

SubcommandRegistration add_plot(CLI::App& root) {
  auto args = std::make_shared<PlotArgs>();
  auto* cmd = root.add_subcommand(
      "plot", "Figures of a run: loss and validation error, rollout error, and for online runs the buffer and waiting times");
  cmd->add_option("run", args->run, "Run directory written by pdestream train (and evaluate)")->required();
  cmd->add_option("--out", args->out, "Directory for the PNG files (default: RUN/plots)");
  return {cmd, [args](MPI_Comm world) { run_plot(*args, world); }};
}

}  // namespace pdestream::apps
