// HDF5 datasets in PDEBench's layout: collective writes from several ranks (different
// samples in the same call), lazy reads, PDEBench files without pdestream's extras, and the
// errors a user gets for files that are not what we expect.
#include "io/hdf5_dataset.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hdf5.h>

#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "core/grid.hpp"
#include "tests/test_util.hpp"

namespace pdestream::io {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;


// Block `part` of `parts` along `axis`, uneven sizes allowed.
Box split(const Grid& g, int axis, int part, int parts) {
  Box b = Box::whole(g);
  const int n = g.shape[axis], base = n / parts, extra = n % parts;
  b.lo[axis] = part * base + std::min(part, extra);
  b.hi[axis] = b.lo[axis] + base + (part < extra ? 1 : 0);
  return b;
}

// Exactly representable in float32, and different for every (sample, t, i, j, k, c).
double value(int s, int t, int i, int j, int k, int c) {
  return 1000.0 * s + 100.0 * t + 10.0 * i + j + 0.5 * k + 0.25 * c;
}

Field make_block(const DatasetLayout& L, const Box& b, int s, int t) {
  Field f(L.channels, b);
  for (int i = b.lo[0]; i < b.hi[0]; ++i)
    for (int j = b.lo[1]; j < b.hi[1]; ++j)
      for (int k = b.lo[2]; k < b.hi[2]; ++k)
        for (int c = 0; c < f.num_channels(); ++c) f.at(i, j, k, c) = value(s, t, i, j, k, c);
  return f;
}

double param_value(int s, int p) { return (s + 1) + 0.5 * p; }

DatasetLayout make_layout(const Grid& g, std::vector<std::string> channels) {
  DatasetLayout L;
  L.grid = g;
  L.channels = std::move(channels);
  L.num_samples = 3;
  L.times = {0.0, 0.1, 0.2, 0.3};
  L.param_names = {"nu", "amp"};
  L.solver = "heat2d";
  L.config_toml = "[solver]\nname = \"heat2d\"\n";
  return L;
}

Grid grid_1d() {
  Grid g;
  g.dim = 1;
  g.shape = {10, 1, 1};
  g.lower = {-1.0, 0.0, 0.0};
  g.upper = {1.0, 0.0, 0.0};
  return g;
}
Grid grid_2d() { return Grid::make_2d(8, 6, 0.0, 1.0, 0.0, 2.0); }
Grid grid_3d() {
  Grid g;
  g.dim = 3;
  g.shape = {4, 3, 5};
  g.lower = {0.0, 0.0, 0.0};
  g.upper = {1.0, 2.0, 4.0};
  return g;
}

// Writes all N x Nt frames: the whole samples 0..N-2 go round-robin, one per rank, so
// different ranks write different samples in the same collective call (and ranks without
// a sample pass nullptr); the last sample is split among all ranks along `split_axis`.
void write_all(DatasetWriter& w, MPI_Comm comm, int split_axis) {
  const DatasetLayout& L = w.layout();
  const int rank = comm_rank(comm), size = comm_size(comm);
  const int N = L.num_samples;
  for (int t = L.num_times() - 1; t >= 0; --t) {  // any order works
    for (int base = 0; base < N - 1; base += size) {
      const int s = base + rank;
      if (s < N - 1) {
        Field f = make_block(L, Box::whole(L.grid), s, t);
        w.write_frame(s, t, &f);
      } else {
        w.write_frame(s, t, nullptr);
      }
    }
    Field part = make_block(L, split(L.grid, split_axis, rank, size), N - 1, t);
    w.write_frame(N - 1, t, &part);
  }
  std::vector<std::vector<double>> params;
  for (int s = 0; s < N; ++s) params.push_back({param_value(s, 0), param_value(s, 1)});
  w.write_params(params);
}

// Shape and type of a dataset, read with the HDF5 C API directly.
std::vector<hsize_t> h5_shape(const std::string& path, const char* name, bool* is_float32 = nullptr) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0) << path;
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  EXPECT_GE(d, 0) << name;
  hid_t sp = H5Dget_space(d);
  std::vector<hsize_t> dims(H5Sget_simple_extent_ndims(sp));
  H5Sget_simple_extent_dims(sp, dims.data(), nullptr);
  if (is_float32) {
    hid_t t = H5Dget_type(d);
    *is_float32 = H5Tequal(t, H5T_IEEE_F32LE) > 0;
    H5Tclose(t);
  }
  H5Sclose(sp);
  H5Dclose(d);
  H5Fclose(f);
  return dims;
}

