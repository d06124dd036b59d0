#include "io/image.hpp"

#include <vtkDoubleArray.h>
#include <vtkErrorCode.h>
#include <vtkImageData.h>
#include <vtkImageMapToColors.h>
#include <vtkLookupTable.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkPointData.h>
#include <vtkSmartPointer.h>
#include <vtkUnsignedCharArray.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "core/error.hpp"
#include "core/files.hpp"

namespace pdestream::io {
namespace {

namespace fs = std::filesystem;

using Rgb = std::array<double, 3>;

// viridis (matplotlib) at t = 0, 0.1, ..., 1.
constexpr std::array<Rgb, 11> kViridis{{{68, 1, 84},
                                        {72, 36, 117},
                                        {65, 68, 135},
                                        {53, 95, 141},
                                        {42, 120, 142},
                                        {33, 145, 140},
                                        {34, 168, 132},
                                        {68, 191, 112},
                                        {122, 209, 81},
                                        {189, 223, 38},
                                        {253, 231, 37}}};
// ColorBrewer RdBu, reversed (blue = negative, white = 0, red = positive), t = 0, .25, ...
constexpr std::array<Rgb, 5> kDiverging{
    {{5, 48, 97}, {67, 147, 195}, {247, 247, 247}, {214, 96, 77}, {103, 0, 31}}};

constexpr int kTableSize = 256;
// Largest picture accepted: 2^28 pixels (768 MiB of RGB).
constexpr std::int64_t kMaxPixels = std::int64_t(1) << 28;

template <std::size_t N>
Rgb interpolate(const std::array<Rgb, N>& stops, double t) {
  const double s = std::clamp(t, 0.0, 1.0) * (N - 1);
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(s), N - 2);
  const double w = s - static_cast<double>(k);
  Rgb c;
  for (int q = 0; q < 3; ++q) c[q] = ((1.0 - w) * stops[k][q] + w * stops[k + 1][q]) / 255.0;
  return c;
}

vtkSmartPointer<vtkLookupTable> make_table(bool diverging, double low, double high) {
  auto lut = vtkSmartPointer<vtkLookupTable>::New();
  lut->SetNumberOfTableValues(kTableSize);
  lut->SetTableRange(low, high);
  lut->SetScaleToLinear();
  // Setting the values after the size and range marks the table as user-filled, so
  // vtkLookupTable::Build() (called by the filter) keeps it instead of making its HSV ramp.
  for (int k = 0; k < kTableSize; ++k) {
    const double t = static_cast<double>(k) / (kTableSize - 1);
    const Rgb c = diverging ? interpolate(kDiverging, t) : interpolate(kViridis, t);
    lut->SetTableValue(k, c[0], c[1], c[2], 1.0);
  }
  return lut;
}

// Maps a w x h image of scalars (VTK order: x fastest, y = 0 at the bottom) to RGB bytes
// through `lut` with VTK's vtkImageMapToColors.
vtkSmartPointer<vtkImageData> map_to_rgb(vtkSmartPointer<vtkDoubleArray> scalars, int w, int h,
                                         vtkLookupTable* lut) {
  vtkNew<vtkImageData> image;
  image->SetDimensions(w, h, 1);
  image->GetPointData()->SetScalars(scalars);
  vtkNew<vtkImageMapToColors> map;
  map->SetInputData(image);
  map->SetLookupTable(lut);
  map->SetOutputFormatToRGB();
  map->PassAlphaToOutputOff();
  map->Update();
  vtkSmartPointer<vtkImageData> out = map->GetOutput();
  auto* rgb = vtkUnsignedCharArray::SafeDownCast(out->GetPointData()->GetScalars());
  PDS_CHECK(rgb && rgb->GetNumberOfComponents() == 3 &&
                rgb->GetNumberOfTuples() == static_cast<vtkIdType>(w) * h,
            "PNG writer: colour mapping of a " << w << " x " << h
                                               << " image did not give RGB bytes");
  return out;
}

// The picture in memory, addressed top-down (row 0 = top) as a PNG viewer shows it.
class Canvas {
 public:
  Canvas(int width, int height, unsigned char background)
      : width_(width), height_(height) {
    image_->SetDimensions(width, height, 1);
    image_->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
    auto* p = static_cast<unsigned char*>(image_->GetScalarPointer());
    std::fill(p, p + static_cast<std::size_t>(width) * height * 3, background);
  }
  // vtkPNGWriter writes VTK's highest y first (VTK's origin is bottom-left), so the top
  // row of the PNG is y = height - 1.
  unsigned char* pixel(int x, int row_from_top) {
    return static_cast<unsigned char*>(
        image_->GetScalarPointer(x, height_ - 1 - row_from_top, 0));
  }
  // Copies the w x h RGB image `src` (VTK order) scaled by `sx` x `sy` with its top-left
  // corner at (x0, top).
  void blit(vtkImageData* src, int w, int h, int sx, int sy, int x0, int top) {
    const auto* rgb = static_cast<const unsigned char*>(src->GetScalarPointer());
    for (int j = 0; j < h; ++j)        // source row j (y up): target rows from the bottom
      for (int dy = 0; dy < sy; ++dy) {
        const int row = top + (h - 1 - j) * sy + dy;
        unsigned char* out = pixel(x0, row);
        for (int i = 0; i < w; ++i) {
          const unsigned char* c = rgb + 3 * (static_cast<std::size_t>(j) * w + i);
          for (int dx = 0; dx < sx; ++dx, out += 3) {
            out[0] = c[0];
            out[1] = c[1];
            out[2] = c[2];
          }
        }
      }
  }
  vtkImageData* image() { return image_; }
  int width() const { return width_; }

