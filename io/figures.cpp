#include "io/figures.hpp"

#include <plplot.h>
#include <vtkErrorCode.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkUnsignedCharArray.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/error.hpp"
#include "core/files.hpp"

namespace pdestream::io {
namespace {

namespace fs = std::filesystem;

using Stops = std::vector<std::array<int, 3>>;

// viridis (matplotlib) at t = 0, 0.1, ..., 1.
const Stops kViridis = {{68, 1, 84},   {72, 36, 117},  {65, 68, 135},  {53, 95, 141},
                        {42, 120, 142}, {33, 145, 140}, {34, 168, 132}, {68, 191, 112},
                        {122, 209, 81}, {189, 223, 38}, {253, 231, 37}};
// ColorBrewer RdBu, reversed (blue = negative, white = 0, red = positive), t = 0, .25, ...
const Stops kDiverging = {{5, 48, 97}, {67, 147, 195}, {247, 247, 247}, {214, 96, 77}, {103, 0, 31}};
// Line colours (matplotlib's tab10), cmap0 entries 2.. (0 is the white background, 1 black).
const Stops kLines = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

constexpr int kMaxPixels = 1 << 26;  // 64 Mpixel pictures at most (256 MiB of RGBA)
constexpr double kTextPixels = 10.0;      // character height
constexpr double kMajorTickPixels = 6.0;  // major tick length

Rgb8 interpolate(const Stops& stops, double t) {
  const double s = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * static_cast<double>(stops.size() - 1);
  const std::size_t k = std::min(static_cast<std::size_t>(s), stops.size() - 2);
  const double w = s - static_cast<double>(k);
  const auto mix = [&](int q) {
    return static_cast<int>(std::lround((1.0 - w) * stops[k][q] + w * stops[k + 1][q]));
  };
  return {mix(0), mix(1), mix(2)};
}

// PLplot keeps its state in globals: one figure at a time in the process.
std::mutex& plplot_mutex() {
  static std::mutex m;
  return m;
}

// plexit (a fatal PLplot error) would exit the process; its handler throws instead, and
// plabort's warnings are kept for the error message.
std::string& plplot_warnings() {
  static std::string w;
  return w;
}
int on_plplot_exit(PLCHAR_VECTOR message) {
  throw Error(std::string("figure: PLplot failed: ") + (message ? message : "unknown error"));
}
void on_plplot_abort(PLCHAR_VECTOR message) {
  auto& w = plplot_warnings();
  if (message && w.empty()) w = message;
}

// One PLplot page drawn by the memcairo driver into an RGBA buffer, then encoded as PNG.
class Page {
 public:
  Page(int width, int height) : lock_(plplot_mutex()), width_(width), height_(height) {
    PDS_CHECK(width >= 64 && height >= 64 && static_cast<long long>(width) * height <= kMaxPixels,
              "figure: a picture of " << width << " x " << height
                                      << " pixels is out of range (at least 64 x 64, at most " << kMaxPixels
                                      << " pixels)");
    pixels_.assign(static_cast<std::size_t>(width) * height * 4, 255);
    plplot_warnings().clear();
    plsexit(on_plplot_exit);
    plsabort(on_plplot_abort);
    plmkstrm(&stream_);
    PDS_CHECK(stream_ >= 0, "figure: PLplot has no free stream");
    plsdev("memcairo");
    plsmema(width, height, pixels_.data());
    plscolbg(255, 255, 255);
    plinit();
    open_ = true;
    plscol0(1, 0, 0, 0);
    for (std::size_t k = 0; k < kLines.size(); ++k)
      plscol0(static_cast<PLINT>(2 + k), kLines[k][0], kLines[k][1], kLines[k][2]);
    plscmap1n(256);
    plwidth(1.0);
    pladv(0);
    // PLplot sizes text and ticks in millimetres of a page that scales with the picture, so
    // they are set in pixels here: the same look at any number of panels.
    PLFLT x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    plgspa(&x0, &x1, &y0, &y1);
    const double mm_per_pixel = (x1 - x0) / width;
    plschr(kTextPixels * mm_per_pixel, 1.0);
    plsmaj(kMajorTickPixels * mm_per_pixel, 1.0);
    plsmin(0.5 * kMajorTickPixels * mm_per_pixel, 1.0);
  }
  ~Page() {
    if (open_) plend1();
  }

