#include "core/grid.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace pdestream {

Grid Grid::make_2d(int nx, int ny, double x0, double x1, double y0, double y1) {
  Grid g;
  g.dim = 2;
  g.shape = {nx, ny, 1};
  g.lower = {x0, y0, 0.0};
  g.upper = {x1, y1, 0.0};
  g.validate();
  return g;
}

double Grid::spacing(int axis) const {
  PDS_CHECK(axis >= 0 && axis < dim, "grid axis must be in [0, " << dim << "), got " << axis);
  const double length = upper[axis] - lower[axis];
  if (periodic[axis]) return length / shape[axis];
  return shape[axis] > 1 ? length / (shape[axis] - 1) : 0.0;
}

double Grid::coordinate(int axis, int index) const { return lower[axis] + index * spacing(axis); }

Grid::Stencil Grid::stencil(const std::vector<double>& x) const {
  Stencil s;
  for (int a = 0; a < dim; ++a) {
    const double u = (x.at(a) - lower[a]) / spacing(a);
    s.lo[a] = std::min(std::max(static_cast<int>(std::floor(u)), 0), shape[a] - 2);
    s.weight[a] = u - s.lo[a];
  }
  return s;
}

std::vector<double> Grid::coordinates(int axis) const {
  std::vector<double> c(shape[axis]);
  for (int i = 0; i < shape[axis]; ++i) c[i] = coordinate(axis, i);
  return c;
}

std::size_t Grid::num_points() const {
  std::size_t n = 1;
  for (int a = 0; a < dim; ++a) n *= static_cast<std::size_t>(shape[a]);
  return n;
}

void Grid::validate() const {
  PDS_CHECK(dim >= 1 && dim <= 3, "grid dimension must be 1, 2 or 3, got " << dim);
  for (int a = 0; a < dim; ++a) {
    PDS_CHECK(shape[a] >= 2, "grid axis " << a << " needs at least 2 points, got " << shape[a]);
    PDS_CHECK(upper[a] > lower[a], "grid axis " << a << " needs upper > lower, got [" << lower[a]
                                                << ", " << upper[a] << "]");
  }
  for (int a = dim; a < 3; ++a)
    PDS_CHECK(shape[a] == 1, "unused grid axis " << a << " must have size 1, got " << shape[a]);
}

std::size_t Box::num_points() const {
  if (empty()) return 0;
  return static_cast<std::size_t>(extent(0)) * extent(1) * extent(2);
}

bool Box::empty() const {
  return extent(0) <= 0 || extent(1) <= 0 || extent(2) <= 0;
}

bool Box::contains(const Box& o) const {
  for (int a = 0; a < 3; ++a)
    if (o.lo[a] < lo[a] || o.hi[a] > hi[a]) return false;
  return true;
}

Box Box::intersect(const Box& o) const {
  Box r;
  for (int a = 0; a < 3; ++a) {
    r.lo[a] = std::max(lo[a], o.lo[a]);
    r.hi[a] = std::max(r.lo[a], std::min(hi[a], o.hi[a]));
  }
  return r;
}

Box Box::whole(const Grid& grid) {
  Box b;
  for (int a = 0; a < 3; ++a) b.hi[a] = a < grid.dim ? grid.shape[a] : 1;
  return b;
}

Field::Field(std::vector<std::string> channels, const Box& box)
    : channels_(std::move(channels)), box_(box) {
  PDS_CHECK(!channels_.empty(), "a field needs at least one channel");
  data_.assign(box_.num_points() * channels_.size(), 0.0);
}

int Field::channel_index(const std::string& name) const {
  for (std::size_t c = 0; c < channels_.size(); ++c)
    if (channels_[c] == name) return static_cast<int>(c);
  std::string have;
  for (const auto& c : channels_) have += (have.empty() ? "" : ", ") + c;
  PDS_FAIL("field has no channel '" << name << "' (channels: " << have << ")");
}

bool Field::all_finite() const {
  return std::all_of(data_.begin(), data_.end(), [](double v) { return std::isfinite(v); });
}

}  // namespace pdestream
