// Figures (PLplot): rendered at a known size, read back with VTK's PNG reader, and checked
// for what they must show: the panels, the colour bars' end colours, the orientation of the
// field, the titles and legends (present exactly where they belong), and the one-line errors.
#include "io/figures.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "tests/test_util.hpp"

namespace pdestream::io {
namespace {

namespace fs = std::filesystem;
using ::pdestream::testing::error_of;
using ::testing::HasSubstr;

constexpr double kPi = 3.14159265358979323846;
// How far a colour bar's drawn end may be from its map's end colour (the gradient is
// rasterised between the 256 entries PLplot keeps).
constexpr int kEndTolerance = 16;

struct Picture {
  int width = 0, height = 0;
  std::vector<Rgb8> pixels;  // row 0 = top
  const Rgb8& at(int x, int row) const { return pixels[static_cast<std::size_t>(row) * width + x]; }
};

Picture read_png(const std::string& path) {
  vtkNew<vtkPNGReader> reader;
  reader->SetFileName(path.c_str());
  reader->Update();
  vtkImageData* image = reader->GetOutput();
  Picture p;
  int dims[3];
  image->GetDimensions(dims);
  p.width = dims[0];
  p.height = dims[1];
  const int comps = image->GetNumberOfScalarComponents();
  for (int row = 0; row < p.height; ++row)
    for (int x = 0; x < p.width; ++x) {
      const auto* px = static_cast<const unsigned char*>(image->GetScalarPointer(x, p.height - 1 - row, 0));
      p.pixels.push_back({px[0], px[comps >= 3 ? 1 : 0], px[comps >= 3 ? 2 : 0]});
    }
  return p;
}

bool near(const Rgb8& a, const Rgb8& b, int tol = 8) {
  return std::abs(a.r - b.r) <= tol && std::abs(a.g - b.g) <= tol && std::abs(a.b - b.b) <= tol;
}

// How many pixels of columns [x0, x1) and rows [r0, r1) are near `colour`.
int count(const Picture& p, const Rgb8& colour, int x0, int x1, int r0 = 0, int r1 = -1, int tol = 8) {
  if (r1 < 0) r1 = p.height;
  int n = 0;
  for (int row = r0; row < r1; ++row)
    for (int x = x0; x < x1; ++x) n += near(p.at(x, row), colour, tol);
  return n;
}

// The first and last rows of columns [x0, x1) that hold `colour`: for a panel whose colour
// bar has that colour at one end, the top or bottom of the image (the bar is as tall).
std::pair<int, int> rows_with(const Picture& p, const Rgb8& colour, int x0, int x1) {
  int first = -1, last = -1;
  for (int row = 0; row < p.height; ++row)
    if (count(p, colour, x0, x1, row, row + 1, kEndTolerance) > 0) {
      if (first < 0) first = row;
      last = row;
    }
  return {first, last};
}

// Rows [first, last] that differ between two pictures of the same size (-1, -1: none).
std::pair<int, int> differing_rows(const Picture& a, const Picture& b, int x0, int x1) {
  int first = -1, last = -1;
  for (int row = 0; row < a.height; ++row)
    for (int x = x0; x < x1; ++x)
      if (!near(a.at(x, row), b.at(x, row), 0)) {
        if (first < 0) first = row;
        last = row;
        break;
      }
  return {first, last};
}

std::string scratch(const std::string& name) {
  return pdestream::testing::scratch_dir("figures_" + name, MPI_COMM_SELF);
}

constexpr int kW = 360, kH = 300;  // the default panel size

// prediction | truth | error of u = x on [0, 2] x [0, 1] (33 x 17 points): low on the left.
std::vector<FieldPanel> ramp_panels(bool titles) {
  const int nx = 33, ny = 17;
  std::vector<double> truth(nx * ny), pred(nx * ny);
  for (int i = 0; i < nx; ++i)
    for (int j = 0; j < ny; ++j) {
      truth[i * ny + j] = 2.0 * i / (nx - 1);
      pred[i * ny + j] = truth[i * ny + j] + 0.1 * std::sin(kPi * j / (ny - 1));
    }
  auto panels = comparison_panels(pred, truth, nx, ny, "u", 0, titles ? ", t = 0.5" : "");
  if (!titles)
    for (auto& p : panels) p.title.clear();
  return panels;
}

FieldAxes unit_axes() { return FieldAxes{0.0, 2.0, 0.0, 1.0, "x", "y"}; }

TEST(Figures, FieldPanelsShowTheirColourBarsAxesAndTitles) {
  const std::string path = scratch("fields_main") + "/fields.png";
  const auto ranges = write_field_figure(path, {ramp_panels(true)}, unit_axes());
  const Picture p = read_png(path);
  ASSERT_EQ(p.width, 3 * kW);
  ASSERT_EQ(p.height, kH);

  // Prediction and truth share one range (their union), the error is symmetric.
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[0].title, "u prediction, t = 0.5");
  EXPECT_DOUBLE_EQ(ranges[0].low, ranges[1].low);
  EXPECT_DOUBLE_EQ(ranges[0].high, ranges[1].high);
  EXPECT_NEAR(ranges[0].low, 0.0, 1e-12);
  EXPECT_NEAR(ranges[0].high, 2.0 + 0.1 * std::sin(kPi * 8 / 16), 1e-12);
  EXPECT_DOUBLE_EQ(ranges[2].low, -ranges[2].high);
  EXPECT_NEAR(ranges[2].high, 0.1, 1e-12);

