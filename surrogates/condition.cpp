#include "surrogates/condition.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "surrogates/option_reader.hpp"

namespace pdestream::surrogates {

namespace {

bool uses_log(const std::string& t) { return t == "log" || t == "log_minmax"; }
bool uses_range(const std::string& t) { return t == "minmax" || t == "log_minmax"; }

}  // namespace

const std::vector<std::string>& Condition::transforms() {
  static const std::vector<std::string> t = {"none", "log", "minmax", "log_minmax"};
  return t;
}

Condition Condition::read(OptionReader& r) {
  Condition c;
  const auto names = r.get_strings("condition", std::vector<std::string>{});
  const auto kinds = r.get_strings("condition_transform", std::vector<std::string>(names.size(), "none"));
  PDS_CHECK(kinds.size() == names.size(), r.where("condition_transform")
                                                   << ": expected " << names.size()
                                                   << " transforms (one per condition name), got " << kinds.size());
  std::vector<std::pair<double, double>> ranges;
  if (r.has("condition_range")) {
    ranges = r.get_ranges("condition_range");
    PDS_CHECK(ranges.size() == names.size(), r.where("condition_range")
                                                 << ": expected " << names.size()
                                                 << " [low, high] pairs (one per condition name), got " << ranges.size());
  } else {
    r.accept("condition_range");
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    PDS_CHECK(!names[i].empty(), r.where("condition") << ": expected parameter names, got an empty one");
    for (std::size_t j = 0; j < i; ++j)
      PDS_CHECK(names[j] != names[i], r.where("condition") << ": \"" << names[i] << "\" is named twice");
    PDS_CHECK(std::find(transforms().begin(), transforms().end(), kinds[i]) != transforms().end(),
              r.where("condition_transform") << ": expected one of: " << join(Condition::transforms()) << ", got \""
                                             << kinds[i] << "\"");
    Parameter p{names[i], kinds[i]};
    if (!ranges.empty()) {
      p.low = ranges[i].first;
      p.high = ranges[i].second;
      p.has_range = true;
    }
    c.parameters_.push_back(p);
  }
  return c;
}

void Condition::bind(const std::vector<std::string>& names,
                     const std::map<std::string, std::pair<double, double>>& ranges, const std::string& data_origin) {
  // On a copy: a failed bind leaves the condition as it was.
  auto parameters = parameters_;
  std::vector<std::size_t> index;
  for (auto& p : parameters) {
    auto it = std::find(names.begin(), names.end(), p.name);
    PDS_CHECK(it != names.end(), "[task] condition: parameter \"" << p.name << "\" is not in " << data_origin
                                                                  << " (it has: " << (names.empty() ? std::string("none") : join(names))
                                                                  << "); set it with [data] params = { " << p.name
                                                                  << " = ... } or drop it from the condition");
    index.push_back(static_cast<std::size_t>(it - names.begin()));
    if (!uses_range(p.transform) || p.has_range) continue;
    auto r = ranges.find(p.name);
    PDS_CHECK(r != ranges.end(), "[task] condition_transform: " << p.name << " = \"" << p.transform
                                                                << "\" needs a range, and " << data_origin
                                                                << " gives none (set [task] condition_range)");
    p.low = r->second.first;
    p.high = r->second.second;
    p.has_range = true;
  }
  for (const auto& p : parameters) {
    if (uses_log(p.transform) && uses_range(p.transform))
      PDS_CHECK(p.low > 0, "[task] condition: " << p.name << " = \"log_minmax\" needs a positive range, got ["
                                                << p.low << ", " << p.high << "]");
    if (uses_range(p.transform))
      PDS_CHECK(p.low < p.high, "[task] condition: " << p.name << " = \"" << p.transform
                                                     << "\" needs low < high, got [" << p.low << ", " << p.high
                                                     << "] (does the data hold a single value? use \"none\")");
  }
  parameters_ = std::move(parameters);
  index_ = std::move(index);
}

torch::Tensor Condition::vector(const std::vector<double>& params) const {
  PDS_CHECK(bound(), "[task] condition: used before it was bound to the data's parameter names");
  std::vector<float> out;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const auto& p = parameters_[i];
    PDS_CHECK(index_[i] < params.size(), "[task] condition: " << p.name << " is parameter " << index_[i] + 1
                                                              << " of the data, but a trajectory has "
                                                              << params.size());
    double v = params[index_[i]];
    double lo = p.low, hi = p.high;
    if (uses_log(p.transform)) {
      PDS_CHECK(v > 0, "[task] condition: " << p.name << " = \"" << p.transform << "\" needs positive values, got "
                                            << v);
      v = std::log(v);
      lo = std::log(lo);
      hi = std::log(hi);
    }
    if (uses_range(p.transform)) v = (v - lo) / (hi - lo);
    out.push_back(static_cast<float>(v));
  }
  return torch::tensor(out, torch::kFloat32);
}

void Condition::to_json(nlohmann::json& options) const {
  if (empty()) return;
  nlohmann::json names = nlohmann::json::array(), transforms = nlohmann::json::array(),
                 ranges = nlohmann::json::array();
  bool any_range = false;
  for (const auto& p : parameters_) {
    names.push_back(p.name);
    transforms.push_back(p.transform);
    ranges.push_back({p.low, p.high});
    any_range = any_range || p.has_range;
  }
  options["condition"] = names;
  options["condition_transform"] = transforms;
  if (any_range) options["condition_range"] = ranges;
}

nlohmann::json Condition::normalizer_json() const {
  if (empty()) return nullptr;
  nlohmann::json names = nlohmann::json::array(), logs = nlohmann::json::array(), scale = nlohmann::json::array(),
                 shift = nlohmann::json::array();
  for (const auto& p : parameters_) {
    names.push_back(p.name);
    const bool log = uses_log(p.transform);
    logs.push_back(log);
    if (uses_range(p.transform)) {
      const double lo = log ? std::log(p.low) : p.low, hi = log ? std::log(p.high) : p.high;
      scale.push_back(1.0 / (hi - lo));
      shift.push_back(-lo / (hi - lo));
    } else {
      scale.push_back(1.0);
      shift.push_back(0.0);
    }
  }
  return {{"names", names}, {"log", logs}, {"scale", scale}, {"shift", shift}};
}

std::map<std::string, std::pair<double, double>> parameter_ranges(const std::vector<std::string>& names,
                                                                  const std::vector<std::vector<double>>& values) {
  std::map<std::string, std::pair<double, double>> out;
  for (std::size_t j = 0; j < names.size(); ++j) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& row : values)
      if (j < row.size()) {
        lo = std::min(lo, row[j]);
        hi = std::max(hi, row[j]);
      }
    if (lo <= hi) out[names[j]] = {lo, hi};
  }
  return out;
}

}  // namespace pdestream::surrogates