 private:
  int width_, height_;
  vtkNew<vtkImageData> image_;
};

std::string panel_name(const ImagePanel& p, std::size_t row, std::size_t col) {
  std::string s = "panel (row " + std::to_string(row) + ", column " + std::to_string(col) + ")";
  if (!p.title.empty()) s += " '" + p.title + "'";
  return s;
}

void check_options(const ImageOptions& o) {
  PDS_CHECK(o.scale >= 1 && o.scale <= 4096,
            "PNG writer: scale must be in 1..4096 pixels per point, got " << o.scale);
  PDS_CHECK(o.gap >= 0 && o.gap <= 4096, "PNG writer: gap must be in 0..4096, got " << o.gap);
  if (o.colour_bar) {
    PDS_CHECK(o.bar_height >= 1 && o.bar_height <= 4096,
              "PNG writer: bar_height must be in 1..4096, got " << o.bar_height);
    PDS_CHECK(o.bar_gap >= 0 && o.bar_gap <= 4096,
              "PNG writer: bar_gap must be in 0..4096, got " << o.bar_gap);
  }
}

struct Range {
  double low = 0.0, high = 0.0;  // min and max of the values (before widening)
  bool symmetric = false;
};

// The colour range drawn for data spanning [r.low, r.high].
std::pair<double, double> colour_range(const Range& r) {
  double low = r.low, high = r.high;
  if (r.symmetric) {
    double m = std::max(std::abs(low), std::abs(high));
    if (!(m > 0.0)) m = 1.0;
    low = -m;
    high = m;
  } else if (!(high > low)) {
    const double d = 0.5 * std::max(std::abs(low), 1.0);
    low -= d;
    high += d;
  }
  PDS_CHECK(std::isfinite(high - low),
            "PNG writer: colour range [" << low << ", " << high << "] is too wide to map");
  return {low, high};
}

void write_bytes(const fs::path& path, const unsigned char* data, std::size_t size) {
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    PDS_CHECK(!ec && fs::is_directory(path.parent_path()),
              "PNG writer: cannot create directory '" << path.parent_path().string() << "'"
                                                      << (ec ? ": " + ec.message() : ""));
  }
  try {
    write_file_atomically(path.string(), std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const Error& e) {
    PDS_FAIL("PNG writer: " << e.message());
  }
}

}  // namespace

