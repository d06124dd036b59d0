#pragma once
// Figures people can read, drawn with PLplot (its cairo driver, into memory) and written as
// PNG: 2D fields as shade plots with a title, axes in physical units and a colour bar with
// ticks and a label; 1D data, losses and timings as line plots with axes, a legend and a
// title. No display is needed. PLplot headers stay inside figures.cpp.
//
// Colour maps: sequential panels use viridis (dark purple = low, yellow = high); symmetric
// panels use a blue-white-red diverging map centred on 0 (errors, differences).
//
// Not collective: call on one rank. Each writer checks its input (one-line
// pdestream::Error), creates the parent directories, and writes the file beside its name
// and renames it (core/files.hpp), so a viewer never sees half a file.

#include <string>
#include <vector>

namespace pdestream::io {

// One 2D field: values[i * ny + j], i along x, j along y (core's Field order).
struct FieldPanel {
  std::string title;  // drawn above the panel, e.g. "u prediction, t = 0.5"
  std::string label;  // the colour bar's label, e.g. "u" or "u error"
  int nx = 0;
  int ny = 0;
  std::vector<double> values;
  bool symmetric = false;  // a range symmetric around 0, diverging map
  // Panels with the same non-negative group share one colour range (the union of their
  // values), e.g. the prediction and the truth of a frame; -1: the panel's own range.
  int range_group = -1;
};

// The physical axes of field panels: the coordinates of the first and last grid points.
struct FieldAxes {
  double x_first = 0.0;
  double x_last = 1.0;
  double y_first = 0.0;
  double y_last = 1.0;
  std::string x_label = "x";
  std::string y_label = "y";
};

// The colour range a panel was drawn with (the colour bar's ends); values outside are
// clamped. A constant panel gets a range around its value.
struct PanelRange {
  std::string title;
  double low = 0.0;
  double high = 0.0;
};

// Pixels per panel; the picture is columns x rows panels.
struct FigureSize {
  int panel_width = 360;
  int panel_height = 300;
};

// Rows of field panels (rows may differ in length). Returns the ranges, row by row.
// Throws on no panels, nx or ny < 1, values.size() != nx * ny, a non-finite value, mixed
// `symmetric` within a range group, bad axes or sizes, or a file that cannot be written.
std::vector<PanelRange> write_field_figure(const std::string& path,
                                           const std::vector<std::vector<FieldPanel>>& rows,
                                           const FieldAxes& axes, const FigureSize& size = {});

// The usual comparison: prediction and truth sharing one range (group `range_group`), then
// their difference prediction - truth with its own symmetric range. Titles are
// "<name> prediction<suffix>", "<name> truth<suffix>", "<name> error<suffix>".
std::vector<FieldPanel> comparison_panels(const std::vector<double>& prediction,
                                          const std::vector<double>& truth, int nx, int ny,
                                          const std::string& name, int range_group,
                                          const std::string& suffix = {});

// One curve of a line panel; non-finite points are left out (the line breaks there).
struct LineSeries {
  std::string label;  // in the legend (no legend when every label is empty)
  std::vector<double> x;
  std::vector<double> y;
  bool dashed = false;
};

struct LinePanel {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_y = false;  // logarithmic y axis (non-positive values are left out)
  std::vector<LineSeries> series;
};

// Rows of line panels. Throws on no panels, a series whose x and y differ in length, a
// panel without any drawable point, bad sizes, or a file that cannot be written.
void write_line_figure(const std::string& path, const std::vector<std::vector<LinePanel>>& rows,
                       const FigureSize& size = {});

// The colours of the maps' ends (0..255 RGB), for tests and for readers of the figures.
struct Rgb8 {
  int r = 0, g = 0, b = 0;
};
Rgb8 sequential_colour(double t);  // t in [0, 1]: viridis
Rgb8 diverging_colour(double t);   // t in [0, 1]: blue (0), white (0.5), red (1)

}  // namespace pdestream::io