  // Panel k's colours lie in its own third: viridis in the first two, the diverging map in
  // the third, each with both ends of its map (the colour bar) present.
  const Rgb8 low = sequential_colour(0), high = sequential_colour(1);
  const Rgb8 blue = diverging_colour(0), red = diverging_colour(1);
  for (int k = 0; k < 3; ++k) {
    SCOPED_TRACE("panel " + std::to_string(k));
    const int x0 = k * kW, x1 = (k + 1) * kW;
    if (k < 2) {
      EXPECT_GT(count(p, low, x0, x1, 0, -1, kEndTolerance), 50);
      EXPECT_GT(count(p, high, x0, x1, 0, -1, kEndTolerance), 5);
      EXPECT_EQ(count(p, blue, x0, x1, 0, -1, kEndTolerance), 0);
    } else {
      EXPECT_GT(count(p, blue, x0, x1, 0, -1, kEndTolerance), 5);
      EXPECT_GT(count(p, red, x0, x1, 0, -1, kEndTolerance), 20);
      EXPECT_EQ(count(p, high, x0, x1, 0, -1, kEndTolerance), 0);
    }
  }
  // Orientation: u = x is low (dark) at the left of the first panel's image and high
  // (yellow) at its right; its rightmost yellow column lies left of the colour bar.
  int dark_x = -1, yellow_x = -1;
  const int mid = kH / 2;
  for (int x = 0; x < kW; ++x) {
    if (dark_x < 0 && near(p.at(x, mid), low, 20)) dark_x = x;
    if (near(p.at(x, mid), high, 20)) yellow_x = x;
  }
  ASSERT_GE(dark_x, 0);
  EXPECT_GT(yellow_x, dark_x + 100);
  EXPECT_LT(yellow_x, kW);

  // The images' top and bottom rows, from their colour bars' ends.
  const auto [top, unused] = rows_with(p, high, 0, kW);
  const auto [unused2, bottom] = rows_with(p, low, 0, kW);
  EXPECT_GT(top, 20);
  EXPECT_GT(bottom, top + 50);
  EXPECT_NEAR(rows_with(p, red, 2 * kW, 3 * kW).first, top, 4);

