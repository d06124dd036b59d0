#include "core/npy.hpp"

#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace pdestream {

namespace {

const char* kExpected = "a NumPy .npy mask of uint8 or bool (nonzero = solid)";

// The value text of `key` in a .npy header dict ("{'descr': '|u1', 'shape': (4, 5), ...}").
std::string dict_value(const std::string& dict, const std::string& key) {
  const auto k = dict.find("'" + key + "'");
  if (k == std::string::npos) return "";
  auto p = dict.find(':', k);
  if (p == std::string::npos) return "";
  ++p;
  while (p < dict.size() && dict[p] == ' ') ++p;
  const char open = p < dict.size() ? dict[p] : '\0';
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const auto e = dict.find(close, p + 1);
  if (e == std::string::npos) return "";
  return open == '(' || open == '\'' ? dict.substr(p + 1, e - p - 1) : dict.substr(p, e - p);
}

}  // namespace

std::size_t NpyMaskHeader::num_values() const {
  std::size_t n = 1;
  for (int s : shape) n *= static_cast<std::size_t>(s);
  return n;
}

NpyMaskHeader read_npy_mask_header(const std::string& path, const std::string& missing) {
  std::ifstream in(path, std::ios::binary);
  PDS_CHECK(in, (missing.empty() ? path + ": expected " + kExpected + ", found no such file" : missing));
  char magic[8] = {};
  in.read(magic, 8);
  PDS_CHECK(in && std::memcmp(magic, "\x93NUMPY", 6) == 0,
            path << ": expected " << kExpected << ", got a file without the .npy magic bytes");
  const int major = static_cast<unsigned char>(magic[6]);
  unsigned char len[4] = {};
  in.read(reinterpret_cast<char*>(len), major == 1 ? 2 : 4);
  const std::size_t length =
      len[0] | (len[1] << 8) | (major == 1 ? 0 : (len[2] << 16) | (static_cast<std::size_t>(len[3]) << 24));
  PDS_CHECK(in && (major == 1 || major == 2 || major == 3) && length < (1u << 20),
            path << ": expected " << kExpected << ", got a truncated or unknown .npy header");
  std::string dict(length, '\0');
  in.read(dict.data(), static_cast<std::streamsize>(length));
  PDS_CHECK(in, path << ": expected " << kExpected << ", got a truncated or unknown .npy header");
  NpyMaskHeader h;
  h.data_offset = (major == 1 ? 10 : 12) + static_cast<std::streamoff>(length);
  const std::string descr = dict_value(dict, "descr");
  PDS_CHECK(descr == "|u1" || descr == "|b1" || descr == "|i1" || descr == "<u1",
            path << ": expected " << kExpected << ", got dtype '" << printable(descr) << "'");
  const std::string order = dict_value(dict, "fortran_order");
  PDS_CHECK(order == "False", path << ": expected a C-order array (numpy's default), got fortran_order = "
                                   << (order.empty() ? "(missing)" : printable(order)));
  std::stringstream shape(dict_value(dict, "shape"));
  std::string item;
  while (std::getline(shape, item, ',')) {
    const auto a = item.find_first_not_of(' ');
    if (a == std::string::npos) continue;
    // Sizes beyond the allowed range are rejected below; saturating keeps them out of it.
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str() + a, &end, 10);
    PDS_CHECK(end != item.c_str() + a && std::all_of(static_cast<const char*>(end), item.c_str() + item.size(), [](char c) { return c == ' '; }),
              path << ": expected integer sizes in the shape, got '" << printable(item) << "'");
    h.shape.push_back(static_cast<int>(std::clamp<long long>(v, -1, 1 << 30)));
  }
  PDS_CHECK(h.shape.size() == 2 || h.shape.size() == 3,
            path << ": expected a 2D (ny, nx) or 3D (nz, ny, nx) mask, got " << h.shape.size() << " dimensions");
  for (int s : h.shape)
    PDS_CHECK(s >= 2 && s <= (1 << 16), path << ": expected 2 to 65536 cells per axis, got a size of " << s);
  return h;
}

NpyMask read_npy_mask(const std::string& path, const std::string& missing) {
  const NpyMaskHeader h = read_npy_mask_header(path, missing);
  NpyMask mask;
  mask.shape = h.shape;
  mask.values.resize(h.num_values());
  std::ifstream in(path, std::ios::binary);
  in.seekg(h.data_offset);
  in.read(reinterpret_cast<char*>(mask.values.data()), static_cast<std::streamsize>(mask.values.size()));
  PDS_CHECK(in, path << ": expected " << mask.values.size() << " mask bytes after the header, got a truncated file");
  return mask;
}

}  // namespace pdestream
