#include "surrogates/option_reader.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace pdestream::surrogates {

namespace {


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

std::string list_text(const std::vector<std::int64_t>& v) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << "]";
  return os.str();
}

}  // namespace

std::vector<std::int64_t> SectionOptionReader::get_ints(
    const std::string& key, std::optional<std::vector<std::int64_t>> fallback,
    std::optional<std::int64_t> min) {
  const std::string expected = "an integer or a list of integers" + range_text(min, std::optional<std::int64_t>{});
  if (!s_.has(key)) {
    s_.accept(key);
    PDS_CHECK(fallback.has_value(), s_.where(key) << ": missing required key (expected " << expected << ")");
    return *fallback;
  }
  // SectionReader has no "integer or list" reader: try the scalar first, then the list.
  std::vector<std::int64_t> out;
  try {
    out.push_back(s_.get_int(key));
  } catch (const Error&) {
    std::vector<double> values;
    try {
      values = s_.get_doubles(key);
    } catch (const Error&) {
      PDS_FAIL(s_.where(key) << ": expected " << expected);
    }
    for (double d : values) {
      PDS_CHECK(std::floor(d) == d, s_.where(key) << ": expected " << expected << ", got " << d);
      out.push_back(static_cast<std::int64_t>(d));
    }
  }
  PDS_CHECK(!out.empty(), s_.where(key) << ": expected " << expected << ", got an empty list");
  for (auto v : out)
    PDS_CHECK(!min || v >= *min, s_.where(key) << ": expected " << expected << ", got " << list_text(out));
  return out;
}

std::unique_ptr<OptionReader> SectionOptionReader::nested(const std::string& key) {
  PDS_CHECK(s_.has(key), s_.where(key) << ": missing required table (expected " << key << " = { name = ... })");
  s_.accept(key);
  return std::make_unique<SectionOptionReader>(
      std::make_unique<SectionReader>(s_.config(), s_.section() + "." + key));
}

std::unique_ptr<OptionReader> JsonOptionReader::nested(const std::string& key) {
  const auto* v = find(key);
  PDS_CHECK(v && v->is_object(), where(key) << ": expected a JSON object (a base model's options), got "
                                            << (v ? v->dump() : std::string("nothing")));
  return std::make_unique<JsonOptionReader>(*v, origin_, section_ + "." + key);
}

JsonOptionReader::JsonOptionReader(const nlohmann::json& object, std::string origin,
                                   std::string section)
    : j_(object), origin_(std::move(origin)), section_(std::move(section)) {
  PDS_CHECK(j_.is_object(), origin_ << ": [" << section_ << "] expected a JSON object, got "
                                    << j_.type_name());
}

bool JsonOptionReader::has(const std::string& key) const { return j_.contains(key); }

std::string JsonOptionReader::where(const std::string& key) const {
  return origin_ + ": [" + section_ + "] " + key;
}

const nlohmann::json* JsonOptionReader::find(const std::string& key) {
  used_.insert(key);
  auto it = j_.find(key);
  return it == j_.end() ? nullptr : &*it;
}

std::int64_t JsonOptionReader::get_int(const std::string& key, std::optional<std::int64_t> fallback,
                                       std::optional<std::int64_t> min,
                                       std::optional<std::int64_t> max) {
  const std::string expected = "an integer" + range_text(min, max);
  const auto* v = find(key);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected " << expected << ")");
    return *fallback;
  }
  PDS_CHECK(v->is_number_integer(), where(key) << ": expected " << expected << ", got " << v->dump());
  const auto x = v->get<std::int64_t>();
  PDS_CHECK((!min || x >= *min) && (!max || x <= *max), where(key) << ": expected " << expected << ", got " << x);
  return x;
}

double JsonOptionReader::get_double(const std::string& key, std::optional<double> fallback,
                                    std::optional<double> min, std::optional<double> max) {
  const std::string expected = "a number" + range_text(min, max);
  const auto* v = find(key);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected " << expected << ")");
    return *fallback;
  }
  PDS_CHECK(v->is_number(), where(key) << ": expected " << expected << ", got " << v->dump());
  const double x = v->get<double>();
  PDS_CHECK(std::isfinite(x) && (!min || x >= *min) && (!max || x <= *max),
            where(key) << ": expected " << expected << ", got " << x);
  return x;
}

