#pragma once
// Writing whole files so that a full disk (or `ulimit -f`) is a one-line error and never
// leaves a partial file behind.

#include <string>
#include <string_view>

namespace pdestream {

// Writes `bytes` to `path` and checks that every byte arrived. On failure the partial file
// is removed and pdestream::Error says "wrote K of N bytes of PATH (disk full?)".
void write_file(const std::string& path, std::string_view bytes);

// write_file to PATH.tmp, then rename it over PATH: readers see the old file or the new one,
// never half of one. On failure PATH is unchanged and PATH.tmp is gone.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace pdestream
