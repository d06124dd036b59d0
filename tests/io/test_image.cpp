// PNG panels, read back with VTK's own PNG reader.
#include "io/image.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>
#include <vtkSmartPointer.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "tests/test_util.hpp"

namespace pdestream::io {
namespace {

namespace fs = std::filesystem;
using ::pdestream::testing::error_of;
using ::testing::HasSubstr;
using Rgb = std::array<int, 3>;

constexpr double kPi = 3.14159265358979323846;
// Ends of the colour maps (viridis; ColorBrewer RdBu reversed), and the diverging centre.
constexpr Rgb kLow{68, 1, 84}, kHigh{253, 231, 37};
constexpr Rgb kBlue{5, 48, 97}, kWhite{247, 247, 247}, kRed{103, 0, 31};

std::string scratch(const std::string& name) {
  return pdestream::testing::scratch_dir("image_" + name, MPI_COMM_SELF);
}

// The PNG as read by vtkPNGReader, addressed top-down like a viewer shows it (the reader
// puts the PNG's first row at VTK's highest y, as VTK's origin is bottom-left).
struct Png {
  vtkSmartPointer<vtkImageData> image;
  int width = 0, height = 0, components = 0;
  Rgb at(int x, int row_from_top) const {
    Rgb c;
    for (int q = 0; q < 3; ++q)
      c[q] = static_cast<int>(
          image->GetScalarComponentAsDouble(x, height - 1 - row_from_top, 0, q));
    return c;
  }
};

Png read_png(const std::string& path) {
  vtkNew<vtkPNGReader> reader;
  EXPECT_TRUE(reader->CanReadFile(path.c_str())) << path;
  reader->SetFileName(path.c_str());
  reader->Update();
  Png png;
  png.image = reader->GetOutput();
  int dims[3];
  png.image->GetDimensions(dims);
  png.width = dims[0];
  png.height = dims[1];
  png.components = png.image->GetNumberOfScalarComponents();
  EXPECT_EQ(dims[2], 1);
  EXPECT_EQ(png.image->GetScalarType(), VTK_UNSIGNED_CHAR);
  return png;
}

int distance(const Rgb& a, const Rgb& b) {
  int d = 0;
  for (int q = 0; q < 3; ++q) d = std::max(d, std::abs(a[q] - b[q]));
  return d;
}
#define EXPECT_COLOUR(actual, expected, tol)                                               \
  EXPECT_LE(distance(actual, expected), tol)                                               \
      << "got (" << (actual)[0] << ", " << (actual)[1] << ", " << (actual)[2] << "), want (" \
      << (expected)[0] << ", " << (expected)[1] << ", " << (expected)[2] << ")"

ImagePanel panel(const std::string& title, int nx, int ny, double (*f)(double, double),
                 bool symmetric = false, int group = -1) {
  ImagePanel p{title, nx, ny, std::vector<double>(static_cast<std::size_t>(nx) * ny), symmetric,
               group};
  for (int i = 0; i < nx; ++i)
    for (int j = 0; j < ny; ++j)
      p.values[static_cast<std::size_t>(i) * ny + j] =
          f((i + 0.5) / nx, (j + 0.5) / ny);  // index i*ny + j, like Field
  return p;
}

double sine(double x, double y) { return std::sin(2 * kPi * x) * std::sin(kPi * y); }
double rises_in_y(double, double y) { return y; }
double rises_in_x(double x, double) { return 10.0 * x - 3.0; }

// A sine field, the same plus noise, their difference: the demo's prediction / truth /
// error row. Checks the size, the layout and the colours at known points.
TEST(PngPanels, ThreePanelsHaveTheRightSizeAndColours) {
  const int nx = 24, ny = 16;
  const ImagePanel truth = panel("u", nx, ny, sine);
  std::vector<double> pred = truth.values;
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.05);
  for (double& v : pred) v += noise(rng);
  const auto panels = comparison_panels(pred, truth.values, nx, ny, "u");
  ASSERT_EQ(panels.size(), 3u);
  EXPECT_EQ(panels[0].title, "u prediction");
  EXPECT_EQ(panels[2].title, "u error");
  EXPECT_TRUE(panels[2].symmetric);
  EXPECT_DOUBLE_EQ(panels[2].values[5], pred[5] - truth.values[5]);