  // The current window's axes, labelled, with tick labels of as many decimals as their tick
  // spacing needs (PLplot's own repeat "1.001" on a narrow range, or move a factor into
  // the corner); `log_y`: PLplot's labels (powers of ten) on the y axis. The y label sits
  // clear of the longest tick label.
  void box(double x0, double x1, double y0, double y1, bool log_y, const std::string& x_label,
           const std::string& y_label, const std::string& title) {
    span_[0] = x1 - x0;
    span_[1] = y1 - y0;
    plslabelfunc(&Page::tick_label, this);
    plbox("bcnsto", 0.0, 0, log_y ? "bcnstlv" : "bcnstvo", 0.0, 0);
    pllab(x_label.c_str(), "", title.c_str());
    std::size_t longest = 3;
    if (!log_y) {
      char text[64];
      for (double v : {y0, y1, 0.5 * (y0 + y1)}) {
        tick_label(PL_Y_AXIS, v, text, sizeof text, this);
        longest = std::max(longest, std::string(text).size());
      }
    }
    plmtex("l", 2.0 + 0.72 * static_cast<double>(longest), 0.5, 0.5, y_label.c_str());
  }

  static void tick_label(PLINT axis, PLFLT value, PLCHAR_NC_VECTOR label, PLINT length, PLPointer data) {
    const auto* page = static_cast<const Page*>(data);
    const double span = page->span_[axis == PL_Y_AXIS ? 1 : 0];
    // The tick spacing of about 5 ticks, rounded to 1, 2 or 5 times a power of ten.
    double step = span > 0 ? span / 5.0 : 1.0;
    const double power = std::pow(10.0, std::floor(std::log10(step)));
    step = power * (step / power < 1.5 ? 1 : step / power < 3.5 ? 2 : step / power < 7.5 ? 5 : 10);
    const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(step) + 1e-9)), 0, 8);
    if (std::abs(value) < 1e-9 * step) value = 0.0;  // no "-0.000"
    if (std::abs(value) >= 1e6 || decimals > 6)
      std::snprintf(label, static_cast<std::size_t>(length), "%.3g", value);
    else
      std::snprintf(label, static_cast<std::size_t>(length), "%.*f", decimals, value);
  }

  // Normalised page coordinates (0..1, origin bottom left) of a pixel rectangle.
  void viewport_pixels(double left, double top, double width, double height) {
    plvpor(left / width_, (left + width) / width_, 1.0 - (top + height) / height_, 1.0 - top / height_);
  }
  void colour_map(const Stops& stops) {
    const auto n = static_cast<PLINT>(stops.size());
    std::vector<PLFLT> at(n), r(n), g(n), b(n);
    for (PLINT k = 0; k < n; ++k) {
      at[k] = static_cast<PLFLT>(k) / (n - 1);
      r[k] = stops[k][0] / 255.0;
      g[k] = stops[k][1] / 255.0;
      b[k] = stops[k][2] / 255.0;
    }
    plscmap1l(1, n, at.data(), r.data(), g.data(), b.data(), nullptr);
  }

  void write_png(const std::string& path) {
    plend1();
    open_ = false;
    PDS_CHECK(plplot_warnings().empty(), "figure '" << path << "': PLplot: " << plplot_warnings());
    vtkNew<vtkImageData> image;
    image->SetDimensions(width_, height_, 1);
    image->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
    // The buffer's first row is the top of the picture; vtkPNGWriter writes VTK's highest
    // y first.
    for (int row = 0; row < height_; ++row) {
      auto* out = static_cast<unsigned char*>(image->GetScalarPointer(0, height_ - 1 - row, 0));
      const unsigned char* in = pixels_.data() + static_cast<std::size_t>(row) * width_ * 4;
      for (int x = 0; x < width_; ++x)
        for (int q = 0; q < 3; ++q) out[3 * x + q] = in[4 * x + q];
    }
    vtkNew<vtkPNGWriter> writer;
    writer->SetInputData(image);
    writer->WriteToMemoryOn();
    writer->Write();
    vtkUnsignedCharArray* png = writer->GetResult();
    PDS_CHECK(writer->GetErrorCode() == vtkErrorCode::NoError && png && png->GetNumberOfValues() > 0,
              "figure: VTK failed to encode the " << width_ << " x " << height_ << " picture for '" << path
                                                  << "'");
    const fs::path p(path);
    std::error_code ec;
    if (p.has_parent_path()) {
      fs::create_directories(p.parent_path(), ec);
      PDS_CHECK(!ec && fs::is_directory(p.parent_path()),
                "figure: cannot create directory '" << p.parent_path().string() << "'"
                                                    << (ec ? ": " + ec.message() : ""));
    }
    try {
      write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(png->GetPointer(0)),
                                                   static_cast<std::size_t>(png->GetNumberOfValues())));
    } catch (const Error& e) {
      PDS_FAIL("figure: " << e.message());
    }
  }

 private:
  std::array<double, 2> span_{1.0, 1.0};
  std::lock_guard<std::mutex> lock_;
  int width_;
  int height_;
  PLINT stream_ = -1;
  bool open_ = false;
  std::vector<unsigned char> pixels_;
};