  // Titles: the same figure without them differs only above the image, in every panel.
  const std::string dir = scratch("fields");
  write_field_figure(dir + "/bare.png", {ramp_panels(false)}, unit_axes());
  const Picture bare = read_png(dir + "/bare.png");
  for (int k = 0; k < 3; ++k) {
    SCOPED_TRACE("panel " + std::to_string(k));
    const auto [first, last] = differing_rows(p, bare, k * kW, (k + 1) * kW);
    EXPECT_GE(first, 0) << "no title drawn";
    EXPECT_LT(last, top) << "the title reaches into the image";
  }
  // Axis labels: a relabelled x axis changes the picture only below the image.
  FieldAxes other = unit_axes();
  other.x_label = "x [m]";
  write_field_figure(dir + "/relabel.png", {ramp_panels(true)}, other);
  const auto [first, last] = differing_rows(p, read_png(dir + "/relabel.png"), 0, kW);
  EXPECT_GT(first, bottom + 10) << "the x label is below the tick labels";
}

TEST(Figures, RowsAndPanelsSetThePictureSize) {
  const std::string path = scratch("grid") + "/grid.png";
  auto row = ramp_panels(true);
  std::vector<std::vector<FieldPanel>> rows = {row, {row[2]}};  // 3 panels, then 1
  write_field_figure(path, rows, unit_axes(), FigureSize{400, 250});
  const Picture p = read_png(path);
  EXPECT_EQ(p.width, 3 * 400);
  EXPECT_EQ(p.height, 2 * 250);
  // The second row's only panel is the error; the rest of that row is background.
  EXPECT_GT(count(p, diverging_colour(0), 0, 400, 250, 500, kEndTolerance), 20);
  EXPECT_EQ(count(p, Rgb8{255, 255, 255}, 400, 1200, 250, 500, 0), 800 * 250);
}

TEST(Figures, LinePanelsDrawEverySeriesWithALegend) {
  std::vector<double> t, truth, pred, loss;
  for (int k = 0; k <= 50; ++k) {
    t.push_back(0.02 * k);
    truth.push_back(std::sin(2 * kPi * t.back()));
    pred.push_back(0.9 * truth.back());
    loss.push_back(std::exp(-5.0 * t.back()));
  }
  loss[10] = std::numeric_limits<double>::quiet_NaN();  // a gap, not an error
  loss[20] = -1.0;                                      // not on a log axis: left out
  LinePanel field{"u, t = 0.5", "x", "u", false, {{"truth", t, truth, false}, {"prediction", t, pred, true}}};
  LinePanel curve{"training loss", "step", "loss", true, {{"train", t, loss, false}}};
  const std::string path = scratch("lines") + "/lines.png";
  write_line_figure(path, {{field, curve}});
  const Picture p = read_png(path);
  ASSERT_EQ(p.width, 2 * kW);
  ASSERT_EQ(p.height, kH);
  // Series colours (tab10 blue and orange) in the first panel, blue only in the second.
  const Rgb8 blue{31, 119, 180}, orange{255, 127, 14};
  EXPECT_GT(count(p, blue, 0, kW), 100);
  EXPECT_GT(count(p, orange, 0, kW), 30);
  EXPECT_GT(count(p, blue, kW, 2 * kW), 100);
  EXPECT_EQ(count(p, orange, kW, 2 * kW), 0);

  // The legend: unlabelled series draw none, so the pictures differ only inside the plot's
  // top right corner.
  for (auto& s : field.series) s.label.clear();
  const std::string bare_path = scratch("lines_bare") + "/bare.png";
  write_line_figure(bare_path, {{field, curve}});
  const auto [first, last] = differing_rows(p, read_png(bare_path), kW / 2, kW);
  EXPECT_GE(first, 34);
  EXPECT_LT(last, kH / 2);
  EXPECT_EQ(differing_rows(p, read_png(bare_path), kW, 2 * kW).first, -1);
}

// PLplot labels a log axis only at powers of ten: data within one decade are drawn on a
// linear axis (with tick labels) instead.
TEST(Figures, LogAxisWithinOneDecadeIsLinear) {
  LinePanel panel{"validation error", "step", "relative L2", true, {{"", {100, 200, 300}, {0.9, 0.4, 0.2}, false}}};
  const std::string dir = scratch("decade");
  write_line_figure(dir + "/log.png", {{panel}});
  panel.log_y = false;
  write_line_figure(dir + "/linear.png", {{panel}});
  const Picture log = read_png(dir + "/log.png"), linear = read_png(dir + "/linear.png");
  EXPECT_EQ(differing_rows(log, linear, 0, log.width).first, -1);
  panel.log_y = true;
  panel.series[0].y = {0.9, 0.04, 0.02};  // two decades: a log axis
  write_line_figure(dir + "/log2.png", {{panel}});
  panel.log_y = false;
  write_line_figure(dir + "/linear2.png", {{panel}});
  EXPECT_NE(differing_rows(read_png(dir + "/log2.png"), read_png(dir + "/linear2.png"), 0, log.width).first, -1);
}

TEST(Figures, BadInputIsOneLine) {
  const std::string dir = scratch("errors");
  FieldPanel p{"u", "u", 2, 2, {0, 1, 2, 3}};
  EXPECT_THAT(error_of([&] { write_field_figure(dir + "/a.png", {}, unit_axes()); }),
              HasSubstr("no panels to draw"));
  FieldPanel short_panel = p;
  short_panel.values.pop_back();
  EXPECT_THAT(error_of([&] { write_field_figure(dir + "/a.png", {{short_panel}}, unit_axes()); }),
              HasSubstr("is 2 x 2 = 4 points but has 3 values"));
  FieldPanel nan_panel = p;
  nan_panel.values[3] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(error_of([&] { write_field_figure(dir + "/a.png", {{nan_panel}}, unit_axes()); }),
              HasSubstr("non-finite value nan at (i, j) = (1, 1)"));
  FieldPanel mixed = p;
  mixed.range_group = 0;
  FieldPanel mixed2 = mixed;
  mixed2.symmetric = true;
  EXPECT_THAT(error_of([&] { write_field_figure(dir + "/a.png", {{mixed, mixed2}}, unit_axes()); }),
              HasSubstr("differ in 'symmetric'"));
  FieldAxes backwards = unit_axes();
  backwards.x_last = -1.0;
  EXPECT_THAT(error_of([&] { write_field_figure(dir + "/a.png", {{p}}, backwards); }),
              HasSubstr("the axes must increase"));
  EXPECT_THAT(error_of([&] { write_field_figure(dir + "/a.png", {{p}}, unit_axes(), FigureSize{10, 10}); }),
              HasSubstr("out of range"));
  LinePanel uneven{"l", "x", "y", false, {{"s", {0, 1}, {1}, false}}};
  EXPECT_THAT(error_of([&] { write_line_figure(dir + "/l.png", {{uneven}}); }),
              HasSubstr("has 2 x values but 1 y values"));
  LinePanel nothing{"l", "x", "y", true, {{"s", {0, 1}, {0, -1}, false}}};
  EXPECT_THAT(error_of([&] { write_line_figure(dir + "/l.png", {{nothing}}); }),
              HasSubstr("no point to draw"));
  // A file in place of the directory: one line, and no partial file.
  std::ofstream(dir + "/file") << "x";
  EXPECT_THAT(error_of([&] { write_field_figure(dir + "/file/a.png", {{p}}, unit_axes()); }),
              HasSubstr("cannot create directory"));
  EXPECT_FALSE(fs::exists(dir + "/a.png"));
  EXPECT_FALSE(fs::exists(dir + "/l.png"));
}

}  // namespace
}  // namespace pdestream::io
