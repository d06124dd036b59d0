#include "core/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace pdestream {

// Sorted tables so the merged config is written in a stable order.
using TomlValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;

struct Config::Impl {
  TomlValue root = TomlValue(toml::table{});
  std::string source = "<defaults>";
  // Keys set from the command line, so error messages can say where a value came from.
  std::set<std::string> overridden;
};

const std::vector<std::string>& known_config_sections() {
  static const std::vector<std::string> sections = {
      "solver", "parameters", "sampler", "simulation", "data", "model",
      "task",   "training",   "online",  "output"};
  return sections;
}

namespace {


void check_sections(const TomlValue& root, const std::string& source) {
  const auto& known = known_config_sections();
  for (const auto& [name, value] : root.as_table()) {
    PDS_CHECK(std::find(known.begin(), known.end(), name) != known.end(),
              source << ": unknown section [" << printable(name) << "]; expected one of: " << join(known));
    PDS_CHECK(value.is_table(), source << ": '" << printable(name) << "' must be a [section] table, got a "
                                       << toml::stringize(value.type()));
  }
}

std::string describe(const TomlValue& v) {
  // Inline and escaped: a table or a multi-line string stays on the message's one line.
  std::string s = toml::visit(
      toml::serializer<TomlValue>(std::numeric_limits<std::size_t>::max(), std::numeric_limits<double>::max_digits10, true),
      v);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::string out;
  for (char c : s) out += c == '\n' ? std::string("\\n") : std::string(1, c);
  return out + " (" + toml::stringize(v.type()) + ")";
}

std::vector<std::string> split_dots(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream ss(key);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  return parts;
}

TomlValue parse_value_text(const std::string& text, const std::string& context) {
  std::istringstream in("v = " + text);
  try {
    auto doc = toml::parse<toml::discard_comments, std::map, std::vector>(in, context);
    return doc.at("v");
  } catch (const std::exception&) {
    // A bare word (--set solver.scheme=cn) is a string; anything with TOML punctuation
    // that failed to parse is a genuine error.
    const bool bare = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '/' ||
             c == '.' || c == ':';
    });
    PDS_CHECK(bare, context << ": cannot parse value '" << text
                            << "' (expected a TOML value: number, true/false, \"string\" or [list])");
    return TomlValue(text);
  }
}

}  // namespace

Config::Config() : impl_(std::make_unique<Impl>()) {}
Config::~Config() = default;
Config::Config(const Config& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
Config& Config::operator=(const Config& o) {
  if (this != &o) impl_ = std::make_unique<Impl>(*o.impl_);
  return *this;
}

Config Config::load(const std::string& path) {
  PDS_CHECK(std::filesystem::exists(path), "config file '" << path << "' does not exist");
  std::ifstream in(path);
  PDS_CHECK(in.good(), "config file '" << path << "' cannot be read");
  std::ostringstream os;
  os << in.rdbuf();
  return parse(os.str(), path);
}

Config Config::parse(const std::string& text, const std::string& source) {
  Config c;
  c.impl_->source = source;
  // TOML is UTF-8; toml11 reads past the end of its buffer on some invalid sequences, so it
  // never sees one.
  if (const auto bad = invalid_utf8_at(text); bad != std::string::npos) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
    PDS_FAIL(source << ":" << line << ": expected UTF-8 text (TOML), got a byte that is not UTF-8");
  }
  std::istringstream in(text);
  try {
    c.impl_->root = toml::parse<toml::discard_comments, std::map, std::vector>(in, source);
  } catch (const toml::syntax_error& e) {
    // toml11's message spans several lines; keep the first meaningful one.
    std::string msg = e.what();
    std::string first = first_line(msg);
    std::string line;
    auto pos = msg.find(" --> ");
    if (pos != std::string::npos) {
      auto end = msg.find('\n', pos);
      line = msg.substr(pos + 5, end - pos - 5);
    }
    PDS_FAIL(source << ": invalid TOML: " << first << (line.empty() ? "" : " at " + line));
  }
  check_sections(c.impl_->root, source);
  return c;
}

