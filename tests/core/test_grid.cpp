#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/runtime.hpp"

using namespace pdestream;

TEST(Grid, VertexCentredSpacingAndCoordinates) {
  Grid g = Grid::make_2d(5, 3, 0.0, 2.0, -1.0, 1.0);
  EXPECT_DOUBLE_EQ(g.spacing(0), 0.5);
  EXPECT_DOUBLE_EQ(g.spacing(1), 1.0);
  EXPECT_DOUBLE_EQ(g.coordinate(0, 4), 2.0);
  EXPECT_EQ(g.coordinates(1), (std::vector<double>{-1.0, 0.0, 1.0}));
  EXPECT_EQ(g.num_points(), 15u);
  g.periodic[0] = true;
  EXPECT_DOUBLE_EQ(g.spacing(0), 0.4);
  EXPECT_THROW(Grid::make_2d(1, 3), Error);
  EXPECT_THROW(Grid::make_2d(3, 3, 1.0, 0.0), Error);
}

TEST(Grid, BoxIntersectionAndContainment) {
  Box a{{0, 0, 0}, {4, 4, 1}}, b{{2, 3, 0}, {6, 5, 1}};
  Box c = a.intersect(b);
  EXPECT_EQ(c, (Box{{2, 3, 0}, {4, 4, 1}}));
  EXPECT_EQ(c.num_points(), 2u);
  EXPECT_TRUE(a.contains(c));
  EXPECT_FALSE(a.contains(b));
  Box d{{5, 0, 0}, {6, 1, 1}};
  EXPECT_TRUE(a.intersect(d).empty());
}

TEST(Field, RowMajorXSlowestChannelFastest) {
  Box box{{2, 1, 0}, {4, 4, 1}};
  Field f({"u", "v"}, box);
  EXPECT_EQ(f.size(), 2u * 3u * 2u);
  EXPECT_EQ(f.offset(2, 1, 0, 0), 0u);
  EXPECT_EQ(f.offset(2, 1, 0, 1), 1u);
  EXPECT_EQ(f.offset(2, 2, 0, 0), 2u);
  EXPECT_EQ(f.offset(3, 1, 0, 0), 6u);
  EXPECT_EQ(f.channel_index("v"), 1);
  EXPECT_THROW(f.channel_index("w"), Error);
  EXPECT_TRUE(f.all_finite());
  f.at(3, 3, 0, 1) = std::nan("");
  EXPECT_FALSE(f.all_finite());
}

TEST(Runtime, AgreeOnErrorPropagatesTheFirstFailingRanksMessage) {
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  EXPECT_NO_THROW(agree_on_error(MPI_COMM_WORLD, ""));
  try {
    collective_try(MPI_COMM_WORLD, [&] { PDS_CHECK(rank != size - 1, "rank " << rank << " failed"); });
    FAIL() << "expected a CollectiveError";
  } catch (const CollectiveError& e) {
    EXPECT_EQ(std::string(e.what()), "rank " + std::to_string(size - 1) + " failed");
  }
}

// The multilinear stencil: the lower corner and the fractions, clamped at the upper edge so
// corner + 1 stays on the grid; interpolating a linear function with it is exact.
TEST(Grid, StencilLocatesPointsForMultilinearInterpolation) {
  Grid g;
  g.dim = 3;
  g.shape = {5, 3, 9};
  g.upper = {2.0, 1.0, 4.0};  // spacings 0.5, 0.5, 0.5
  auto s = g.stencil({0.6, 0.25, 4.0});
  EXPECT_EQ(s.lo, (std::array<int, 3>{1, 0, 7}));
  EXPECT_NEAR(s.weight[0], 0.2, 1e-12);
  EXPECT_NEAR(s.weight[1], 0.5, 1e-12);
  EXPECT_NEAR(s.weight[2], 1.0, 1e-12);  // the last point: the last cell, weight 1
  const auto f = [&](int i, int j, int k) { return 3.0 * g.coordinate(0, i) - g.coordinate(1, j) + 0.5 * g.coordinate(2, k); };
  for (const auto& x : std::vector<std::vector<double>>{{0.6, 0.25, 4.0}, {1.99, 0.0, 0.3}, {0.0, 1.0, 2.2}}) {
    const auto t = g.stencil(x);
    double v = 0;
    for (int o = 0; o < 8; ++o) {
      double w = 1;
      std::array<int, 3> q = t.lo;
      for (int a = 0; a < 3; ++a) {
        const int up = (o >> a) & 1;
        q[a] += up;
        w *= up ? t.weight[a] : 1 - t.weight[a];
      }
      v += w * f(q[0], q[1], q[2]);
    }
    EXPECT_NEAR(v, 3.0 * x[0] - x[1] + 0.5 * x[2], 1e-12);
  }
}