bool JsonOptionReader::get_bool(const std::string& key, std::optional<bool> fallback) {
  const auto* v = find(key);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected true or false)");
    return *fallback;
  }
  PDS_CHECK(v->is_boolean(), where(key) << ": expected true or false, got " << v->dump());
  return v->get<bool>();
}

std::string JsonOptionReader::get_string(const std::string& key, std::optional<std::string> fallback,
                                         const std::vector<std::string>& choices) {
  const std::string expected = choices.empty() ? std::string("a string") : "one of: " + join(choices);
  const auto* v = find(key);
  std::string s;
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected " << expected << ")");
    s = *fallback;
  } else {
    PDS_CHECK(v->is_string(), where(key) << ": expected " << expected << ", got " << v->dump());
    s = v->get<std::string>();
  }
  PDS_CHECK(choices.empty() || std::find(choices.begin(), choices.end(), s) != choices.end(),
            where(key) << ": expected " << expected << ", got \"" << s << "\"");
  return s;
}

std::vector<std::int64_t> JsonOptionReader::get_ints(const std::string& key,
                                                     std::optional<std::vector<std::int64_t>> fallback,
                                                     std::optional<std::int64_t> min) {
  const std::string expected = "an integer or a list of integers" + range_text(min, std::optional<std::int64_t>{});
  const auto* v = find(key);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected " << expected << ")");
    return *fallback;
  }
  std::vector<std::int64_t> out;
  if (v->is_number_integer()) {
    out.push_back(v->get<std::int64_t>());
  } else {
    PDS_CHECK(v->is_array() && !v->empty(), where(key) << ": expected " << expected << ", got " << v->dump());
    for (const auto& e : *v) {
      PDS_CHECK(e.is_number_integer(), where(key) << ": expected " << expected << ", got " << v->dump());
      out.push_back(e.get<std::int64_t>());
    }
  }
  for (auto x : out)
    PDS_CHECK(!min || x >= *min, where(key) << ": expected " << expected << ", got " << v->dump());
  return out;
}

std::vector<std::string> JsonOptionReader::get_strings(const std::string& key,
                                                      std::optional<std::vector<std::string>> fallback) {
  const auto* v = find(key);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected a list of strings)");
    return *fallback;
  }
  if (v->is_string()) return {v->get<std::string>()};
  PDS_CHECK(v->is_array(), where(key) << ": expected a list of strings, got " << v->dump());
  std::vector<std::string> out;
  for (const auto& e : *v) {
    PDS_CHECK(e.is_string(), where(key) << ": expected a list of strings, got " << v->dump());
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<double> JsonOptionReader::get_doubles(const std::string& key, std::optional<std::vector<double>> fallback) {
  const auto* v = find(key);
  if (!v) {
    PDS_CHECK(fallback.has_value(), where(key) << ": missing required key (expected a list of numbers)");
    return *fallback;
  }
  PDS_CHECK(v->is_array(), where(key) << ": expected a list of numbers, got " << v->dump());
  std::vector<double> out;
  for (const auto& e : *v) {
    PDS_CHECK(e.is_number(), where(key) << ": expected a list of numbers, got " << v->dump());
    out.push_back(e.get<double>());
  }
  return out;
}

std::vector<std::pair<double, double>> JsonOptionReader::get_ranges(const std::string& key) {
  const auto* v = find(key);
  const std::string expected = "a list of [low, high] pairs";
  PDS_CHECK(v && v->is_array(), where(key) << ": expected " << expected << ", got " << (v ? v->dump() : "nothing"));
  std::vector<std::pair<double, double>> out;
  for (const auto& e : *v) {
    PDS_CHECK(e.is_array() && e.size() == 2 && e[0].is_number() && e[1].is_number() &&
                  e[0].get<double>() <= e[1].get<double>(),
              where(key) << ": expected " << expected << " with low <= high, got " << v->dump());
    out.emplace_back(e[0].get<double>(), e[1].get<double>());
  }
  return out;
}

void JsonOptionReader::finish() const {
  std::vector<std::string> unknown;
  for (const auto& item : j_.items())
    if (!used_.count(item.key())) unknown.push_back(item.key());
  if (unknown.empty()) return;
  PDS_FAIL(where(unknown.front()) << ": unknown key"
                                  << (unknown.size() > 1 ? " (also: " + join({unknown.begin() + 1, unknown.end()}) + ")" : "")
                                  << "; expected one of: " << join({used_.begin(), used_.end()}));
}

}  // namespace pdestream::surrogates