// Pixel margins of a panel inside its cell: tick labels and axis labels on the left and at
// the bottom, the title on top, the colour bar (fields) on the right.
struct Margins {
  double left = 76, right = 18, top = 34, bottom = 46;
};

std::size_t check_grid(const std::vector<std::size_t>& counts, const std::string& path, int panel_width,
                       int panel_height) {
  PDS_CHECK(!path.empty(), "figure: empty file name");
  std::size_t columns = 0, panels = 0;
  for (auto n : counts) {
    columns = std::max(columns, n);
    panels += n;
  }
  PDS_CHECK(panels > 0, "figure: no panels to draw for '" << path << "'");
  PDS_CHECK(panel_width >= 160 && panel_height >= 120 && panel_width <= 8192 && panel_height <= 8192,
            "figure: panels of " << panel_width << " x " << panel_height
                                 << " pixels are out of range (160 x 120 to 8192 x 8192)");
  return columns;
}

std::string panel_name(const std::string& title, std::size_t row, std::size_t col) {
  std::string s = "panel (row " + std::to_string(row) + ", column " + std::to_string(col) + ")";
  if (!title.empty()) s += " '" + title + "'";
  return s;
}

struct Range {
  double low = 0.0, high = 0.0;
  bool symmetric = false;
};

// The colour range drawn for data spanning [r.low, r.high].
std::pair<double, double> colour_range(const Range& r) {
  double low = r.low, high = r.high;
  if (r.symmetric) {
    double m = std::max(std::abs(low), std::abs(high));
    if (!(m > 0.0)) m = 1.0;
    return {-m, m};
  }
  if (!(high > low)) {
    const double d = 0.5 * std::max(std::abs(low), 1.0);
    low -= d;
    high += d;
  }
  PDS_CHECK(std::isfinite(high - low), "figure: colour range [" << low << ", " << high << "] is too wide to map");
  return {low, high};
}

}  // namespace

Rgb8 sequential_colour(double t) { return interpolate(kViridis, t); }
Rgb8 diverging_colour(double t) { return interpolate(kDiverging, t); }

