// ParaView export, read back with VTK's own XML readers (what ParaView uses).
#include "io/paraview.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vtkDataArray.h>
#include <vtkImageData.h>
#include <vtkPointData.h>
#include <vtkSmartPointer.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLDataParser.h>
#include <vtkXMLGenericDataObjectReader.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
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


// Rank `rank`'s block of a split of the grid into procs[0] x procs[1] x procs[2] blocks
// (ranks numbered x slowest), with uneven block sizes when the axis does not divide.
Box block(const Grid& g, std::array<int, 3> procs, int rank) {
  std::array<int, 3> coord{rank / (procs[1] * procs[2]), (rank / procs[2]) % procs[1],
                           rank % procs[2]};
  Box b;
  for (int a = 0; a < 3; ++a) {
    const int n = a < g.dim ? g.shape[a] : 1;
    const int base = n / procs[a], extra = n % procs[a];
    b.lo[a] = coord[a] * base + std::min(coord[a], extra);
    b.hi[a] = b.lo[a] + base + (coord[a] < extra ? 1 : 0);
  }
  return b;
}

double coord(const Grid& g, int axis, int index) {
  return axis < g.dim ? g.coordinate(axis, index) : 0.0;
}

// Analytic channels: asymmetric in x, y, z so any transposition or shift shows.
double u_value(double x, double y, double z, double t) {
  return std::sin(3.0 * x) + 2.0 * y * y + 3.0 * z + t;
}
double v_value(double x, double y, double z, double t) { return x * y - 5.0 * z + 10.0 * t; }

Field make_field(const Grid& g, const Box& b, double t) {
  Field f({"u", "v"}, b);
  for (int i = b.lo[0]; i < b.hi[0]; ++i)
    for (int j = b.lo[1]; j < b.hi[1]; ++j)
      for (int k = b.lo[2]; k < b.hi[2]; ++k) {
        const double x = coord(g, 0, i), y = coord(g, 1, j), z = coord(g, 2, k);
        f.at(i, j, k, 0) = u_value(x, y, z, t);
        f.at(i, j, k, 1) = v_value(x, y, z, t);
      }
  return f;
}

vtkSmartPointer<vtkImageData> read_image(const std::string& path) {
  auto reader = vtkSmartPointer<vtkXMLGenericDataObjectReader>::New();
  reader->SetFileName(path.c_str());
  reader->Update();
  auto* img = vtkImageData::SafeDownCast(reader->GetOutput());
  if (!img) return nullptr;
  vtkSmartPointer<vtkImageData> out = img;
  return out;
}

// Checks extent, origin, spacing, array names/types and every point value of `img`.
void check_image(vtkImageData* img, const Grid& g, const Box& expect, double t,
                 const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_NE(img, nullptr) << "VTK could not read " << what;
  int ext[6];
  img->GetExtent(ext);
  for (int a = 0; a < 3; ++a) {
    EXPECT_EQ(ext[2 * a], expect.lo[a]) << "axis " << a;
    EXPECT_EQ(ext[2 * a + 1], expect.hi[a] - 1) << "axis " << a;
  }
  double origin[3], spacing[3];
  img->GetOrigin(origin);
  img->GetSpacing(spacing);
  for (int a = 0; a < g.dim; ++a) {
    EXPECT_DOUBLE_EQ(origin[a], g.lower[a]) << "axis " << a;
    EXPECT_DOUBLE_EQ(spacing[a], g.spacing(a)) << "axis " << a;
  }
  auto* pd = img->GetPointData();
  ASSERT_EQ(pd->GetNumberOfArrays(), 2);
  vtkDataArray* u = pd->GetArray("u");
  vtkDataArray* v = pd->GetArray("v");
  ASSERT_NE(u, nullptr);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(u->GetDataType(), VTK_DOUBLE);
  EXPECT_EQ(v->GetDataType(), VTK_DOUBLE);
  ASSERT_EQ(u->GetNumberOfTuples(), static_cast<vtkIdType>(expect.num_points()));
  int bad = 0;
  for (int i = expect.lo[0]; i < expect.hi[0]; ++i)
    for (int j = expect.lo[1]; j < expect.hi[1]; ++j)
      for (int k = expect.lo[2]; k < expect.hi[2]; ++k) {
        int ijk[3] = {i, j, k};
        const vtkIdType id = img->ComputePointId(ijk);
        const double x = coord(g, 0, i), y = coord(g, 1, j), z = coord(g, 2, k);
        // Physical position from VTK must agree with ours too.
        double p[3];
        img->GetPoint(id, p);
        if (std::abs(p[0] - x) > 1e-12 || std::abs(p[1] - y) > 1e-12 ||
            std::abs(p[2] - z) > 1e-12)
          ++bad;
        if (std::abs(u->GetComponent(id, 0) - u_value(x, y, z, t)) > 1e-12 ||
            std::abs(v->GetComponent(id, 0) - v_value(x, y, z, t)) > 1e-12) {
          if (bad++ < 5)
            ADD_FAILURE() << "point (" << i << ", " << j << ", " << k << "): u = "
                          << u->GetComponent(id, 0) << " (expected " << u_value(x, y, z, t)
                          << "), v = " << v->GetComponent(id, 0) << " (expected "
                          << v_value(x, y, z, t) << ")";
        }
      }
  EXPECT_EQ(bad, 0) << "points with wrong values or positions";
}