void Config::apply_override(const std::string& assignment) {
  // Bytes that are not UTF-8 would be written into the run's config.toml, which TOML
  // (and so `train --resume`) then cannot read.
  PDS_CHECK(valid_utf8(assignment), "--set " << printable(assignment) << ": expected UTF-8 text");
  // A command line cannot pass them either; toml11 cannot read a NUL back.
  PDS_CHECK(std::none_of(assignment.begin(), assignment.end(),
                         [](char c) { return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f; }),
            "--set " << printable(assignment) << ": expected text without control characters");
  auto [key, text] = split_assignment(assignment);
  auto parts = split_dots(key);
  PDS_CHECK(parts.size() >= 2 && std::none_of(parts.begin(), parts.end(),
                                              [](const std::string& p) { return p.empty(); }),
            "--set " << printable(assignment) << ": expected section.key=value (e.g. solver.nx=64)");
  const auto& known = known_config_sections();
  PDS_CHECK(std::find(known.begin(), known.end(), parts[0]) != known.end(),
            "--set " << printable(assignment) << ": unknown section [" << printable(parts[0])
                     << "]; expected one of: " << join(known));
  TomlValue value = parse_value_text(text, "--set " + assignment);
  TomlValue* node = &impl_->root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    auto& table = node->as_table();
    auto it = table.find(parts[i]);
    if (it == table.end()) it = table.emplace(parts[i], TomlValue(toml::table{})).first;
    PDS_CHECK(it->second.is_table(), "--set " << printable(assignment) << ": '" << printable(parts[i])
                                              << "' is not a table in " << impl_->source);
    node = &it->second;
  }
  node->as_table()[parts.back()] = value;
  impl_->overridden.insert(key);
}

void Config::apply_overrides(const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) apply_override(a);
}

void Config::set_default(const std::string& dotted_key, const std::string& toml_value) {
  if (!has(dotted_key)) {
    std::set<std::string> keep = impl_->overridden;
    apply_override(dotted_key + "=" + toml_value);
    impl_->overridden = keep;
  }
}

bool Config::has_section(const std::string& name) const {
  const auto& t = impl_->root.as_table();
  return t.count(name) && t.at(name).is_table();
}

bool Config::has(const std::string& dotted_key) const {
  const TomlValue* node = &impl_->root;
  for (const auto& part : split_dots(dotted_key)) {
    if (!node->is_table()) return false;
    const auto& t = node->as_table();
    auto it = t.find(part);
    if (it == t.end()) return false;
    node = &it->second;
  }
  return true;
}

const std::string& Config::source() const { return impl_->source; }

namespace {

// A key as TOML writes it: bare when it can be, else a basic string with every character
// that TOML does not allow raw escaped (a key read from a quoted string may hold any). Also
// how messages name keys.
std::string toml_key(const std::string& key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (bare) return key;
  return "\"" + printable(key) + "\"";
}

}  // namespace

std::string Config::to_toml() const {
  std::ostringstream os;
  // One [section] per top-level table and one `key = value` line per entry: stable,
  // diff-able output (toml11 alone would inline short tables).
  for (const auto& [name, section] : impl_->root.as_table()) {
    os << "[" << toml_key(name) << "]\n";
    for (const auto& [key, value] : section.as_table()) {
      // Inline, so a table value ([data] params = { beta = 0.4 }) stays on its key's line
      // (toml::format writes any table as a root table).
      std::string text =
          toml::visit(toml::serializer<TomlValue>(std::numeric_limits<std::size_t>::max(), std::numeric_limits<double>::max_digits10, true), value);
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      os << toml_key(key) << " = " << text << "\n";
    }
    os << "\n";
  }
  return os.str();
}

void Config::write(const std::string& path) const {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    PDS_CHECK(out.good(), "cannot write merged config to '" << path << "'");
    out << "# merged configuration (" << impl_->source << " + --set overrides)\n" << to_toml();
    PDS_CHECK(out.good(), "cannot write merged config to '" << path << "'");
  }
  std::filesystem::rename(tmp, path);
}