std::vector<PanelRange> write_field_figure(const std::string& path,
                                           const std::vector<std::vector<FieldPanel>>& rows,
                                           const FieldAxes& axes, const FigureSize& size) {
  std::vector<std::size_t> counts;
  for (const auto& row : rows) counts.push_back(row.size());
  const std::size_t columns = check_grid(counts, path, size.panel_width, size.panel_height);
  PDS_CHECK(std::isfinite(axes.x_first) && std::isfinite(axes.x_last) && std::isfinite(axes.y_first) &&
                std::isfinite(axes.y_last),
            "figure: the axes' coordinates must be finite");

  // Every panel's value range, then the ranges of the groups.
  std::vector<std::vector<Range>> ranges(rows.size());
  std::map<int, Range> groups;
  std::map<int, std::string> group_first;
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const FieldPanel& p = rows[r][c];
      const std::string name = panel_name(p.title, r, c);
      PDS_CHECK(p.nx >= 1 && p.ny >= 1, "figure: " << name << " must have nx, ny >= 1, got " << p.nx << " x " << p.ny);
      PDS_CHECK(p.values.size() == static_cast<std::size_t>(p.nx) * p.ny,
                "figure: " << name << " is " << p.nx << " x " << p.ny << " = "
                           << static_cast<std::size_t>(p.nx) * p.ny << " points but has " << p.values.size()
                           << " values");
      PDS_CHECK(p.range_group >= -1,
                "figure: " << name << " has range_group " << p.range_group << " (use -1 or a non-negative group)");
      Range range{p.values[0], p.values[0], p.symmetric};
      for (std::size_t k = 0; k < p.values.size(); ++k) {
        const double v = p.values[k];
        PDS_CHECK(std::isfinite(v), "figure: " << name << " has a non-finite value " << v << " at (i, j) = ("
                                               << k / p.ny << ", " << k % p.ny << ")");
        range.low = std::min(range.low, v);
        range.high = std::max(range.high, v);
      }
      ranges[r].push_back(range);
      if (p.range_group < 0) continue;
      auto [it, fresh] = groups.emplace(p.range_group, range);
      if (fresh) {
        group_first[p.range_group] = name;
        continue;
      }
      PDS_CHECK(it->second.symmetric == p.symmetric,
                "figure: " << name << " and " << group_first[p.range_group] << " share range_group "
                           << p.range_group << " but differ in 'symmetric'");
      it->second.low = std::min(it->second.low, range.low);
      it->second.high = std::max(it->second.high, range.high);
    }

  Page page(static_cast<int>(columns) * size.panel_width, static_cast<int>(rows.size()) * size.panel_height);
  Margins margins;
  margins.right = 104;  // the colour bar, its tick labels and its label
  std::vector<PanelRange> result;
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const FieldPanel& p = rows[r][c];
      const Range& own = ranges[r][c];
      const auto [low, high] = colour_range(p.range_group >= 0 ? groups.at(p.range_group) : own);
      result.push_back({p.title, low, high});

      // Grid points are the centres of the image's cells, so the picture reaches half a
      // spacing beyond the first and last points.
      const double dx = p.nx > 1 ? (axes.x_last - axes.x_first) / (p.nx - 1) : 1.0;
      const double dy = p.ny > 1 ? (axes.y_last - axes.y_first) / (p.ny - 1) : 1.0;
      const double x0 = axes.x_first - 0.5 * dx, x1 = axes.x_last + 0.5 * dx;
      const double y0 = axes.y_first - 0.5 * dy, y1 = axes.y_last + 0.5 * dy;
      PDS_CHECK(x1 > x0 && y1 > y0, "figure: the axes must increase, got x from " << axes.x_first << " to "
                                                                                    << axes.x_last << ", y from "
                                                                                    << axes.y_first << " to "
                                                                                    << axes.y_last);
      // Physical aspect ratio, within what fits the cell.
      const double avail_w = size.panel_width - margins.left - margins.right;
      const double avail_h = size.panel_height - margins.top - margins.bottom;
      const double aspect = std::clamp((y1 - y0) / (x1 - x0), 0.1, 10.0);
      double w = avail_w, h = avail_w * aspect;
      if (h > avail_h) {
        h = avail_h;
        w = avail_h / aspect;
      }
      const double left = static_cast<double>(c) * size.panel_width + margins.left + 0.5 * (avail_w - w);
      const double top = static_cast<double>(r) * size.panel_height + margins.top + 0.5 * (avail_h - h);
      page.viewport_pixels(left, top, w, h);
      plwind(x0, x1, y0, y1);
      page.colour_map(p.symmetric ? kDiverging : kViridis);
      std::vector<const PLFLT*> columns_of_x(p.nx);
      for (int i = 0; i < p.nx; ++i) columns_of_x[i] = p.values.data() + static_cast<std::size_t>(i) * p.ny;
      const PLFLT huge = std::numeric_limits<PLFLT>::max();
      plimagefr(columns_of_x.data(), p.nx, p.ny, x0, x1, y0, y1, -huge, huge, low, high, nullptr, nullptr);
      plcol0(1);
      page.box(x0, x1, y0, y1, false, axes.x_label, axes.y_label, p.title);

      PLFLT bar_w = 0, bar_h = 0;
      PLINT label_opts[] = {PL_COLORBAR_LABEL_RIGHT};
      const char* labels[] = {p.label.c_str()};
      const char* axis_opts[] = {"bcvtm"};
      PLFLT ticks[] = {0.0};
      PLINT sub_ticks[] = {0};
      PLINT n_values[] = {2};
      const PLFLT ends[] = {low, high};
      const PLFLT* values[] = {ends};
      // 8 pixels from the image, 14 wide (the offsets are fractions of the image's width).
      plcolorbar(&bar_w, &bar_h, PL_COLORBAR_GRADIENT, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
                 8.0 / w, 0.0, 14.0 / w, 1.0, 0, 1, 1, 0, 0, 0, 0.0, 1, label_opts, labels, 1, axis_opts, ticks, sub_ticks,
                 n_values, values);
    }
  page.write_png(path);
  return result;
}