struct PvdEntry {
  double time;
  std::string file;
};

std::vector<PvdEntry> parse_pvd(const std::string& path) {
  std::vector<PvdEntry> out;
  auto parser = vtkSmartPointer<vtkXMLDataParser>::New();
  parser->SetFileName(path.c_str());
  EXPECT_EQ(parser->Parse(), 1) << path << " is not well-formed XML";
  vtkXMLDataElement* root = parser->GetRootElement();
  if (!root) {
    ADD_FAILURE() << "no root element in " << path;
    return out;
  }
  EXPECT_STREQ(root->GetName(), "VTKFile");
  EXPECT_STREQ(root->GetAttribute("type"), "Collection");
  vtkXMLDataElement* coll = root->FindNestedElementWithName("Collection");
  if (!coll) {
    ADD_FAILURE() << "no <Collection> in " << path;
    return out;
  }
  for (int i = 0; i < coll->GetNumberOfNestedElements(); ++i) {
    vtkXMLDataElement* ds = coll->GetNestedElement(i);
    EXPECT_STREQ(ds->GetName(), "DataSet");
    const char* t = ds->GetAttribute("timestep");
    const char* f = ds->GetAttribute("file");
    if (!t || !f) {
      ADD_FAILURE() << "DataSet without timestep/file in " << path;
      continue;
    }
    out.push_back({std::stod(t), f});
  }
  return out;
}

std::string frame_stem(const std::string& name, int frame) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "_%06d", frame);
  return name + buf;
}

struct Case {
  const char* label;
  Grid grid;
  int split_axis;  // the ranks are split along this axis
};

Grid grid_1d() {
  Grid g;
  g.dim = 1;
  g.shape = {13, 1, 1};
  g.lower = {-1.0, 0.0, 0.0};
  g.upper = {2.0, 0.0, 0.0};
  return g;
}
Grid grid_2d() { return Grid::make_2d(9, 7, 0.0, 1.0, -1.0, 2.0); }
Grid grid_3d() {
  Grid g;
  g.dim = 3;
  g.shape = {5, 6, 7};
  g.lower = {0.0, -0.5, 1.0};
  g.upper = {1.0, 0.5, 4.0};
  g.periodic = {false, true, false};  // periodic spacing must come through as well
  return g;
}

// gtest prints parameters by label, not as raw bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

class ParaViewRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(ParaViewRoundTrip, ThreeFramesReadBackWithVtk) {
  const Case& c = GetParam();
  MPI_Comm comm = MPI_COMM_WORLD;  // test harness owns the world communicator
  const int rank = comm_rank(comm), size = comm_size(comm);
  const Grid& g = c.grid;
  std::array<int, 3> procs{1, 1, 1};
  procs[c.split_axis] = size;
  ASSERT_GE(g.shape[c.split_axis], size);

  const std::string dir = pdestream::testing::scratch_dir(c.label, comm) + "/out";
  ParaViewWriter writer(dir, "flow", g, comm);
  EXPECT_EQ(writer.pvd_path(), dir + "/flow.pvd");
  const std::vector<double> times{0.0, 0.25, 1.5};
  const Box mine = block(g, procs, rank);

  for (int f = 0; f < 3; ++f) {
    writer.write(make_field(g, mine, times[f]), times[f]);
    EXPECT_EQ(writer.frames(), f + 1);
    if (rank == 0) {
      // The collection is valid after every frame.
      auto entries = parse_pvd(writer.pvd_path());
      EXPECT_EQ(entries.size(), static_cast<std::size_t>(f + 1));
    }
  }
  if (rank != 0) return;

  const Box whole = Box::whole(g);
  for (int f = 0; f < 3; ++f) {
    const std::string stem = frame_stem("flow", f);
    const std::string file = dir + "/" + stem + (size == 1 ? ".vti" : ".pvti");
    ASSERT_TRUE(fs::exists(file)) << file;
    auto img = read_image(file);
    check_image(img, g, whole, times[f], file);
    if (size > 1) {
      // Each piece: its own block plus one point layer on the upper faces.
      for (int r = 0; r < size; ++r) {
        Box expect = block(g, procs, r);
        for (int a = 0; a < g.dim; ++a) expect.hi[a] = std::min(expect.hi[a] + 1, g.shape[a]);
        const std::string piece = dir + "/" + stem + "/" + stem + "_p" + std::to_string(r) + ".vti";
        ASSERT_TRUE(fs::exists(piece)) << piece;
        check_image(read_image(piece), g, expect, times[f], piece);
      }
    }
  }

  auto entries = parse_pvd(writer.pvd_path());
  ASSERT_EQ(entries.size(), 3u);
  for (int f = 0; f < 3; ++f) {
    EXPECT_DOUBLE_EQ(entries[f].time, times[f]);
    EXPECT_EQ(entries[f].file, frame_stem("flow", f) + (size == 1 ? ".vti" : ".pvti"));
    EXPECT_FALSE(fs::path(entries[f].file).is_absolute());
    EXPECT_TRUE(fs::exists(fs::path(dir) / entries[f].file)) << entries[f].file;
  }
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_NE(e.path().extension(), ".tmp") << "leftover " << e.path();
}

