#pragma once
// PNG pictures of 2D fields, for a quick look without ParaView: e.g. prediction, truth and
// error of a few validation samples side by side. Written with VTK's image pipeline
// (lookup table -> RGB, nearest-neighbour magnification, PNG encoder); no display needed.
//
// Layout: each row of panels is drawn left to right with `gap` background pixels between
// panels; rows are stacked top to bottom with `gap` pixels between them. Each panel is
// nx*scale by ny*scale pixels, oriented like a plot: x to the right, y up (the top pixel
// row is the largest y). Under each panel (optionally) a colour bar running from the
// panel's low colour (left) to its high colour (right). Text is not drawn (VTK's text
// rendering needs the rendering modules); the colour ranges used are returned instead, so
// callers can log them next to the file name.
//
// Colour maps: sequential panels use viridis (dark purple = low, yellow = high); symmetric
// panels use a blue-white-red diverging map centred on 0 (for errors).

#include <string>
#include <vector>

#include "core/grid.hpp"

namespace pdestream::io {

struct ImagePanel {
  std::string title;  // not drawn; echoed in the returned ranges and in error messages
  int nx = 0;
  int ny = 0;
  // Row-major like core's Field: x slowest, index = i * ny + j (i along x, j along y).
  std::vector<double> values;
  // Colour range symmetric around 0 with the diverging map (errors, differences).
  bool symmetric = false;
  // Panels with the same non-negative group share one colour range (the union of their
  // values), e.g. prediction and truth of a sample; -1: the panel's own range. Groups are
  // global over the whole picture. All panels of a group must agree on `symmetric`.
  int range_group = -1;
};

struct ImageOptions {
  int scale = 4;          // pixels per grid point in each direction, >= 1
  int gap = 4;            // background pixels between panels and between rows, >= 0
  bool colour_bar = true; // a colour bar under each panel
  int bar_gap = 2;        // pixels between a panel and its colour bar
  int bar_height = 6;     // height of the colour bar in pixels, >= 1
  unsigned char background = 255;  // grey level of gaps and padding (255 = white)
};

// The colour range a panel was drawn with: value `low` has the leftmost colour of the
// bar, `high` the rightmost; values outside are clamped. A constant panel gets a range
// around its value (its colour is the middle of the map).
struct PanelRange {
  std::string title;
  double low = 0.0;
  double high = 0.0;
};

// Writes an 8-bit RGB PNG (creating parent directories; written beside the target and
// renamed, so a viewer never sees half a file). Not collective: call it on one rank.
// All panels of a row must have the same ny; rows may differ in width (shorter rows are
// padded with background).
// Throws pdestream::Error on no panels, an empty panel, values.size() != nx*ny, a
// non-finite value, unequal heights within a row, mixed `symmetric` in a range group,
// invalid options, or a path that cannot be written. Returns the ranges, row by row.
std::vector<PanelRange> write_png_panels(const std::string& path,
                                         const std::vector<std::vector<ImagePanel>>& rows,
                                         const ImageOptions& options = {});
// One row.
std::vector<PanelRange> write_png_panels(const std::string& path,
                                         const std::vector<ImagePanel>& panels,
                                         const ImageOptions& options = {});

// One channel of a rank-local 2D Field (box extent 1 along z) as a panel.
ImagePanel field_panel(const Field& field, const std::string& channel,
                       std::string title = {});

// The usual comparison row: prediction and truth sharing one range (group `range_group`),
// then their difference prediction - truth with its own symmetric range. Titles are
// "<name> prediction", "<name> truth", "<name> error". Throws if the sizes differ.
std::vector<ImagePanel> comparison_panels(const std::vector<double>& prediction,
                                          const std::vector<double>& truth, int nx, int ny,
                                          const std::string& name = "u",
                                          int range_group = 0);

}  // namespace pdestream::io
