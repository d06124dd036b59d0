#include "io/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/strings.hpp"

namespace pdestream::io {

namespace {

constexpr std::uint64_t kMaxHeader = 100ull << 20;  // the reference implementation's limit

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

std::uint64_t read_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::int64_t TensorRecord::num_elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::size_t dtype_size(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"U16", 2}, {"U32", 4}, {"U64", 8}};
  auto it = sizes.find(dtype);
  PDS_CHECK(it != sizes.end(), "unknown safetensors dtype '" << printable(dtype)
                                                             << "' (expected F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL)");
  return it->second;
}

const TensorRecord* SafetensorsContent::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const TensorRecord& SafetensorsContent::require(const std::string& name, const std::string& dtype,
                                                const std::vector<std::int64_t>& shape,
                                                const std::string& source) const {
  const TensorRecord* t = find(name);
  PDS_CHECK(t, source << ": missing tensor '" << name << "' (expected " << dtype << " " << shape_text(shape) << ")");
  PDS_CHECK(t->dtype == dtype && t->shape == shape, source << ": tensor '" << name << "' is " << t->dtype << " "
                                                           << shape_text(t->shape) << ", expected " << dtype << " "
                                                           << shape_text(shape));
  return *t;
}

void write_safetensors(const std::string& path, const std::vector<TensorRecord>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    PDS_CHECK(!t.name.empty() && t.name != "__metadata__", path << ": invalid tensor name '" << t.name << "'");
    PDS_CHECK(names.insert(t.name).second, path << ": tensor name '" << t.name << "' appears twice");
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.num_elements()) * dtype_size(t.dtype);
    PDS_CHECK(bytes == t.data.size(), path << ": tensor '" << t.name << "' " << t.dtype << " " << shape_text(t.shape)
                                           << " needs " << bytes << " bytes, got " << t.data.size());
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::uint64_t n = text.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);

  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  std::string bytes(reinterpret_cast<const char*>(len), 8);
  bytes += text;
  for (const auto& t : tensors) bytes.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  write_file_atomically(path, bytes);
}

SafetensorsContent read_safetensors(const std::string& path) {
  PDS_CHECK(std::filesystem::exists(path), "safetensors file '" << path << "' does not exist");
  std::ifstream in(path, std::ios::binary);
  PDS_CHECK(in.good(), "cannot read '" << path << "'");
  const std::uint64_t file_size = std::filesystem::file_size(path);
  PDS_CHECK(file_size >= 8, path << ": not a safetensors file (" << file_size << " bytes, expected at least an 8-byte header length)");
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  const std::uint64_t n = read_le64(len);
  PDS_CHECK(n <= kMaxHeader && n <= file_size - 8,
            path << ": not a safetensors file (header length " << n << " does not fit the file's " << file_size << " bytes)");
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const std::exception&) {
    PDS_FAIL(path << ": not a safetensors file (the header is not valid JSON)");
  }
  PDS_CHECK(header.is_object(), path << ": not a safetensors file (the header is not a JSON object)");

  SafetensorsContent content;
  const std::uint64_t data_size = file_size - 8 - n;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      PDS_CHECK(it->is_object(), path << ": __metadata__ must be an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        PDS_CHECK(m->is_string(), path << ": __metadata__." << printable(m.key()) << " must be a string");
        content.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const auto& v = *it;
    PDS_CHECK(v.is_object() && v.contains("dtype") && v.contains("shape") && v.contains("data_offsets"),
              path << ": tensor '" << printable(it.key()) << "' needs dtype, shape and data_offsets");
    TensorRecord t;
    t.name = it.key();
    const std::string name = printable(t.name);
    // Integers only (nlohmann converts a float such as 1e30 with undefined behaviour).
    const auto integers = [&](const nlohmann::json& a, const char* what) {
      PDS_CHECK(a.is_array() && std::all_of(a.begin(), a.end(), [](const nlohmann::json& e) {
                  return e.is_number_unsigned() ||
                         (e.is_number_integer() && e.get<std::int64_t>() >= 0);
                }),
                path << ": tensor '" << name << "': " << what << " must be a list of non-negative integers");
      std::vector<std::uint64_t> out;
      for (const auto& e : a) out.push_back(e.get<std::uint64_t>());
      return out;
    };
    PDS_CHECK(v.at("dtype").is_string(), path << ": tensor '" << name << "': dtype must be a string");
    t.dtype = v.at("dtype").get<std::string>();
    const auto item = dtype_size(t.dtype);
    const auto offsets = integers(v.at("data_offsets"), "data_offsets");
    PDS_CHECK(offsets.size() == 2, path << ": tensor '" << name << "': data_offsets must be [begin, end]");
    ranges.emplace_back(offsets[0], offsets[1]);
    const auto [begin, end] = ranges.back();
    PDS_CHECK(begin <= end && end <= data_size,
              path << ": tensor '" << name << "' data [" << begin << ", " << end << ") lies outside the "
                   << data_size << " data bytes (truncated file?)");
    // The byte count is multiplied out only while it cannot overflow.
    std::uint64_t expected = item;
    for (auto d : integers(v.at("shape"), "shape")) {
      PDS_CHECK(d <= std::uint64_t(INT64_MAX) && (d == 0 || expected <= UINT64_MAX / d),
                path << ": tensor '" << name << "' " << t.dtype << " has a shape whose size overflows 64 bits");
      expected *= d;
      t.shape.push_back(static_cast<std::int64_t>(d));
    }
    PDS_CHECK(end - begin == expected, path << ": tensor '" << name << "' " << t.dtype << " " << shape_text(t.shape)
                                            << " needs " << expected << " bytes, its offsets span " << end - begin);
    t.data.resize(end - begin);
    in.seekg(static_cast<std::streamoff>(8 + n + begin));
    in.read(reinterpret_cast<char*>(t.data.data()), static_cast<std::streamsize>(t.data.size()));
    PDS_CHECK(in.good(), path << ": cannot read the data of tensor '" << t.name << "'");
    content.tensors.push_back(std::move(t));
  }
  // Tensors must tile the data region without overlaps or holes (as the reference checks).
  std::vector<std::size_t> order(content.tensors.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return ranges[a] < ranges[b]; });
  std::uint64_t cursor = 0;
  for (auto i : order) {
    PDS_CHECK(ranges[i].first == cursor, path << ": tensor data overlaps or leaves a gap at byte " << cursor);
    cursor = ranges[i].second;
  }
  PDS_CHECK(cursor == data_size, path << ": " << data_size - cursor << " trailing bytes after the last tensor");
  std::vector<TensorRecord> sorted;
  for (auto i : order) sorted.push_back(std::move(content.tensors[i]));
  content.tensors = std::move(sorted);
  return content;
}

}  // namespace pdestream::io