  const std::string path = scratch("three") + "/sample.png";
  ImageOptions o;  // scale 4, gap 4, bar 2 + 6
  const auto ranges = write_png_panels(path, panels, o);
  ASSERT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  // Prediction and truth share one range (the union), the error gets its own symmetric one.
  ASSERT_EQ(ranges.size(), 3u);
  double lo = 1e300, hi = -1e300, emax = 0;
  for (std::size_t k = 0; k < pred.size(); ++k) {
    lo = std::min({lo, pred[k], truth.values[k]});
    hi = std::max({hi, pred[k], truth.values[k]});
    emax = std::max(emax, std::abs(pred[k] - truth.values[k]));
  }
  for (int p = 0; p < 2; ++p) {
    EXPECT_DOUBLE_EQ(ranges[p].low, lo);
    EXPECT_DOUBLE_EQ(ranges[p].high, hi);
  }
  EXPECT_DOUBLE_EQ(ranges[2].low, -emax);
  EXPECT_DOUBLE_EQ(ranges[2].high, emax);
  EXPECT_EQ(ranges[1].title, "u truth");

  const Png png = read_png(path);
  EXPECT_EQ(png.width, 3 * nx * 4 + 2 * 4);
  EXPECT_EQ(png.height, ny * 4 + 2 + 6);
  EXPECT_EQ(png.components, 3);

  // Truth panel (second): sin(2 pi x) sin(pi y) peaks at x = 1/4, y = 1/2 and is lowest at
  // x = 3/4, y = 1/2. With the shared range these are close to the map's ends.
  const int x0 = nx * 4 + 4;  // left edge of the truth panel
  const int mid_row = (ny / 2) * 4;
  const Rgb peak = png.at(x0 + (nx / 4) * 4 + 1, mid_row);
  const Rgb trough = png.at(x0 + (3 * nx / 4) * 4 + 1, mid_row);
  EXPECT_COLOUR(peak, kHigh, 40);
  EXPECT_COLOUR(trough, kLow, 40);
  EXPECT_GT(distance(peak, trough), 150);
  // Gaps and the corner below the colour bars' gap are background.
  EXPECT_COLOUR(png.at(nx * 4, 0), (Rgb{255, 255, 255}), 0);
  EXPECT_COLOUR(png.at(nx * 4 + 3, png.height - 1), (Rgb{255, 255, 255}), 0);
  EXPECT_COLOUR(png.at(0, ny * 4), (Rgb{255, 255, 255}), 0);  // between panel and bar
  // Colour bars: low colour on the left, high on the right; diverging under the error.
  const int bar_row = ny * 4 + 2 + 3;
  EXPECT_COLOUR(png.at(0, bar_row), kLow, 2);
  EXPECT_COLOUR(png.at(nx * 4 - 1, bar_row), kHigh, 2);
  const int x2 = 2 * (nx * 4 + 4);
  EXPECT_COLOUR(png.at(x2, bar_row), kBlue, 2);
  EXPECT_COLOUR(png.at(x2 + nx * 4 - 1, bar_row), kRed, 2);
  EXPECT_COLOUR(png.at(x2 + nx * 2, bar_row), kWhite, 12);
  // Each grid point is a scale x scale block of one colour.
  for (int dx = 0; dx < 4; ++dx)
    for (int dy = 0; dy < 4; ++dy) EXPECT_EQ(png.at(x0 + 20 + dx, 8 + dy), png.at(x0 + 20, 8));
}

// A field increasing with y has the high colour in the top row and the low colour in the
// bottom row (y up, like a plot); a field increasing with x is low left, high right.
TEST(PngPanels, OrientationIsXRightYUp) {
  const int nx = 5, ny = 7, s = 3;
  const std::string path = scratch("orientation") + "/o.png";
  ImageOptions o;
  o.scale = s;
  o.gap = 2;
  o.colour_bar = false;
  write_png_panels(path, {panel("y", nx, ny, rises_in_y), panel("x", nx, ny, rises_in_x)}, o);
  const Png png = read_png(path);
  ASSERT_EQ(png.width, 2 * nx * s + 2);
  ASSERT_EQ(png.height, ny * s);
  for (int x = 0; x < nx * s; ++x) {
    EXPECT_COLOUR(png.at(x, 0), kHigh, 0);
    EXPECT_COLOUR(png.at(x, ny * s - 1), kLow, 0);
  }
  const int x1 = nx * s + 2;
  for (int row = 0; row < ny * s; ++row) {
    EXPECT_COLOUR(png.at(x1, row), kLow, 0);
    EXPECT_COLOUR(png.at(x1 + nx * s - 1, row), kHigh, 0);
  }
  // Monotone in between: green channel of viridis rises with the value.
  for (int row = 1; row < ny * s; ++row) EXPECT_GE(png.at(1, row - 1)[1], png.at(1, row)[1]);
}

// A shared range gives equal values equal colours; a constant panel is drawn in the middle
// of its map; zero error is white, positive red, negative blue.
TEST(PngPanels, SharedRangesConstantsAndSigns) {
  ImagePanel a{"a", 2, 1, {0.0, 1.0}, false, 3};
  ImagePanel b{"b", 2, 1, {1.0, 2.0}, false, 3};  // b's 1.0 is a's max
  ImagePanel c{"c", 2, 1, {5.0, 5.0}};
  ImagePanel e{"e", 3, 1, {-0.5, 0.0, 0.25}, true};
  ImageOptions o;
  o.scale = 1;
  o.gap = 1;
  o.colour_bar = false;
  const std::string path = scratch("shared") + "/s.png";
  const auto r = write_png_panels(path, {a, b, c, e}, o);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].low, 0.0);
  EXPECT_EQ(r[1].high, 2.0);
  EXPECT_LT(r[2].low, 5.0);
  EXPECT_GT(r[2].high, 5.0);
  EXPECT_EQ(r[3].low, -0.5);
  EXPECT_EQ(r[3].high, 0.5);
  const Png png = read_png(path);
  ASSERT_EQ(png.width, 2 + 1 + 2 + 1 + 2 + 1 + 3);
  ASSERT_EQ(png.height, 1);
  EXPECT_COLOUR(png.at(0, 0), kLow, 0);
  EXPECT_EQ(png.at(1, 0), png.at(3, 0));  // 1.0 in a and in b
  EXPECT_COLOUR(png.at(4, 0), kHigh, 0);
  EXPECT_EQ(png.at(6, 0), png.at(7, 0));  // constant
  EXPECT_COLOUR(png.at(6, 0), (Rgb{33, 145, 140}), 3);  // viridis at 0.5
  EXPECT_COLOUR(png.at(9, 0), kBlue, 0);
  EXPECT_COLOUR(png.at(10, 0), kWhite, 2);
  const Rgb pos = png.at(11, 0);
  EXPECT_GT(pos[0], pos[2] + 50);
}