std::vector<FieldPanel> comparison_panels(const std::vector<double>& prediction, const std::vector<double>& truth,
                                          int nx, int ny, const std::string& name, int range_group,
                                          const std::string& suffix) {
  PDS_CHECK(prediction.size() == truth.size(), "figure: prediction has " << prediction.size()
                                                                         << " values but truth has "
                                                                         << truth.size());
  std::vector<double> error(prediction.size());
  for (std::size_t k = 0; k < error.size(); ++k) error[k] = prediction[k] - truth[k];
  return {FieldPanel{name + " prediction" + suffix, name, nx, ny, prediction, false, range_group},
          FieldPanel{name + " truth" + suffix, name, nx, ny, truth, false, range_group},
          FieldPanel{name + " error" + suffix, name + " error", nx, ny, std::move(error), true, -1}};
}

void write_line_figure(const std::string& path, const std::vector<std::vector<LinePanel>>& rows,
                       const FigureSize& size) {
  std::vector<std::size_t> counts;
  for (const auto& row : rows) counts.push_back(row.size());
  const std::size_t columns = check_grid(counts, path, size.panel_width, size.panel_height);

  // The drawable points of every series (log10 y on a log axis), checked before drawing.
  struct Curve {
    std::vector<std::vector<PLFLT>> xs, ys;  // pieces between non-finite points
  };
  std::vector<std::vector<std::vector<Curve>>> curves(rows.size());
  std::vector<std::vector<std::array<double, 4>>> bounds(rows.size());
  std::vector<std::vector<bool>> log_axis(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const LinePanel& p = rows[r][c];
      const std::string name = panel_name(p.title, r, c);
      // PLplot labels a log axis at powers of ten only: data within one decade would get no
      // tick label, so they are drawn on a linear axis.
      double lo = std::numeric_limits<double>::max(), hi = 0;
      for (const auto& s : p.series)
        for (double y : s.y)
          if (std::isfinite(y) && y > 0) {
            lo = std::min(lo, y);
            hi = std::max(hi, y);
          }
      const bool log_y = p.log_y && !(hi > 0 && hi < 10 * lo);
      log_axis[r].push_back(log_y);
      std::array<double, 4> b = {std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                                 std::numeric_limits<double>::max(), -std::numeric_limits<double>::max()};
      std::vector<Curve> panel_curves;
      std::size_t points = 0;
      for (const auto& s : p.series) {
        PDS_CHECK(s.x.size() == s.y.size(), "figure: " << name << ": series '" << s.label << "' has "
                                                      << s.x.size() << " x values but " << s.y.size()
                                                      << " y values");
        Curve curve;
        bool open = false;
        for (std::size_t k = 0; k < s.x.size(); ++k) {
          const double y = log_y ? (s.y[k] > 0 ? std::log10(s.y[k]) : NAN) : s.y[k];
          if (!std::isfinite(s.x[k]) || !std::isfinite(y)) {
            open = false;
            continue;
          }
          if (!open) {
            curve.xs.emplace_back();
            curve.ys.emplace_back();
            open = true;
          }
          curve.xs.back().push_back(s.x[k]);
          curve.ys.back().push_back(y);
          b = {std::min(b[0], s.x[k]), std::max(b[1], s.x[k]), std::min(b[2], y), std::max(b[3], y)};
          ++points;
        }
        panel_curves.push_back(std::move(curve));
      }
      PDS_CHECK(points > 0, "figure: " << name << " has no point to draw (every value non-finite"
                                       << (log_y ? " or not positive on its log axis" : "") << ")");
      // Some room around the data; a single value gets a range around it.
      for (int a : {0, 2}) {
        double span = b[a + 1] - b[a];
        if (!(span > 0)) span = std::max(std::abs(b[a]), 1.0) * (log_y && a == 2 ? 1.0 : 0.1);
        const double pad = (a == 0 ? 0.02 : 0.06) * span;
        b[a] -= pad;
        b[a + 1] += pad;
      }
      curves[r].push_back(std::move(panel_curves));
      bounds[r].push_back(b);
    }

  Page page(static_cast<int>(columns) * size.panel_width, static_cast<int>(rows.size()) * size.panel_height);
  const Margins margins;
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const LinePanel& p = rows[r][c];
      const auto& b = bounds[r][c];
      page.viewport_pixels(static_cast<double>(c) * size.panel_width + margins.left,
                           static_cast<double>(r) * size.panel_height + margins.top,
                           size.panel_width - margins.left - margins.right,
                           size.panel_height - margins.top - margins.bottom);
      plwind(b[0], b[1], b[2], b[3]);
      plcol0(1);
      pllsty(1);
      page.box(b[0], b[1], b[2], b[3], log_axis[r][c], p.x_label, p.y_label, p.title);
      std::vector<std::string> labels;
      for (std::size_t k = 0; k < p.series.size(); ++k) {
        plcol0(static_cast<PLINT>(2 + k % kLines.size()));
        pllsty(p.series[k].dashed ? 2 : 1);
        plwidth(1.5);
        for (std::size_t piece = 0; piece < curves[r][c][k].xs.size(); ++piece) {
          const auto& xs = curves[r][c][k].xs[piece];
          const auto& ys = curves[r][c][k].ys[piece];
          if (xs.size() == 1)
            plstring(1, xs.data(), ys.data(), "#(210)");  // a lone point as a dot
          else
            plline(static_cast<PLINT>(xs.size()), xs.data(), ys.data());
        }
        plwidth(1.0);
      }
      pllsty(1);
      plcol0(1);
      bool any_label = false;
      for (const auto& s : p.series) any_label = any_label || !s.label.empty();
      if (!any_label) continue;
      const auto n = static_cast<PLINT>(p.series.size());
      std::vector<PLINT> opts(n, PL_LEGEND_LINE), text_colours(n, 1), line_colours(n), line_styles(n);
      std::vector<PLFLT> line_widths(n, 1.5);
      std::vector<const char*> texts(n);
      for (PLINT k = 0; k < n; ++k) {
        line_colours[k] = static_cast<PLINT>(2 + k % kLines.size());
        line_styles[k] = p.series[k].dashed ? 2 : 1;
        texts[k] = p.series[k].label.c_str();
      }
      PLFLT legend_w = 0, legend_h = 0;
      pllegend(&legend_w, &legend_h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
               PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE | PL_POSITION_VIEWPORT, 0.02, 0.02, 0.1, 0,
               1, 1, 0, 0, n, opts.data(), 0.6, 0.75, 1.8, 0.0, text_colours.data(), texts.data(), nullptr, nullptr,
               nullptr, nullptr, line_colours.data(), line_styles.data(), line_widths.data(), nullptr, nullptr,
               nullptr, nullptr);
    }
  page.write_png(path);
}

}  // namespace pdestream::io