INSTANTIATE_TEST_SUITE_P(
    Grids, ParaViewRoundTrip,
    ::testing::Values(Case{"1d_split_x", grid_1d(), 0}, Case{"2d_split_x", grid_2d(), 0},
                      Case{"2d_split_y", grid_2d(), 1}, Case{"3d_split_x", grid_3d(), 0},
                      Case{"3d_split_y", grid_3d(), 1}, Case{"3d_split_z", grid_3d(), 2}),
    [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.label); });

// Ranks factored over x and y (4 -> 2x2, 6 -> 3x2; 2 -> 2x1): with 4 or more ranks the
// pieces get upper layers from neighbours along two axes, including the diagonal one.
TEST(ParaViewWriter, UnevenBlocksOverManyAxes) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const int rank = comm_rank(comm), size = comm_size(comm);
  Grid g = grid_3d();
  // Factor the ranks over x and y (e.g. 4 -> 2x2, 2 -> 2x1, 3 -> 3x1).
  std::array<int, 3> procs{size, 1, 1};
  for (int p = static_cast<int>(std::sqrt(size)); p >= 1; --p)
    if (size % p == 0) {
      procs = {size / p, p, 1};
      break;
    }
  if (procs[0] > g.shape[0] || procs[1] > g.shape[1]) GTEST_SKIP() << "too many ranks";
  const std::string dir = pdestream::testing::scratch_dir("blocks", comm);
  ParaViewWriter writer(dir, "b", g, comm);
  writer.write(make_field(g, block(g, procs, rank), 0.5), 0.5);
  if (rank == 0)
    check_image(read_image(dir + "/b_000000" + (size == 1 ? ".vti" : ".pvti")), g,
                Box::whole(g), 0.5, "3d blocks");
}

// A rank without points takes part in the collective calls but writes no piece.
TEST(ParaViewWriter, RankWithEmptyBlock) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const int rank = comm_rank(comm), size = comm_size(comm);
  const Grid g = grid_2d();
  Box b = Box::whole(g);
  if (size > 1) {
    // Rank 0 is empty, the others split the grid along y.
    b = rank == 0 ? Box{{0, 0, 0}, {0, 0, 1}} : block(g, {1, size - 1, 1}, rank - 1);
  }
  const std::string dir = pdestream::testing::scratch_dir("empty", comm);
  ParaViewWriter writer(dir, "e", g, comm);
  writer.write(make_field(g, b, 2.0), 2.0);
  if (rank != 0) return;
  check_image(read_image(dir + "/e_000000" + (size == 1 ? ".vti" : ".pvti")), g, Box::whole(g),
              2.0, "empty rank");
  if (size > 1) {
    EXPECT_FALSE(fs::exists(dir + "/e_000000/e_000000_p0.vti"));
  }
}

TEST(ParaViewWriter, BoxesThatDoNotTileTheGridAreAnErrorOnEveryRank) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const int size = comm_size(comm);
  const Grid g = grid_2d();
  const std::string dir = pdestream::testing::scratch_dir("tiling", comm);
  ParaViewWriter writer(dir, "bad", g, comm);
  // One rank: half the grid is missing. Several ranks: everyone claims the whole grid.
  Box b = Box::whole(g);
  if (size == 1) b.hi[0] = 4;
  try {
    writer.write(make_field(g, b, 0.0), 0.0);
    FAIL() << "expected pdestream::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad"));
    EXPECT_THAT(e.what(), ::testing::AnyOf(HasSubstr("tile"), HasSubstr("overlap")));
  }
  EXPECT_EQ(writer.frames(), 0);
}

TEST(ParaViewWriter, DifferentChannelNamesAreAnErrorOnEveryRank) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const int rank = comm_rank(comm), size = comm_size(comm);
  if (size < 2) GTEST_SKIP() << "needs 2 ranks";
  const Grid g = grid_2d();
  const std::string dir = pdestream::testing::scratch_dir("channels", comm);
  ParaViewWriter writer(dir, "ch", g, comm);
  Field f = make_field(g, block(g, {size, 1, 1}, rank), 0.0);
  Field renamed(rank == 1 ? std::vector<std::string>{"u", "w"} : f.channels(), f.box());
  renamed.data() = f.data();
  try {
    writer.write(renamed, 0.0);
    FAIL() << "expected pdestream::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("expected the same channels as rank 0"));
  }
}

TEST(ParaViewWriter, UnwritableDirectoryIsAnError) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const std::string dir = pdestream::testing::scratch_dir("unwritable", comm);
  if (comm_rank(comm) == 0) pdestream::testing::write_text(dir + "/file", "x");
  MPI_Barrier(comm);
  try {
    ParaViewWriter writer(dir + "/file/sub", "x", grid_2d(), comm);
    FAIL() << "expected pdestream::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(dir + "/file/sub"));
  }
}

}  // namespace
}  // namespace pdestream::io
