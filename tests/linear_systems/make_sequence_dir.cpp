// Writes a folder in the `pdestream poisson --sequence DIR` format, for the CLI tests:
//   make_sequence_dir DIR COUNT M            COUNT systems (L + 0.2 k I) on an M x M grid
//   make_sequence_dir DIR COUNT M mismatch   ... and the last one on an (M+1) x (M+1) grid
// A test main, like apps/: it owns the world communicator.
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "tests/linear_systems/shifted_system.hpp"

using namespace pdestream;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: make_sequence_dir DIR COUNT M [mismatch]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int count = std::atoi(argv[2]), m0 = std::atoi(argv[3]);
  const bool mismatch = argc > 4 && std::string(argv[4]) == "mismatch";
  Runtime runtime(&argc, &argv, MPI_COMM_WORLD);
  try {
    if (runtime.rank() == 0) std::filesystem::create_directories(dir);
    MPI_Barrier(runtime.comm());
    for (int k = 0; k < count; ++k) {
      const int m = mismatch && k == count - 1 ? m0 + 1 : m0;
      pdestream::testing::write_shifted_system(dir, k, m, 1.0, runtime.comm());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "make_sequence_dir: %s\n", e.message().c_str());
    return 1;
  }
  return 0;
}