std::vector<PanelRange> write_png_panels(const std::string& path,
                                         const std::vector<std::vector<ImagePanel>>& rows,
                                         const ImageOptions& options) {
  check_options(options);
  PDS_CHECK(!path.empty(), "PNG writer: empty file name");
  std::size_t num_panels = 0;
  for (const auto& row : rows) num_panels += row.size();
  PDS_CHECK(num_panels > 0, "PNG writer: no panels to draw for '" << path << "'");
  const std::int64_t s = options.scale;

  // Validate every panel, find its value range, and lay the picture out.
  std::vector<std::vector<Range>> ranges(rows.size());
  std::map<int, Range> groups;
  std::map<int, std::string> group_first;  // name of the panel that opened each group
  std::int64_t width = 0, height = 0;
  const int bar = options.colour_bar ? options.bar_gap + options.bar_height : 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    PDS_CHECK(!row.empty(), "PNG writer: row " << r << " has no panels");
    std::int64_t row_width = 0;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const ImagePanel& p = row[c];
      const std::string name = panel_name(p, r, c);
      PDS_CHECK(p.nx >= 1 && p.ny >= 1,
                "PNG writer: " << name << " must have nx, ny >= 1, got " << p.nx << " x " << p.ny);
      PDS_CHECK(p.values.size() == static_cast<std::size_t>(p.nx) * p.ny,
                "PNG writer: " << name << " is " << p.nx << " x " << p.ny << " = "
                               << static_cast<std::size_t>(p.nx) * p.ny << " points but has "
                               << p.values.size() << " values");
      PDS_CHECK(p.ny == row.front().ny,
                "PNG writer: panels of a row must have the same height; "
                    << name << " has ny = " << p.ny << ", the row's first panel ny = "
                    << row.front().ny);
      PDS_CHECK(p.range_group >= -1,
                "PNG writer: " << name << " has range_group " << p.range_group
                               << " (use -1 or a non-negative group)");
      Range range{p.values[0], p.values[0], p.symmetric};
      for (std::size_t k = 0; k < p.values.size(); ++k) {
        const double v = p.values[k];
        PDS_CHECK(std::isfinite(v), "PNG writer: " << name << " has a non-finite value " << v
                                                   << " at (i, j) = (" << k / p.ny << ", "
                                                   << k % p.ny << ")");
        range.low = std::min(range.low, v);
        range.high = std::max(range.high, v);
      }
      ranges[r].push_back(range);
      if (p.range_group >= 0) {
        auto [it, fresh] = groups.emplace(p.range_group, range);
        if (fresh) {
          group_first[p.range_group] = name;
        } else {
          PDS_CHECK(it->second.symmetric == p.symmetric,
                    "PNG writer: " << name << " and " << group_first[p.range_group]
                                   << " share range_group " << p.range_group
                                   << " but differ in 'symmetric'");
          it->second.low = std::min(it->second.low, range.low);
          it->second.high = std::max(it->second.high, range.high);
        }
      }
      row_width += p.nx * s + (c > 0 ? options.gap : 0);
    }
    width = std::max(width, row_width);
    height += row.front().ny * s + bar + (r > 0 ? options.gap : 0);
  }
  PDS_CHECK(width <= kMaxPixels && height <= kMaxPixels && width * height <= kMaxPixels,
            "PNG writer: picture of " << width << " x " << height << " pixels is too large (max "
                                      << kMaxPixels << " pixels); use a smaller scale");

  Canvas canvas(static_cast<int>(width), static_cast<int>(height), options.background);
  std::vector<PanelRange> result;
  int top = 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    int left = 0;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const ImagePanel& p = row[c];
      const Range data = p.range_group >= 0 ? groups.at(p.range_group) : ranges[r][c];
      const auto [low, high] = colour_range(data);
      result.push_back({p.title, low, high});
      auto lut = make_table(p.symmetric, low, high);

      // Field order (x slowest) -> VTK order (x fastest).
      auto scalars = vtkSmartPointer<vtkDoubleArray>::New();
      scalars->SetNumberOfTuples(static_cast<vtkIdType>(p.nx) * p.ny);
      for (int i = 0; i < p.nx; ++i)
        for (int j = 0; j < p.ny; ++j)
          scalars->SetValue(static_cast<vtkIdType>(j) * p.nx + i,
                            p.values[static_cast<std::size_t>(i) * p.ny + j]);
      auto rgb = map_to_rgb(scalars, p.nx, p.ny, lut);
      canvas.blit(rgb, p.nx, p.ny, options.scale, options.scale, left, top);

      if (options.colour_bar) {
        const int w = p.nx * options.scale;
        auto ramp = vtkSmartPointer<vtkDoubleArray>::New();
        ramp->SetNumberOfTuples(w);
        for (int x = 0; x < w; ++x)
          ramp->SetValue(x, w == 1 ? 0.5 * (low + high) : low + (high - low) * x / (w - 1));
        auto bar_rgb = map_to_rgb(ramp, w, 1, lut);
        canvas.blit(bar_rgb, w, 1, 1, options.bar_height, left,
                    top + p.ny * options.scale + options.bar_gap);
      }
      left += p.nx * options.scale + options.gap;
    }
    top += row.front().ny * options.scale + bar + options.gap;
  }

  vtkNew<vtkPNGWriter> writer;
  writer->SetInputData(canvas.image());
  writer->WriteToMemoryOn();
  writer->Write();
  vtkUnsignedCharArray* png = writer->GetResult();
  PDS_CHECK(writer->GetErrorCode() == vtkErrorCode::NoError && png &&
                png->GetNumberOfValues() > 0,
            "PNG writer: VTK failed to encode the " << width << " x " << height
                                                    << " picture for '" << path << "'");
  write_bytes(path, png->GetPointer(0), static_cast<std::size_t>(png->GetNumberOfValues()));
  return result;
}