void check_frame(const std::vector<float>& v, const DatasetLayout& L, int s, int t,
                 std::size_t offset = 0) {
  const Grid& g = L.grid;
  const int C = static_cast<int>(L.channels.size());
  std::size_t n = offset;
  int bad = 0;
  for (int i = 0; i < g.shape[0]; ++i)
    for (int j = 0; j < g.shape[1]; ++j)
      for (int k = 0; k < g.shape[2]; ++k)
        for (int c = 0; c < C; ++c, ++n)
          if (v[n] != static_cast<float>(value(s, t, i, j, k, c)) && bad++ < 5)
            ADD_FAILURE() << "sample " << s << " t " << t << " point (" << i << ", " << j
                          << ", " << k << ") channel " << c << ": " << v[n] << " != "
                          << value(s, t, i, j, k, c);
  EXPECT_EQ(bad, 0);
}

void check_round_trip(const std::string& path, const DatasetLayout& L) {
  DatasetReader r(path);
  EXPECT_EQ(r.path(), path);
  const DatasetLayout& got = r.layout();
  const int C = static_cast<int>(L.channels.size());
  EXPECT_EQ(got.grid.dim, L.grid.dim);
  for (int a = 0; a < L.grid.dim; ++a) {
    EXPECT_EQ(got.grid.shape[a], L.grid.shape[a]);
    EXPECT_DOUBLE_EQ(got.grid.lower[a], L.grid.lower[a]);
    EXPECT_DOUBLE_EQ(got.grid.upper[a], L.grid.upper[a]);
  }
  EXPECT_EQ(got.channels, L.channels);
  EXPECT_EQ(got.num_samples, L.num_samples);
  ASSERT_EQ(got.num_times(), L.num_times());
  for (int t = 0; t < L.num_times(); ++t) EXPECT_NEAR(got.times[t], L.times[t], 1e-7);
  EXPECT_EQ(got.param_names, L.param_names);
  EXPECT_EQ(got.solver, L.solver);
  EXPECT_EQ(got.config_toml, L.config_toml);
  EXPECT_EQ(got.tensor_shape(), L.tensor_shape());

  // The file itself: tensor rank drops the channel axis when C == 1.
  bool f32 = false;
  auto dims = h5_shape(path, "tensor", &f32);
  EXPECT_TRUE(f32) << "tensor should be float32";
  const hsize_t N = L.num_samples, Nt = L.num_times();
  std::vector<hsize_t> expect{N, Nt};
  for (int a = 0; a < L.grid.dim; ++a) expect.push_back(L.grid.shape[a]);
  if (C > 1) expect.push_back(C);
  EXPECT_EQ(dims, expect);
  EXPECT_EQ(h5_shape(path, "t-coordinate"), std::vector<hsize_t>{Nt});
  EXPECT_EQ(h5_shape(path, "params"), (std::vector<hsize_t>{N, 2}));

  for (int s = 0; s < L.num_samples; ++s)
    for (int t = 0; t < L.num_times(); ++t) {
      SCOPED_TRACE("frame " + std::to_string(s) + "," + std::to_string(t));
      auto v = r.read_frame(s, t);
      ASSERT_EQ(v.size(), L.grid.num_points() * C);
      check_frame(v, L, s, t);
    }
  for (int s = 0; s < L.num_samples; ++s) {
    auto traj = r.read_sample(s);
    const std::size_t frame = L.grid.num_points() * C;
    ASSERT_EQ(traj.size(), Nt * frame);
    for (int t = 0; t < L.num_times(); ++t) check_frame(traj, L, s, t, t * frame);
    auto p = r.params(s);
    ASSERT_EQ(p.size(), 2u);
    EXPECT_DOUBLE_EQ(p[0], param_value(s, 0));
    EXPECT_DOUBLE_EQ(p[1], param_value(s, 1));
  }

  // A sub-block, as a rank would read its own box.
  Box b = Box::whole(L.grid);
  for (int a = 0; a < L.grid.dim; ++a) {
    b.lo[a] = 1;
    b.hi[a] = L.grid.shape[a] - 1;
  }
  Field f = r.read_block(2, 3, b);
  EXPECT_EQ(f.box(), b);
  EXPECT_EQ(f.channels(), L.channels);
  for (int i = b.lo[0]; i < b.hi[0]; ++i)
    for (int j = b.lo[1]; j < b.hi[1]; ++j)
      for (int k = b.lo[2]; k < b.hi[2]; ++k)
        for (int c = 0; c < C; ++c)
          ASSERT_EQ(f.at(i, j, k, c), static_cast<float>(value(2, 3, i, j, k, c)));
}