// Several rows (one per validation sample); shorter rows are padded with background.
TEST(PngPanels, RowsStackTopToBottom) {
  const auto r0 = comparison_panels(std::vector<double>(6, 1.0), std::vector<double>(6, 0.0), 3,
                                    2, "u", 0);
  std::vector<ImagePanel> r1{panel("y", 4, 5, rises_in_y)};
  ImageOptions o;
  o.scale = 2;
  o.gap = 3;
  const std::string path = scratch("rows") + "/rows.png";
  const auto ranges = write_png_panels(path, {r0, r1}, o);
  EXPECT_EQ(ranges.size(), 4u);
  const Png png = read_png(path);
  EXPECT_EQ(png.width, 3 * 3 * 2 + 2 * 3);
  EXPECT_EQ(png.height, (2 * 2 + 8) + 3 + (5 * 2 + 8));
  const int top1 = 2 * 2 + 8 + 3;
  EXPECT_COLOUR(png.at(0, top1), kHigh, 0);                  // second row's top: high y
  EXPECT_COLOUR(png.at(0, top1 + 5 * 2 - 1), kLow, 0);
  EXPECT_COLOUR(png.at(4 * 2 + 1, top1), (Rgb{255, 255, 255}), 0);  // padding
  // First row: prediction (1) is the high end and truth (0) the low end of one range.
  EXPECT_COLOUR(png.at(0, 0), kHigh, 0);
  EXPECT_COLOUR(png.at(3 * 2 + 3, 0), kLow, 0);
  EXPECT_COLOUR(png.at(2 * (3 * 2 + 3), 0), kRed, 0);  // error +1 is the top of [-1, 1]
}