std::pair<std::string, std::string> split_assignment(const std::string& assignment) {
  auto eq = assignment.find('=');
  PDS_CHECK(eq != std::string::npos && eq > 0,
            "--set '" << assignment << "': expected section.key=value (e.g. solver.nx=64)");
  return {assignment.substr(0, eq), assignment.substr(eq + 1)};
}

// ---------------------------------------------------------------------------------------

struct SectionReader::State {
  const TomlValue* table = nullptr;  // nullptr when the section is absent
  std::set<std::string> used;
};

SectionReader::SectionReader(const Config& config, std::string section)
    : config_(&config), section_(std::move(section)), state_(std::make_unique<State>()) {
  // "model.base": a table nested in a section (a wrapping model's base model).
  const TomlValue* node = &config.impl().root;
  for (const auto& part : split_dots(section_)) {
    const auto& table = node->as_table();
    auto it = table.find(part);
    if (it == table.end()) return;
    PDS_CHECK(it->second.is_table(), config.source() << ": [" << section_ << "]: '" << part
                                                      << "' must be a table, got " << describe(it->second));
    node = &it->second;
  }
  state_->table = node;
}

SectionReader::~SectionReader() = default;
SectionReader::SectionReader(SectionReader&&) noexcept = default;

bool SectionReader::present() const { return state_->table != nullptr; }

bool SectionReader::is_table(const std::string& key) const {
  if (!state_->table) return false;
  const auto& t = state_->table->as_table();
  auto it = t.find(key);
  return it != t.end() && it->second.is_table();
}

bool SectionReader::has(const std::string& key) const {
  return state_->table && state_->table->as_table().count(key);
}

std::vector<std::string> SectionReader::keys() const {
  std::vector<std::string> k;
  if (state_->table)
    for (const auto& [name, v] : state_->table->as_table()) k.push_back(name);
  return k;
}

std::string SectionReader::where(const std::string& key) const {
  std::string origin = config_->source();
  if (config_->impl().overridden.count(section_ + "." + key)) origin = "--set";
  return origin + ": [" + printable(section_) + "] " + toml_key(key);
}

namespace {

const TomlValue* lookup(const TomlValue* table, const std::string& key) {
  if (!table) return nullptr;
  const auto& t = table->as_table();
  auto it = t.find(key);
  return it == t.end() ? nullptr : &it->second;
}

template <class T>
std::string range_text(const std::optional<T>& min, const std::optional<T>& max) {
  std::ostringstream os;
  if (min && max)
    os << " in [" << *min << ", " << *max << "]";
  else if (min)
    os << " >= " << *min;
  else if (max)
    os << " <= " << *max;
  return os.str();
}

}  // namespace

std::int64_t SectionReader::get_int(const std::string& key, std::optional<std::int64_t> fallback,
                                    std::optional<std::int64_t> min,
                                    std::optional<std::int64_t> max) {
  state_->used.insert(key);
  const TomlValue* v = lookup(state_->table, key);
  const std::string expected = "an integer" + range_text(min, max);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected " << expected << ")");
    return *fallback;
  }
  PDS_CHECK(v->is_integer(), where(key) << ": expected " << expected << ", got " << describe(*v));
  const std::int64_t x = v->as_integer();
  PDS_CHECK((!min || x >= *min) && (!max || x <= *max),
            where(key) << ": expected " << expected << ", got " << x);
  return x;
}

double SectionReader::get_double(const std::string& key, std::optional<double> fallback,
                                 std::optional<double> min, std::optional<double> max) {
  state_->used.insert(key);
  const TomlValue* v = lookup(state_->table, key);
  const std::string expected = "a number" + range_text(min, max);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected " << expected << ")");
    return *fallback;
  }
  PDS_CHECK(v->is_floating() || v->is_integer(),
            where(key) << ": expected " << expected << ", got " << describe(*v));
  const double x = v->is_floating() ? v->as_floating() : static_cast<double>(v->as_integer());
  PDS_CHECK(std::isfinite(x) && (!min || x >= *min) && (!max || x <= *max),
            where(key) << ": expected " << expected << ", got " << x);
  return x;
}

