#include "tests/test_util.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace pdestream::testing {

namespace fs = std::filesystem;

std::string scratch_dir(const std::string& name, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string path;
  if (rank == 0) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string test = info ? std::string(info->test_suite_name()) + "." + info->name() : "none";
    // A communicator smaller than the world (e.g. MPI_COMM_SELF on 2 ranks) gets a
    // directory per world rank, so its rank 0s do not race on the same path.
    int world_rank = 0, world_size = 1, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    MPI_Comm_size(comm, &size);
    if (size < world_size) test += ".r" + std::to_string(world_rank);
    fs::path p = fs::current_path() / "scratch" / (test + "." + name);
    fs::remove_all(p);
    fs::create_directories(p);
    path = p.string();
  }
  int n = static_cast<int>(path.size());
  MPI_Bcast(&n, 1, MPI_INT, 0, comm);
  path.resize(n);
  MPI_Bcast(path.data(), n, MPI_CHAR, 0, comm);
  return path;
}

std::string source_path(const std::string& relative) {
  const char* root = std::getenv("PDESTREAM_SOURCE_DIR");
  if (!root) throw std::runtime_error("PDESTREAM_SOURCE_DIR is not set; run tests via ctest");
  return (fs::path(root) / relative).string();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace pdestream::testing
