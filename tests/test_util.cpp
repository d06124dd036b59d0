#include "tests/test_util.hpp"

#include <algorithm>
#include <cmath>
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

double max_block_difference(const Field& mine, const Field& whole) {
  const Box& b = mine.box();
  PDS_CHECK(whole.box().contains(b) && whole.num_channels() == mine.num_channels(),
            "max_block_difference: the whole field does not contain the block");
  double worst = 0;
  for (int i = b.lo[0]; i < b.hi[0]; ++i)
    for (int j = b.lo[1]; j < b.hi[1]; ++j)
      for (int k = b.lo[2]; k < b.hi[2]; ++k)
        for (int c = 0; c < mine.num_channels(); ++c)
          worst = std::max(worst, std::abs(mine.at(i, j, k, c) - whole.at(i, j, k, c)));
  return worst;
}

void write_npy(const std::string& path, const std::vector<int>& shape, const std::vector<unsigned char>& data,
               MPI_Comm comm, const std::string& descr) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
    for (int s : shape) dict += std::to_string(s) + ", ";
    dict += "), }";
    while ((10 + dict.size() + 1) % 64) dict += ' ';
    dict += '\n';
    std::ofstream out(path, std::ios::binary);
    out.write("\x93NUMPY\x01\x00", 8);
    const unsigned short len = static_cast<unsigned short>(dict.size());
    const char l[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
    out.write(l, 2);
    out << dict;
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  }
  MPI_Barrier(comm);
}

}  // namespace pdestream::testing