struct RoundTripCase {
  const char* label;
  Grid grid;
  std::vector<std::string> channels;
  int split_axis;
  bool reserve = true;
};

// gtest prints parameters by label, not as raw bytes.
void PrintTo(const RoundTripCase& c, std::ostream* os) { *os << c.label; }

class Hdf5RoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(Hdf5RoundTrip, CollectiveWriteThenLazyRead) {
  const auto& c = GetParam();
  MPI_Comm comm = MPI_COMM_WORLD;
  const std::string path = pdestream::testing::scratch_dir(c.label, comm) + "/data.h5";
  DatasetLayout L = make_layout(c.grid, c.channels);
  {
    DatasetWriter w(path, L, comm, c.reserve);
    write_all(w, comm, c.split_axis);
    w.close();
    EXPECT_THROW(w.write_frame(0, 0, nullptr), Error);  // closed
  }
  // Every rank reads the file on its own (serial driver), concurrently.
  check_round_trip(path, L);
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, Hdf5RoundTrip,
    ::testing::Values(RoundTripCase{"2d_c1_split_x", grid_2d(), {"u"}, 0},
                      RoundTripCase{"2d_c2_split_y", grid_2d(), {"u", "v"}, 1},
                      RoundTripCase{"1d_c3", grid_1d(), {"rho", "m", "E"}, 0},
                      RoundTripCase{"3d_c1_split_z", grid_3d(), {"u"}, 2},
                      RoundTripCase{"2d_c2_unreserved", grid_2d(), {"u", "v"}, 0, false}),
    [](const ::testing::TestParamInfo<RoundTripCase>& p) {
      return std::string(p.param.label);
    });

TEST(DatasetWriter, BadFrameOnOneRankIsAnErrorOnEveryRank) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const int rank = comm_rank(comm), size = comm_size(comm);
  const std::string path = pdestream::testing::scratch_dir("bad_frame", comm) + "/d.h5";
  DatasetLayout L = make_layout(grid_2d(), {"u", "v"});
  DatasetWriter w(path, L, comm);
  Field f = make_block(L, split(L.grid, 0, rank, size), 0, 0);
  // The last rank asks for sample 3 of 3.
  const int sample = rank == size - 1 ? 3 : 0;
  try {
    w.write_frame(sample, 0, &f);
    FAIL() << "expected pdestream::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("sample index 3 out of range"));
  }
  // Wrong channel names.
  Field g({"u", "w"}, f.box());
  EXPECT_THROW(w.write_frame(0, 0, &g), Error);
  // Wrong parameter rows (rank 0's values count).
  try {
    w.write_params({{1.0, 2.0}});
    FAIL() << "expected pdestream::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("expected 3 rows"));
  }
  // The writer is still usable after collective errors.
  w.write_frame(0, 0, &f);
  w.close();
  DatasetReader r(path);
  EXPECT_EQ(r.read_frame(0, 0)[1], static_cast<float>(value(0, 0, 0, 0, 0, 1)));
}