bool SectionReader::get_bool(const std::string& key, std::optional<bool> fallback) {
  state_->used.insert(key);
  const TomlValue* v = lookup(state_->table, key);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected true or false)");
    return *fallback;
  }
  PDS_CHECK(v->is_boolean(), where(key) << ": expected true or false, got " << describe(*v));
  return v->as_boolean();
}

std::string SectionReader::get_string(const std::string& key, std::optional<std::string> fallback,
                                      const std::vector<std::string>& choices) {
  state_->used.insert(key);
  const TomlValue* v = lookup(state_->table, key);
  const std::string expected =
      choices.empty() ? std::string("a string") : "one of: " + join(choices);
  std::string s;
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected " << expected << ")");
    s = *fallback;
  } else {
    PDS_CHECK(v->is_string(), where(key) << ": expected " << expected << ", got " << describe(*v));
    s = v->as_string().str;
  }
  PDS_CHECK(choices.empty() || std::find(choices.begin(), choices.end(), s) != choices.end(),
            where(key) << ": expected " << expected << ", got \"" << s << "\"");
  return s;
}

std::vector<double> SectionReader::get_doubles(const std::string& key,
                                               std::optional<std::vector<double>> fallback) {
  state_->used.insert(key);
  const TomlValue* v = lookup(state_->table, key);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected a list of numbers)");
    return *fallback;
  }
  PDS_CHECK(v->is_array(), where(key) << ": expected a list of numbers, got " << describe(*v));
  std::vector<double> out;
  for (const auto& e : v->as_array()) {
    PDS_CHECK(e.is_floating() || e.is_integer(),
              where(key) << ": expected a list of numbers, got " << describe(*v));
    out.push_back(e.is_floating() ? e.as_floating() : static_cast<double>(e.as_integer()));
  }
  return out;
}

std::vector<std::string> SectionReader::get_strings(const std::string& key,
                                                   std::optional<std::vector<std::string>> fallback) {
  state_->used.insert(key);
  const TomlValue* v = lookup(state_->table, key);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected a list of strings)");
    return *fallback;
  }
  if (v->is_string()) return {v->as_string().str};
  PDS_CHECK(v->is_array(), where(key) << ": expected a list of strings, got " << describe(*v));
  std::vector<std::string> out;
  for (const auto& e : v->as_array()) {
    PDS_CHECK(e.is_string(), where(key) << ": expected a list of strings, got " << describe(*v));
    out.push_back(e.as_string().str);
  }
  return out;
}

namespace {

std::vector<std::pair<std::string, double>> number_table(const TomlValue& v, const std::string& where) {
  const std::string expected = "a table of numbers such as { beta = 0.4 }";
  PDS_CHECK(v.is_table(), where << ": expected " << expected << ", got " << describe(v));
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [name, e] : v.as_table()) {
    PDS_CHECK(e.is_floating() || e.is_integer(), where << ": expected " << expected << ", got " << describe(v));
    out.emplace_back(name, e.is_floating() ? e.as_floating() : static_cast<double>(e.as_integer()));
    PDS_CHECK(std::isfinite(out.back().second), where << ": " << toml_key(name) << " must be finite, got " << out.back().second);
  }
  return out;
}

}  // namespace

std::vector<std::pair<double, double>> SectionReader::get_ranges(const std::string& key) {
  state_->used.insert(key);
  const TomlValue* v = lookup(state_->table, key);
  const std::string expected = "a list of [low, high] pairs";
  PDS_CHECK(v && v->is_array(), where(key) << ": expected " << expected << ", got "
                                           << (v ? describe(*v) : std::string("nothing")));
  std::vector<std::pair<double, double>> out;
  for (const auto& e : v->as_array()) {
    PDS_CHECK(e.is_array() && e.as_array().size() == 2, where(key) << ": expected " << expected << ", got " << describe(*v));
    double x[2];
    for (int i = 0; i < 2; ++i) {
      const auto& n = e.as_array()[i];
      PDS_CHECK(n.is_floating() || n.is_integer(), where(key) << ": expected " << expected << ", got " << describe(*v));
      x[i] = n.is_floating() ? n.as_floating() : static_cast<double>(n.as_integer());
    }
    PDS_CHECK(std::isfinite(x[0]) && std::isfinite(x[1]) && x[0] <= x[1],
              where(key) << ": expected [low, high] with low <= high, got [" << x[0] << ", " << x[1] << "]");
    out.emplace_back(x[0], x[1]);
  }
  return out;
}

