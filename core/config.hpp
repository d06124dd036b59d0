#pragma once
// TOML job configuration: one schema for every command (see DESIGN.md "Configs").
//
// Typed option structs are filled through a SectionReader, which records every key it
// reads; finish() then rejects the keys nobody asked for. Every error names the file, the
// key and what was expected:
//   configs/heat2d.toml: [solver] nx: expected an integer >= 3, got -4
//
// toml11 stays inside config.cpp: this header is light on purpose.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pdestream {

// The top-level sections every command shares. Any other section is an error.
const std::vector<std::string>& known_config_sections();

class Config {
 public:
  Config();  // empty configuration (source "<defaults>")
  ~Config();
  Config(const Config&);
  Config& operator=(const Config&);

  // Parse a file; a missing file or a TOML syntax error is a pdestream::Error naming it.
  static Config load(const std::string& path);
  static Config parse(const std::string& text, const std::string& source = "<string>");

  // "section.key=value"; the value is TOML (64, 1e-3, true, "cn", [0.1, 2.0]) and a bare
  // word that is not valid TOML is taken as a string (--set solver.scheme=cn).
  void apply_override(const std::string& assignment);
  void apply_overrides(const std::vector<std::string>& assignments);

  // Fill in `section.key = value` only when absent (value given as TOML text).
  void set_default(const std::string& dotted_key, const std::string& toml_value);

  bool has_section(const std::string& name) const;
  bool has(const std::string& dotted_key) const;
  const std::string& source() const;

  // The merged configuration, as TOML text (keys sorted) and written to a file.
  std::string to_toml() const;
  void write(const std::string& path) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Reads one section of a Config into typed values. Missing optional keys give the
// fallback; missing required keys (no fallback) are errors.
class SectionReader {
 public:
  SectionReader(const Config& config, std::string section);
  ~SectionReader();
  SectionReader(SectionReader&&) noexcept;

  // `section` may name a nested table: "model.base" reads [model] base = { ... }.
  const std::string& section() const { return section_; }
  const Config& config() const { return *config_; }
  bool present() const;                 // the section exists in the file
  bool has(const std::string& key) const;
  std::vector<std::string> keys() const;  // sorted
  // The key holds a (nested or inline) table, readable as SectionReader(config, section + "." + key).
  bool is_table(const std::string& key) const;

  std::int64_t get_int(const std::string& key, std::optional<std::int64_t> fallback = {},
                       std::optional<std::int64_t> min = {},
                       std::optional<std::int64_t> max = {});
  double get_double(const std::string& key, std::optional<double> fallback = {},
                    std::optional<double> min = {}, std::optional<double> max = {});
  bool get_bool(const std::string& key, std::optional<bool> fallback = {});
  std::string get_string(const std::string& key, std::optional<std::string> fallback = {},
                         const std::vector<std::string>& choices = {});
  std::vector<double> get_doubles(const std::string& key,
                                  std::optional<std::vector<double>> fallback = {});
  // A string or a list of strings (a single string gives a list of one).
  std::vector<std::string> get_strings(const std::string& key,
                                       std::optional<std::vector<std::string>> fallback = {});
  // A [low, high] pair with low <= high.
  std::pair<double, double> get_range(const std::string& key);
  // A list of [low, high] pairs, `[[0.5, 1.5], [0.1, 4.0]]`, each with low <= high.
  std::vector<std::pair<double, double>> get_ranges(const std::string& key);
  // A list of points with `dim` finite coordinates each, `[[0.5, 1.0, 1.2], [1.5, 1.0, 0.3]]`.
  std::vector<std::vector<double>> get_points(const std::string& key, int dim,
                                              std::optional<std::vector<std::vector<double>>> fallback = {});
  // An inline table of numbers, `{ beta = 0.4, nu = 0.01 }`, in key order.
  std::vector<std::pair<std::string, double>> get_number_table(const std::string& key);
  // A list of such tables, `[{ beta = 0.1 }, { beta = 0.4 }]`.
  std::vector<std::vector<std::pair<std::string, double>>> get_number_tables(const std::string& key);

  // Mark a key as understood without reading it (e.g. the registry's `name`).
  void accept(const std::string& key);
  // Throws for every key present but never read, listing the keys that are understood.
  void finish() const;

  // "file: [section] key" for building error messages.
  std::string where(const std::string& key) const;

 private:
  const Config* config_;
  std::string section_;
  struct State;
  std::unique_ptr<State> state_;
};

// Split "--set" style "a.b=value" into ("a.b", "value"); throws on a malformed string.
std::pair<std::string, std::string> split_assignment(const std::string& assignment);

}  // namespace pdestream
