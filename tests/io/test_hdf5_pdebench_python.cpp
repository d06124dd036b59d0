// Files written by DatasetWriter, opened with h5py: the layout the Python ecosystem
// (PDEBench loaders) expects. Runs tests/io/check_pdebench_layout.py with Debian's python3.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "io/hdf5_dataset.hpp"
#include "tests/test_util.hpp"

#ifndef PDESTREAM_TEST_PYTHON3
#define PDESTREAM_TEST_PYTHON3 "/usr/bin/python3"
#endif

namespace pdestream::io {
namespace {

// Shared with check_pdebench_layout.py.
double value(int s, double t, double x, double y, double z, int c) {
  return (s + 1) * (x + 2 * y * y + 3 * z) + 3 * t + 0.5 * c;
}
double param_value(int s, int p) { return (s + 1) + 0.5 * p; }

std::string python() { return PDESTREAM_TEST_PYTHON3; }

bool have_h5py() {
  const std::string cmd = python() + " -c 'import h5py, numpy' > /dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

int run_check(const std::string& args) {
  const std::string cmd = python() + " " + PDESTREAM_CHECK_SCRIPT + " " + args;
  std::cout << "+ " << cmd << std::endl;
  const int rc = std::system(cmd.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

std::string write_file(const std::string& path, const Grid& g,
                       const std::vector<std::string>& channels) {
  DatasetLayout L;
  L.grid = g;
  L.channels = channels;
  L.num_samples = 3;
  L.times = {0.0, 0.1, 0.2, 0.3};
  L.param_names = {"nu", "amp"};
  L.solver = "heat";
  L.config_toml = "[solver]\nname = \"heat\"\n";
  DatasetWriter w(path, L, MPI_COMM_WORLD);
  const Box b = Box::whole(g);
  for (int s = 0; s < L.num_samples; ++s)
    for (int t = 0; t < L.num_times(); ++t) {
      Field f(channels, b);
      for (int i = b.lo[0]; i < b.hi[0]; ++i)
        for (int j = b.lo[1]; j < b.hi[1]; ++j)
          for (int k = b.lo[2]; k < b.hi[2]; ++k)
            for (int c = 0; c < f.num_channels(); ++c)
              f.at(i, j, k, c) =
                  value(s, L.times[t], g.coordinate(0, i), g.dim > 1 ? g.coordinate(1, j) : 0.0,
                        g.dim > 2 ? g.coordinate(2, k) : 0.0, c);
      w.write_frame(s, t, &f);
    }
  std::vector<std::vector<double>> params;
  for (int s = 0; s < L.num_samples; ++s) params.push_back({param_value(s, 0), param_value(s, 1)});
  w.write_params(params);
  w.close();

  std::ostringstream args;
  args << path << " --samples 3 --times 0 0.1 0.2 0.3 --shape";
  for (int a = 0; a < g.dim; ++a) args << ' ' << g.shape[a];
  args << " --lower";
  for (int a = 0; a < g.dim; ++a) args << ' ' << g.lower[a];
  args << " --upper";
  for (int a = 0; a < g.dim; ++a) args << ' ' << g.coordinate(a, g.shape[a] - 1);
  args << " --channels";
  for (const auto& c : channels) args << ' ' << c;
  args << " --params nu amp --solver heat";
  return args.str();
}

TEST(PdebenchLayout, H5pyReadsWhatWeWrite) {
  if (!have_h5py()) GTEST_SKIP() << python() << " lacks h5py/numpy (apt install python3-h5py)";
  const std::string dir = pdestream::testing::scratch_dir("h5py", MPI_COMM_WORLD);

  const std::string args2d =
      write_file(dir + "/2d.h5", Grid::make_2d(8, 6, 0.0, 1.0, -1.0, 1.0), {"u", "v"});
  EXPECT_EQ(run_check(args2d), 0);

  Grid g3;
  g3.dim = 3;
  g3.shape = {5, 4, 3};
  g3.lower = {0.0, 0.0, 0.0};
  g3.upper = {1.0, 2.0, 1.0};
  g3.periodic = {true, false, false};
  EXPECT_EQ(run_check(write_file(dir + "/3d.h5", g3, {"u"})), 0);

  Grid g1;
  g1.dim = 1;
  g1.shape = {16, 1, 1};
  g1.lower = {-1.0, 0.0, 0.0};
  g1.upper = {1.0, 0.0, 0.0};
  EXPECT_EQ(run_check(write_file(dir + "/1d.h5", g1, {"rho", "m", "E"})), 0);

  // The checker really checks: a wrong expectation fails.
  EXPECT_NE(run_check(args2d + " --shape 6 8"), 0);
}

}  // namespace
}  // namespace pdestream::io