std::vector<std::vector<double>> SectionReader::get_points(const std::string& key, int dim,
                                                           std::optional<std::vector<std::vector<double>>> fallback) {
  state_->used.insert(key);
  const TomlValue* v = lookup(state_->table, key);
  const std::string expected = "a list of points with " + std::to_string(dim) + " coordinates each";
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected " << expected << ")");
    return *fallback;
  }
  PDS_CHECK(v->is_array(), where(key) << ": expected " << expected << ", got " << describe(*v));
  std::vector<std::vector<double>> out;
  for (const auto& e : v->as_array()) {
    PDS_CHECK(e.is_array() && static_cast<int>(e.as_array().size()) == dim,
              where(key) << ": expected " << expected << ", got " << describe(e));
    std::vector<double> point;
    for (const auto& n : e.as_array()) {
      PDS_CHECK(n.is_floating() || n.is_integer(), where(key) << ": expected " << expected << ", got " << describe(e));
      point.push_back(n.is_floating() ? n.as_floating() : static_cast<double>(n.as_integer()));
      PDS_CHECK(std::isfinite(point.back()), where(key) << ": expected finite coordinates, got " << point.back());
    }
    out.push_back(point);
  }
  return out;
}

std::vector<std::pair<std::string, double>> SectionReader::get_number_table(const std::string& key) {
  state_->used.insert(key);
  const TomlValue* v = lookup(state_->table, key);
  PDS_CHECK(v, where(key) << ": missing required key (expected a table of numbers such as { beta = 0.4 })");
  return number_table(*v, where(key));
}

std::vector<std::vector<std::pair<std::string, double>>> SectionReader::get_number_tables(const std::string& key) {
  state_->used.insert(key);
  const TomlValue* v = lookup(state_->table, key);
  PDS_CHECK(v && v->is_array(),
            where(key) << ": expected a list of tables such as [{ beta = 0.1 }, { beta = 0.4 }], got "
                       << (v ? describe(*v) : std::string("nothing")));
  std::vector<std::vector<std::pair<std::string, double>>> out;
  for (const auto& e : v->as_array()) out.push_back(number_table(e, where(key)));
  return out;
}

std::pair<double, double> SectionReader::get_range(const std::string& key) {
  auto values = get_doubles(key);
  PDS_CHECK(values.size() == 2, where(key) << ": expected [low, high], got a list of "
                                           << values.size() << " numbers");
  PDS_CHECK(std::isfinite(values[0]) && std::isfinite(values[1]) && values[0] <= values[1],
            where(key) << ": expected [low, high] with low <= high, got [" << values[0] << ", "
                       << values[1] << "]");
  return {values[0], values[1]};
}

void SectionReader::accept(const std::string& key) { state_->used.insert(key); }

void SectionReader::finish() const {
  if (!state_->table) return;
  std::vector<std::string> unknown;
  for (const auto& [name, v] : state_->table->as_table())
    if (!state_->used.count(name)) unknown.push_back(name);
  if (unknown.empty()) return;
  std::vector<std::string> known(state_->used.begin(), state_->used.end());
  std::vector<std::string> also;
  for (std::size_t i = 1; i < unknown.size(); ++i) also.push_back(toml_key(unknown[i]));
  PDS_FAIL(where(unknown.front()) << ": unknown key" << (also.empty() ? "" : " (also: " + join(also) + ")")
                                  << "; expected one of: " << join(known));
}

}  // namespace pdestream