// The writer allocates the file's blocks before HDF5 writes anything, so that no write can
// meet a full disk later; unreserved, the tensor stays a hole until it is written.
TEST(DatasetWriter, ReservesTheFileAheadOfTheWrites) {
  MPI_Comm comm = MPI_COMM_WORLD;
  Grid g = grid_1d();
  g.shape[0] = 16384;  // 64 KiB frames
  const DatasetLayout L = make_layout(g, {"u"});
  for (const bool reserve : {true, false}) {
    SCOPED_TRACE(reserve ? "reserved" : "unreserved");
    const std::string path =
        pdestream::testing::scratch_dir(reserve ? "reserved" : "unreserved", comm) + "/d.h5";
    DatasetWriter w(path, L, comm, reserve);
    if (comm_rank(comm) == 0) {
      struct stat st {};
      ASSERT_EQ(::stat(path.c_str(), &st), 0);
      const auto size = static_cast<unsigned long long>(st.st_size);
      const auto allocated = static_cast<unsigned long long>(st.st_blocks) * 512;
      EXPECT_GT(size, L.tensor_bytes());
      if (reserve)
        EXPECT_GE(allocated, size) << "every block allocated";
      else
        EXPECT_LT(allocated, size - L.tensor_bytes() / 2) << "a sparse file";
    }
    write_all(w, comm, 0);
    w.close();
    check_round_trip(path, L);
  }
}

// file_bytes() is what the writer reserves, so it must bound the real file: here with 10,000
// one-frame chunks, whose index outweighs the data, and a long config attribute.
TEST(DatasetWriter, FileBytesBoundsTheFile) {
  MPI_Comm comm = MPI_COMM_WORLD;
  DatasetLayout L = make_layout(grid_1d(), {"u"});
  L.num_samples = 200;
  L.times.resize(50);
  for (int t = 0; t < 50; ++t) L.times[t] = 0.01 * t;
  L.config_toml.append(20000, '#');
  const std::string path = pdestream::testing::scratch_dir("bound", comm) + "/d.h5";
  DatasetWriter w(path, L, comm);
  if (comm_rank(comm) == 0) EXPECT_LT(fs::file_size(path), L.file_bytes());
  write_all(w, comm, 0);
  w.close();
  const auto size = fs::file_size(path);
  EXPECT_GT(size, L.tensor_bytes());
  EXPECT_LT(size, L.file_bytes());
  check_round_trip(path, L);
}

TEST(DatasetWriter, UnwritablePathIsAnError) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const std::string path =
      pdestream::testing::scratch_dir("unwritable", comm) + "/no/such/dir/d.h5";
  try {
    DatasetWriter w(path, make_layout(grid_2d(), {"u"}), comm);
    FAIL() << "expected pdestream::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
  }
}

// ---------------------------------------------------------------------------------------
// Reading files from elsewhere, and files that are not datasets.

void h5_write(hid_t file, const char* name, std::vector<hsize_t> dims, const std::vector<float>& v) {
  hid_t sp = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t d = H5Dcreate2(file, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(d, 0) << name;
  ASSERT_GE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
  H5Dclose(d);
  H5Sclose(sp);
}

std::vector<float> iota(std::size_t n, float start = 0.0f, float step = 1.0f) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = start + step * i;
  return v;
}

// A rank-private directory (errors are tested on every rank independently).
std::string private_dir(const std::string& name) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const std::string d = pdestream::testing::scratch_dir(name, comm) + "/rank" +
                        std::to_string(comm_rank(comm));
  fs::create_directories(d);
  return d;
}

