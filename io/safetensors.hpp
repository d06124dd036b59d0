#pragma once
// .safetensors files: the model exchange format of the Python world.
//
// Layout: 8-byte little-endian header length N, N bytes of JSON header
//   {"__metadata__": {"key": "string", ...},
//    "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
// (padded with spaces to a multiple of 8), then the raw little-endian tensor bytes; offsets
// are relative to the start of the data. The reader validates everything a malicious or
// truncated file could get wrong and names the file and the problem in its error.
//
// io/ stays torch-free: tensors travel as bytes + dtype + shape; surrogates/ converts.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pdestream::io {

struct TensorRecord {
  std::string name;
  std::string dtype;             // "F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> data;  // little-endian, row-major

  std::int64_t num_elements() const;
};

struct SafetensorsContent {
  std::map<std::string, std::string> metadata;
  std::vector<TensorRecord> tensors;  // in file order (by offset)

  const TensorRecord* find(const std::string& name) const;
  // Throws unless `name` is present with this dtype and shape.
  const TensorRecord& require(const std::string& name, const std::string& dtype,
                              const std::vector<std::int64_t>& shape, const std::string& source) const;
};

// Bytes per element of a dtype; throws for an unknown dtype.
std::size_t dtype_size(const std::string& dtype);

// Writes atomically (temporary file + rename). Names must be unique and non-empty.
void write_safetensors(const std::string& path, const std::vector<TensorRecord>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

SafetensorsContent read_safetensors(const std::string& path);

}  // namespace pdestream::io