std::vector<PanelRange> write_png_panels(const std::string& path,
                                         const std::vector<ImagePanel>& panels,
                                         const ImageOptions& options) {
  std::vector<std::vector<ImagePanel>> rows;
  if (!panels.empty()) rows.push_back(panels);
  return write_png_panels(path, rows, options);
}

ImagePanel field_panel(const Field& field, const std::string& channel, std::string title) {
  const Box& b = field.box();
  PDS_CHECK(b.extent(2) == 1,
            "PNG writer: field_panel needs a 2D field (extent 1 along z), got a box of "
                << b.extent(0) << " x " << b.extent(1) << " x " << b.extent(2) << " points");
  PDS_CHECK(!b.empty(), "PNG writer: field_panel got an empty box");
  const int c = field.channel_index(channel);
  ImagePanel p;
  p.title = title.empty() ? channel : std::move(title);
  p.nx = b.extent(0);
  p.ny = b.extent(1);
  p.values.resize(static_cast<std::size_t>(p.nx) * p.ny);
  for (int i = 0; i < p.nx; ++i)
    for (int j = 0; j < p.ny; ++j)
      p.values[static_cast<std::size_t>(i) * p.ny + j] =
          field.at(b.lo[0] + i, b.lo[1] + j, b.lo[2], c);
  return p;
}

std::vector<ImagePanel> comparison_panels(const std::vector<double>& prediction,
                                          const std::vector<double>& truth, int nx, int ny,
                                          const std::string& name, int range_group) {
  PDS_CHECK(nx >= 1 && ny >= 1, "comparison_panels: nx, ny must be >= 1, got " << nx << " x " << ny);
  const std::size_t n = static_cast<std::size_t>(nx) * ny;
  PDS_CHECK(prediction.size() == n && truth.size() == n,
            "comparison_panels: expected " << nx << " x " << ny << " = " << n
                                           << " values, got " << prediction.size()
                                           << " (prediction) and " << truth.size() << " (truth)");
  PDS_CHECK(range_group >= 0,
            "comparison_panels: range_group must be non-negative, got " << range_group);
  std::vector<ImagePanel> panels(3);
  panels[0] = {name + " prediction", nx, ny, prediction, false, range_group};
  panels[1] = {name + " truth", nx, ny, truth, false, range_group};
  panels[2] = {name + " error", nx, ny, std::vector<double>(n), true, -1};
  for (std::size_t k = 0; k < n; ++k) panels[2].values[k] = prediction[k] - truth[k];
  return panels;
}

}  // namespace pdestream::io
