#pragma once
// Small string helpers for one-line messages.

#include <cstdio>
#include <string>
#include <vector>

namespace pdestream {

// "a, b, c" (items in order, `sep` between them).
inline std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : std::string()) + items[i];
  return out;
}

// A duration for progress lines: "12.3s", "4m05s", "2h07m".
inline std::string format_seconds(double s) {
  char buf[64];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) % 3600) / 60);
  return buf;
}

// Bytes in the UTF-8 sequence that starts at text[i], or 0 if none starts there.
inline std::size_t utf8_sequence(const std::string& text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return 0;
  return n;
}

// Index of the first byte that starts no UTF-8 sequence, or npos if the text is UTF-8.
inline std::size_t invalid_utf8_at(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto n = utf8_sequence(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string::npos;
}

inline bool valid_utf8(const std::string& text) { return invalid_utf8_at(text) == std::string::npos; }

// The first line of `text`: libraries' messages (torch, toml11, nlohmann) run over several.
inline std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// `text` with backslashes, double quotes and control characters escaped as TOML and JSON
// write them (\\, \", \t, \n, \u0001), and bytes that are not UTF-8 as \xNN: text read
// from a file can then neither break a one-line message nor a quoted TOML key.
inline std::string printable(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const auto n = utf8_sequence(text, i);
      if (n == 0) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", u);
        out += buf;
      } else {
        out += text.substr(i, n);
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace pdestream