TEST(PngPanels, FieldPanelFollowsFieldLayout) {
  Box box;
  box.lo = {2, 10, 0};
  box.hi = {5, 14, 1};
  Field f({"u", "v"}, box);
  for (int i = 2; i < 5; ++i)
    for (int j = 10; j < 14; ++j) {
      f.at(i, j, 0, 0) = 100 * i + j;
      f.at(i, j, 0, 1) = -1;
    }
  const ImagePanel p = field_panel(f, "u");
  EXPECT_EQ(p.title, "u");
  EXPECT_EQ(p.nx, 3);
  EXPECT_EQ(p.ny, 4);
  ASSERT_EQ(p.values.size(), 12u);
  EXPECT_EQ(p.values[1 * 4 + 2], 312.0);
  EXPECT_EQ(field_panel(f, "v", "vee").title, "vee");
  EXPECT_THAT(error_of([&] { field_panel(f, "w"); }), HasSubstr("w"));
  Box box3;
  box3.hi = {2, 2, 2};
  Field f3({"u"}, box3);
  EXPECT_THAT(error_of([&] { field_panel(f3, "u"); }), HasSubstr("2D field"));
}

TEST(PngPanels, BadInputsThrowClearErrors) {
  const std::string dir = scratch("errors");
  const std::string path = dir + "/bad.png";
  const ImagePanel good = panel("good", 4, 3, sine);
  ImageOptions o;

  EXPECT_THAT(error_of([&] { write_png_panels(path, std::vector<ImagePanel>{}, o); }),
              HasSubstr("no panels"));
  ImagePanel empty{"empty", 0, 3, {}};
  EXPECT_THAT(error_of([&] { write_png_panels(path, {good, empty}, o); }),
              HasSubstr("'empty' must have nx, ny >= 1"));
  ImagePanel short_values = good;
  short_values.title = "short";
  short_values.values.pop_back();
  EXPECT_THAT(error_of([&] { write_png_panels(path, {good, short_values}, o); }),
              HasSubstr("4 x 3 = 12 points but has 11 values"));
  ImagePanel nan = good;
  nan.title = "nan";
  nan.values[1 * 3 + 2] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(error_of([&] { write_png_panels(path, {good, nan}, o); }),
              HasSubstr("non-finite value nan at (i, j) = (1, 2)"));
  ImagePanel inf = good;
  inf.values[0] = -std::numeric_limits<double>::infinity();
  EXPECT_THAT(error_of([&] { write_png_panels(path, {inf}, o); }), HasSubstr("non-finite"));
  ImagePanel taller = panel("taller", 4, 5, sine);
  EXPECT_THAT(error_of([&] { write_png_panels(path, {good, taller}, o); }),
              HasSubstr("same height"));
  ImagePanel g1 = good, g2 = good;
  g1.range_group = g2.range_group = 1;
  g2.symmetric = true;
  EXPECT_THAT(error_of([&] { write_png_panels(path, {g1, g2}, o); }),
              HasSubstr("differ in 'symmetric'"));
  ImageOptions zero = o;
  zero.scale = 0;
  EXPECT_THAT(error_of([&] { write_png_panels(path, {good}, zero); }), HasSubstr("scale"));
  EXPECT_THAT(error_of([&] { comparison_panels({1, 2}, {1, 2, 3}, 1, 2); }),
              HasSubstr("got 2 (prediction) and 3 (truth)"));
  EXPECT_FALSE(fs::exists(path));

  // Unwritable: the parent "directory" is a regular file.
  const std::string file = dir + "/a_file";
  pdestream::testing::write_text(file, "x");
  EXPECT_THAT(error_of([&] { write_png_panels(file + "/out.png", {good}, o); }),
              HasSubstr("cannot create directory"));
  // Unwritable: the target is a directory.
  fs::create_directories(dir + "/is_a_dir.png");
  EXPECT_THAT(error_of([&] { write_png_panels(dir + "/is_a_dir.png", {good}, o); }),
              HasSubstr("cannot rename"));
  EXPECT_FALSE(fs::exists(dir + "/is_a_dir.png.tmp"));
  // Missing parent directories are created.
  write_png_panels(dir + "/new/sub/ok.png", {good}, o);
  EXPECT_TRUE(fs::exists(dir + "/new/sub/ok.png"));
}

}  // namespace
}  // namespace pdestream::io
