#pragma once
// Helpers shared by the test suites.
#include <mpi.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/grid.hpp"

namespace pdestream::testing {

// A fresh directory under the test's working directory (build tree), identical on every
// rank of `comm` (rank 0 creates it and broadcasts the name).
std::string scratch_dir(const std::string& name, MPI_Comm comm);

// Absolute path of a file in the source tree (e.g. "configs/heat2d.toml").
std::string source_path(const std::string& relative);

// Write a text file (overwriting).
void write_text(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);

// A .npy array of one-byte values with the given shape (C order); rank 0 of `comm` writes,
// then all wait.
void write_npy(const std::string& path, const std::vector<int>& shape, const std::vector<unsigned char>& data,
               MPI_Comm comm, const std::string& descr = "|u1");

// The largest |mine - whole| over mine's box and every channel: a rank's block of a
// distributed solver against the same state computed on one rank (whole must contain it).
double max_block_difference(const Field& mine, const Field& whole);

// Runs f and returns the message of the pdestream::Error it throws ("" if it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

}  // namespace pdestream::testing
