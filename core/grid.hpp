#pragma once
// Structured grids, rank-local boxes and fields: the currency between solvers, io and the
// trainer.
//
// Conventions (shared with the HDF5 layout, which follows PDEBench):
// - Grid points are vertices: a non-periodic axis of n points spans [lower, upper] with
//   spacing (upper - lower) / (n - 1); a periodic axis has spacing (upper - lower) / n.
// - Field data is row-major over (x, y, z, channel): x varies slowest, channel fastest, so
//   a rank's block maps onto an HDF5 hyperslab [.., x0:x1, y0:y1, c] without reordering.

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace pdestream {

struct Grid {
  int dim = 2;
  std::array<int, 3> shape{1, 1, 1};
  std::array<double, 3> lower{0.0, 0.0, 0.0};
  std::array<double, 3> upper{1.0, 1.0, 1.0};
  std::array<bool, 3> periodic{false, false, false};

  static Grid make_2d(int nx, int ny, double x0 = 0.0, double x1 = 1.0, double y0 = 0.0,
                      double y1 = 1.0);

  double spacing(int axis) const;
  double coordinate(int axis, int index) const;
  std::vector<double> coordinates(int axis) const;
  std::size_t num_points() const;
  // Throws unless dim is 1..3 and every used axis has a valid size and extent.
  void validate() const;

  // Where a point falls for multilinear interpolation: the cell's lower corner (clamped so
  // corner + 1 stays on the grid) and the fraction towards corner + 1, per used axis. The
  // value at x is sum over the 2^dim corners of prod_a (up_a ? weight_a : 1 - weight_a).
  struct Stencil {
    std::array<int, 3> lo{0, 0, 0};
    std::array<double, 3> weight{0.0, 0.0, 0.0};
  };
  Stencil stencil(const std::vector<double>& x) const;
};

// A rank's sub-block: [lo, hi) per axis, in global point indices. Unused axes are [0, 1).
struct Box {
  std::array<int, 3> lo{0, 0, 0};
  std::array<int, 3> hi{1, 1, 1};

  int extent(int axis) const { return hi[axis] - lo[axis]; }
  std::size_t num_points() const;
  bool empty() const;
  bool contains(const Box& other) const;
  Box intersect(const Box& other) const;
  static Box whole(const Grid& grid);
  bool operator==(const Box& o) const { return lo == o.lo && hi == o.hi; }
};

class Field {
 public:
  Field() = default;
  Field(std::vector<std::string> channels, const Box& box);

  const std::vector<std::string>& channels() const { return channels_; }
  int num_channels() const { return static_cast<int>(channels_.size()); }
  int channel_index(const std::string& name) const;  // throws if absent
  const Box& box() const { return box_; }

  // Offset of global point (i, j, k), channel c, in data().
  std::size_t offset(int i, int j, int k, int c) const {
    return ((static_cast<std::size_t>(i - box_.lo[0]) * box_.extent(1) + (j - box_.lo[1])) *
                box_.extent(2) +
            (k - box_.lo[2])) *
               channels_.size() +
           c;
  }
  double& at(int i, int j, int k, int c) { return data_[offset(i, j, k, c)]; }
  double at(int i, int j, int k, int c) const { return data_[offset(i, j, k, c)]; }

  std::vector<double>& data() { return data_; }
  const std::vector<double>& data() const { return data_; }
  std::size_t size() const { return data_.size(); }
  // True when every value is finite.
  bool all_finite() const;

 private:
  std::vector<std::string> channels_;
  Box box_;
  std::vector<double> data_;
};

}  // namespace pdestream