TEST(DatasetReader, PdebenchFileWithoutExtras) {
  const std::string dir = private_dir("pdebench");
  // 1D Advection-like: tensor [N, Nt, Nx], cell-centred x, t-coordinate of Nt + 1 values.
  const std::string p1 = dir + "/1D_Advection_like.hdf5";
  {
    hid_t f = H5Fcreate(p1.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    h5_write(f, "tensor", {2, 3, 5}, iota(30));
    h5_write(f, "x-coordinate", {5}, iota(5, 0.1f, 0.2f));
    h5_write(f, "t-coordinate", {4}, iota(4, 0.0f, 0.5f));
    H5Fclose(f);
  }
  DatasetReader r(p1);
  const auto& L = r.layout();
  EXPECT_EQ(L.grid.dim, 1);
  EXPECT_EQ(L.grid.shape[0], 5);
  EXPECT_NEAR(L.grid.lower[0], 0.1, 1e-7);
  EXPECT_NEAR(L.grid.upper[0], 0.9, 1e-7);
  EXPECT_EQ(L.channels, std::vector<std::string>{"u"});
  EXPECT_EQ(L.num_samples, 2);
  ASSERT_EQ(L.num_times(), 3);
  EXPECT_DOUBLE_EQ(L.times[2], 1.0);
  EXPECT_TRUE(L.param_names.empty());
  EXPECT_TRUE(r.params(1).empty());
  EXPECT_EQ(r.read_frame(1, 2), iota(5, 25.0f));
  EXPECT_EQ(r.read_sample(1), iota(15, 15.0f));

  // 2D with a channel axis but no channel names; fixed-length string attributes (what
  // h5py writes for numpy bytes arrays) and params without param_names.
  const std::string p2 = dir + "/2D_channels.h5";
  {
    hid_t f = H5Fcreate(p2.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    h5_write(f, "tensor", {2, 1, 3, 4, 2}, iota(48));
    h5_write(f, "x-coordinate", {3}, iota(3));
    h5_write(f, "y-coordinate", {4}, iota(4));
    h5_write(f, "t-coordinate", {1}, {0.0f});
    hsize_t pd[2] = {2, 1};
    hid_t sp = H5Screate_simple(2, pd, nullptr);
    hid_t d = H5Dcreate2(f, "params", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const double pv[2] = {0.5, 1.5};
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, pv);
    H5Dclose(d);
    H5Sclose(sp);
    // solver as a fixed-length, null-padded string
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 8);
    H5Tset_strpad(st, H5T_STR_NULLPAD);
    hid_t ss = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "solver", st, ss, H5P_DEFAULT, H5P_DEFAULT);
    const char sv[8] = {'b', 'u', 'r', 'g', 'e', 'r', 's', '\0'};
    H5Awrite(a, st, sv);
    H5Aclose(a);
    H5Sclose(ss);
    H5Tclose(st);
    H5Fclose(f);
  }
  DatasetReader r2(p2);
  EXPECT_EQ(r2.layout().grid.dim, 2);
  EXPECT_EQ(r2.layout().channels, (std::vector<std::string>{"c0", "c1"}));
  EXPECT_EQ(r2.layout().solver, "burgers");
  EXPECT_EQ(r2.layout().param_names, std::vector<std::string>{"p0"});
  EXPECT_EQ(r2.params(1), std::vector<double>{1.5});
  EXPECT_EQ(r2.read_frame(1, 0), iota(24, 24.0f));
  Box b;
  b.lo = {1, 2, 0};
  b.hi = {3, 4, 1};
  Field blk = r2.read_block(1, 0, b);
  // tensor[1, 0, i, j, c] = 24 + (i * 4 + j) * 2 + c
  EXPECT_EQ(blk.at(2, 3, 0, 1), 24.0 + (2 * 4 + 3) * 2 + 1);
  EXPECT_EQ(blk.at(1, 2, 0, 0), 24.0 + (1 * 4 + 2) * 2);
}

// The error must name the file and say what was expected.
template <class F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected pdestream::Error";
  } catch (const Error& e) {
    for (const auto& p : parts) EXPECT_THAT(e.what(), HasSubstr(p));
    // One line, no HDF5 error stack.
    EXPECT_EQ(e.message().find('\n'), std::string::npos) << e.what();
  }
}

