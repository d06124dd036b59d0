#pragma once
// Small string helpers for one-line error messages.

#include <string>
#include <vector>

namespace pdestream {

// "a, b, c" (items in order, `sep` between them).
inline std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : std::string()) + items[i];
  return out;
}

}  // namespace pdestream
