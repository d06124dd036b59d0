#pragma once
// One reading interface over a TOML section and a JSON object, so a model or task is
// validated by the same code whether it comes from a config file ([model], [task]) or
// from the architecture metadata of a .safetensors file. Both report unknown keys,
// missing required keys and out-of-range values as pdestream::Error naming the key.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.hpp"

namespace pdestream::surrogates {

class OptionReader {
 public:
  virtual ~OptionReader() = default;

  virtual bool has(const std::string& key) const = 0;
  virtual std::int64_t get_int(const std::string& key, std::optional<std::int64_t> fallback = {},
                               std::optional<std::int64_t> min = {},
                               std::optional<std::int64_t> max = {}) = 0;
  virtual double get_double(const std::string& key, std::optional<double> fallback = {},
                            std::optional<double> min = {}, std::optional<double> max = {}) = 0;
  virtual bool get_bool(const std::string& key, std::optional<bool> fallback = {}) = 0;
  virtual std::string get_string(const std::string& key,
                                 std::optional<std::string> fallback = {},
                                 const std::vector<std::string>& choices = {}) = 0;
  // An integer or a list of integers (a single integer gives a list of one), each >= min.
  virtual std::vector<std::int64_t> get_ints(const std::string& key,
                                             std::optional<std::vector<std::int64_t>> fallback = {},
                                             std::optional<std::int64_t> min = {}) = 0;
  // A string or a list of strings.
  virtual std::vector<std::string> get_strings(const std::string& key,
                                               std::optional<std::vector<std::string>> fallback = {}) = 0;
  // A list of numbers.
  virtual std::vector<double> get_doubles(const std::string& key,
                                          std::optional<std::vector<double>> fallback = {}) = 0;
  // A list of [low, high] pairs (required: check has() first for an optional one).
  virtual std::vector<std::pair<double, double>> get_ranges(const std::string& key) = 0;
  virtual void accept(const std::string& key) = 0;
  // A reader on the table under `key` ([model] base = { ... } in TOML, "base": {...} in
  // JSON), for a model that wraps a base model; its own finish() checks its keys.
  virtual std::unique_ptr<OptionReader> nested(const std::string& key) = 0;
  // Throws for keys present but never read.
  virtual void finish() const = 0;
  // "origin: [section] key" for error messages.
  virtual std::string where(const std::string& key) const = 0;
};

class SectionOptionReader : public OptionReader {
 public:
  explicit SectionOptionReader(SectionReader& section) : s_(section) {}
  // Owns its section (a nested table).
  explicit SectionOptionReader(std::unique_ptr<SectionReader> owned) : owned_(std::move(owned)), s_(*owned_) {}
  bool has(const std::string& key) const override { return s_.has(key); }
  std::int64_t get_int(const std::string& key, std::optional<std::int64_t> fallback = {},
                       std::optional<std::int64_t> min = {}, std::optional<std::int64_t> max = {}) override {
    return s_.get_int(key, fallback, min, max);
  }
  double get_double(const std::string& key, std::optional<double> fallback = {},
                    std::optional<double> min = {}, std::optional<double> max = {}) override {
    return s_.get_double(key, fallback, min, max);
  }
  bool get_bool(const std::string& key, std::optional<bool> fallback = {}) override {
    return s_.get_bool(key, fallback);
  }
  std::string get_string(const std::string& key, std::optional<std::string> fallback = {},
                         const std::vector<std::string>& choices = {}) override {
    return s_.get_string(key, fallback, choices);
  }
  std::vector<std::int64_t> get_ints(const std::string& key,
                                     std::optional<std::vector<std::int64_t>> fallback = {},
                                     std::optional<std::int64_t> min = {}) override;
  std::vector<std::string> get_strings(const std::string& key,
                                       std::optional<std::vector<std::string>> fallback = {}) override {
    return s_.get_strings(key, std::move(fallback));
  }
  std::vector<double> get_doubles(const std::string& key,
                                  std::optional<std::vector<double>> fallback = {}) override {
    return s_.get_doubles(key, std::move(fallback));
  }
  std::vector<std::pair<double, double>> get_ranges(const std::string& key) override { return s_.get_ranges(key); }
  void accept(const std::string& key) override { s_.accept(key); }
  std::unique_ptr<OptionReader> nested(const std::string& key) override;
  void finish() const override { s_.finish(); }
  std::string where(const std::string& key) const override { return s_.where(key); }

 private:
  std::unique_ptr<SectionReader> owned_;
  SectionReader& s_;
};

class JsonOptionReader : public OptionReader {
 public:
  // `origin` names the source in messages, e.g. "model.safetensors metadata".
  JsonOptionReader(const nlohmann::json& object, std::string origin, std::string section);
  bool has(const std::string& key) const override;
  std::int64_t get_int(const std::string& key, std::optional<std::int64_t> fallback = {},
                       std::optional<std::int64_t> min = {}, std::optional<std::int64_t> max = {}) override;
  double get_double(const std::string& key, std::optional<double> fallback = {},
                    std::optional<double> min = {}, std::optional<double> max = {}) override;
  bool get_bool(const std::string& key, std::optional<bool> fallback = {}) override;
  std::string get_string(const std::string& key, std::optional<std::string> fallback = {},
                         const std::vector<std::string>& choices = {}) override;
  std::vector<std::int64_t> get_ints(const std::string& key,
                                     std::optional<std::vector<std::int64_t>> fallback = {},
                                     std::optional<std::int64_t> min = {}) override;
  std::vector<std::string> get_strings(const std::string& key,
                                       std::optional<std::vector<std::string>> fallback = {}) override;
  std::vector<double> get_doubles(const std::string& key,
                                  std::optional<std::vector<double>> fallback = {}) override;
  std::vector<std::pair<double, double>> get_ranges(const std::string& key) override;
  void accept(const std::string& key) override { used_.insert(key); }
  std::unique_ptr<OptionReader> nested(const std::string& key) override;
  void finish() const override;
  std::string where(const std::string& key) const override;

 private:
  const nlohmann::json* find(const std::string& key);
  const nlohmann::json& j_;
  std::string origin_;
  std::string section_;
  std::set<std::string> used_;
};

}  // namespace pdestream::surrogates
