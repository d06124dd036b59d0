// .safetensors: round trips, the byte layout, every malformed-file path, and a numpy-only
// Python parser reading what we wrote.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/safetensors.hpp"
#include "tests/test_util.hpp"

using namespace pdestream;
using io::TensorRecord;

namespace {

template <class T>
TensorRecord make(const std::string& name, const std::string& dtype, std::vector<std::int64_t> shape,
                  const std::vector<T>& values) {
  TensorRecord t{name, dtype, std::move(shape), {}};
  t.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());  // memcpy(_, null, 0) is UB
  return t;
}

std::vector<TensorRecord> sample_tensors() {
  std::vector<float> w(2 * 3 * 4);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.5f * static_cast<float>(i) - 3.0f;
  return {make<float>("fc0.weight", "F32", {2, 3, 4}, w),
          make<double>("fc0.bias", "F64", {3}, {1.5, -2.25, 1e-300}),
          make<std::int64_t>("step", "I64", {}, {123456789012345LL}),
          make<float>("empty", "F32", {0, 5}, {})};
}

std::string error_of(const std::string& path) {
  try {
    io::read_safetensors(path);
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

std::string read_bytes(const std::string& path) { return pdestream::testing::read_text(path); }
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// A file with this raw header JSON and these data bytes.
std::string craft(const std::string& dir, const std::string& name, const std::string& header, std::size_t data) {
  std::string bytes(8, '\0');
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  bytes += header + std::string(data, '\x01');
  const std::string path = dir + "/" + name;
  write_bytes(path, bytes);
  return path;
}

}  // namespace

TEST(Safetensors, RoundTripKeepsNamesShapesValuesAndMetadata) {
  const auto dir = pdestream::testing::scratch_dir("st", MPI_COMM_SELF);
  const auto tensors = sample_tensors();
  io::write_safetensors(dir + "/m.safetensors", tensors, {{"model", "{\"name\": \"fno\"}"}, {"format", "pt"}});
  const auto back = io::read_safetensors(dir + "/m.safetensors");
  EXPECT_EQ(back.metadata.at("format"), "pt");
  EXPECT_EQ(back.metadata.at("model"), "{\"name\": \"fno\"}");
  ASSERT_EQ(back.tensors.size(), tensors.size());
  for (const auto& t : tensors) {
    const auto* b = back.find(t.name);
    ASSERT_NE(b, nullptr) << t.name;
    EXPECT_EQ(b->dtype, t.dtype);
    EXPECT_EQ(b->shape, t.shape);
    EXPECT_EQ(b->data, t.data);
  }
  EXPECT_NO_THROW(back.require("fc0.bias", "F64", {3}, "m"));
  EXPECT_EQ([&] {
    try {
      back.require("fc0.bias", "F32", {3}, "m.safetensors");
    } catch (const Error& e) {
      return e.message();
    }
    return std::string();
  }(), "m.safetensors: tensor 'fc0.bias' is F64 [3], expected F32 [3]");
  EXPECT_THROW(back.require("fc9.bias", "F64", {3}, "m"), Error);
}

TEST(Safetensors, ByteLayoutFollowsTheFormat) {
  const auto dir = pdestream::testing::scratch_dir("layout", MPI_COMM_SELF);
  io::write_safetensors(dir + "/a.safetensors", {make<float>("x", "F32", {2}, {1.0f, 2.0f})});
  const std::string bytes = read_bytes(dir + "/a.safetensors");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(n % 8, 0u) << "header padded to 8 bytes";
  EXPECT_EQ(bytes.size(), 8 + n + 8);
  const std::string header = bytes.substr(8, n);
  EXPECT_NE(header.find("\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"), std::string::npos) << header;
  float v[2];
  std::memcpy(v, bytes.data() + 8 + n, 8);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], 2.0f);
}

TEST(Safetensors, MalformedFilesGiveClearErrors) {
  const auto dir = pdestream::testing::scratch_dir("bad", MPI_COMM_SELF);
  EXPECT_EQ(error_of(dir + "/none.safetensors"), "safetensors file '" + dir + "/none.safetensors' does not exist");
  write_bytes(dir + "/short", "abc");
  EXPECT_NE(error_of(dir + "/short").find("not a safetensors file (3 bytes"), std::string::npos);
  write_bytes(dir + "/text", "this is a text file, certainly not safetensors");
  EXPECT_NE(error_of(dir + "/text").find("does not fit the file"), std::string::npos);
  auto p = craft(dir, "json", "{not json", 0);
  EXPECT_NE(error_of(p).find("header is not valid JSON"), std::string::npos);
  p = craft(dir, "dtype", R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", 4);
  EXPECT_NE(error_of(p).find("unknown safetensors dtype 'F33'"), std::string::npos);
  p = craft(dir, "size", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4);
  EXPECT_NE(error_of(p).find("needs 8 bytes, its offsets span 4"), std::string::npos);
  p = craft(dir, "gap", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
  EXPECT_NE(error_of(p).find("overlaps or leaves a gap"), std::string::npos);
  p = craft(dir, "overlap",
            R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
  EXPECT_NE(error_of(p).find("overlaps or leaves a gap"), std::string::npos);
  p = craft(dir, "missing", R"({"a":{"dtype":"F32","shape":[1]}})", 4);
  EXPECT_NE(error_of(p).find("needs dtype, shape and data_offsets"), std::string::npos);
  // A real file cut short.
  io::write_safetensors(dir + "/full", sample_tensors());
  const std::string full = read_bytes(dir + "/full");
  write_bytes(dir + "/cut", full.substr(0, full.size() - 5));
  EXPECT_NE(error_of(dir + "/cut").find("truncated file?"), std::string::npos) << error_of(dir + "/cut");
  for (const auto& file : {"short", "text", "json", "dtype", "size", "gap", "overlap", "missing", "cut"})
    EXPECT_EQ(error_of(dir + "/" + file).find('\n'), std::string::npos) << "one line: " << file;
}

TEST(Safetensors, WriterRejectsInconsistentTensors) {
  const auto dir = pdestream::testing::scratch_dir("w", MPI_COMM_SELF);
  auto t = sample_tensors();
  t.push_back(t.front());
  EXPECT_THROW(io::write_safetensors(dir + "/dup", t), Error);
  EXPECT_THROW(io::write_safetensors(dir + "/size", {make<float>("x", "F32", {3}, {1.0f})}), Error);
  EXPECT_FALSE(std::filesystem::exists(dir + "/dup"));
}

TEST(Safetensors, NumpyOnlyPythonParserReadsOurFile) {
  const auto dir = pdestream::testing::scratch_dir("py", MPI_COMM_SELF);
  io::write_safetensors(dir + "/m.safetensors", sample_tensors(), {{"format", "pt"}});
  const std::string cmd = std::string("/usr/bin/python3 ") + pdestream::testing::source_path("tests/io/check_safetensors.py") +
                          " " + dir + "/m.safetensors";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}