TEST(DatasetReader, ErrorsNameTheFileAndTheExpectation) {
  const std::string dir = private_dir("errors");

  const std::string missing = dir + "/missing.h5";
  expect_error([&] { DatasetReader r(missing); }, {missing, "file not found"});

  const std::string text = dir + "/x.h5";
  pdestream::testing::write_text(text, "this is not HDF5\n");
  expect_error([&] { DatasetReader r(text); }, {text, "not an HDF5 file", "tensor"});

  expect_error([&] { DatasetReader r(dir); }, {dir, "not a regular file"});

  const std::string no_tensor = dir + "/no_tensor.h5";
  {
    hid_t f = H5Fcreate(no_tensor.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    h5_write(f, "x-coordinate", {4}, iota(4));
    h5_write(f, "density", {2, 3, 4}, iota(24));
    H5Fclose(f);
  }
  expect_error([&] { DatasetReader r(no_tensor); }, {no_tensor, "no dataset 'tensor'"});

  const std::string wrong_rank = dir + "/wrong_rank.h5";
  {
    hid_t f = H5Fcreate(wrong_rank.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    h5_write(f, "tensor", {2, 3, 4}, iota(24));
    h5_write(f, "x-coordinate", {4}, iota(4));
    h5_write(f, "y-coordinate", {5}, iota(5));
    H5Fclose(f);
  }
  expect_error([&] { DatasetReader r(wrong_rank); },
               {wrong_rank, "rank 3", "expected rank 4", "or 5"});

  const std::string wrong_len = dir + "/wrong_len.h5";
  {
    hid_t f = H5Fcreate(wrong_len.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    h5_write(f, "tensor", {2, 3, 4}, iota(24));
    h5_write(f, "x-coordinate", {5}, iota(5));
    h5_write(f, "t-coordinate", {7}, iota(7));
    H5Fclose(f);
  }
  expect_error([&] { DatasetReader r(wrong_len); }, {wrong_len, "x-coordinate", "equal lengths"});

  const std::string wrong_t = dir + "/wrong_t.h5";
  {
    hid_t f = H5Fcreate(wrong_t.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    h5_write(f, "tensor", {2, 3, 4}, iota(24));
    h5_write(f, "x-coordinate", {4}, iota(4));
    h5_write(f, "t-coordinate", {7}, iota(7));
    H5Fclose(f);
  }
  expect_error([&] { DatasetReader r(wrong_t); }, {wrong_t, "t-coordinate", "expected Nt = 3"});

  // A real dataset, for index errors and truncation.
  const std::string good = dir + "/good.h5";
  DatasetLayout L = make_layout(Grid::make_2d(32, 32), {"u", "v"});
  {
    DatasetWriter w(good, L, MPI_COMM_SELF);
    for (int s = 0; s < 3; ++s)
      for (int t = 0; t < 4; ++t) {
        Field f = make_block(L, Box::whole(L.grid), s, t);
        w.write_frame(s, t, &f);
      }
  }
  DatasetReader r(good);
  expect_error([&] { r.read_frame(3, 0); }, {good, "sample index 3", "0 <= sample < 3"});
  expect_error([&] { r.read_frame(-1, 0); }, {good, "sample index -1"});
  expect_error([&] { r.read_frame(0, 4); }, {good, "time index 4", "0 <= t < 4"});
  expect_error([&] { r.read_sample(7); }, {good, "sample index 7"});
  expect_error([&] { r.params(3); }, {good, "sample index 3"});
  Box outside = Box::whole(L.grid);
  outside.hi[0] = 33;
  expect_error([&] { r.read_block(0, 0, outside); }, {good, "outside the grid"});

  // Truncated copies of the real file: an error, never a crash, at whatever size.
  const auto full = fs::file_size(good);
  std::string bytes = pdestream::testing::read_text(good);
  ASSERT_EQ(bytes.size(), full);
  for (std::size_t n : {std::size_t(0), std::size_t(7), std::size_t(100), std::size_t(1000),
                        std::size_t(4096), full / 2, full - 1}) {
    SCOPED_TRACE("truncated to " + std::to_string(n) + " of " + std::to_string(full) + " bytes");
    const std::string cut = dir + "/cut_" + std::to_string(n) + ".h5";
    {
      std::ofstream out(cut, std::ios::binary);
      out.write(bytes.data(), static_cast<std::streamsize>(n));
    }
    expect_error(
        [&] {
          DatasetReader t(cut);
          for (int s = 0; s < 3; ++s) t.read_sample(s);
        },
        {cut});
  }
  // The half-file case says what is wrong.
  const std::string half = dir + "/cut_" + std::to_string(full / 2) + ".h5";
  expect_error([&] { DatasetReader t(half); }, {half, "truncated"});
}

}  // namespace
}  // namespace pdestream::io
