#include "linear_systems/poisson.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>
#include <type_traits>

#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/runtime.hpp"
#include "linear_systems/learners.hpp"
#include "linear_systems/matrix_io.hpp"

namespace pdestream::linear_systems {

namespace {

const char* kSides[3][2] = {{"x-", "x+"}, {"y-", "y+"}, {"z-", "z+"}};

BoundaryKind parse_kind(const std::string& s, const std::string& spec) {
  if (s == "dirichlet" || s == "d") return BoundaryKind::dirichlet;
  if (s == "neumann" || s == "n") return BoundaryKind::neumann;
  PDS_FAIL("--bc: expected dirichlet or neumann (or d / n), got '" << s << "' in '" << spec << "'");
}

std::string missing_obstacle(const std::string& path) {
  return "--obstacle " + path +
         ": expected none, sphere, box, random-boxes or a NumPy .npy mask of uint8 or bool (nonzero = solid), "
         "found no such file";
}

// ---- manufactured solution ---------------------------------------------------------------------

// One factor of u = Π φ_a(t_a), t_a in [0, 1], by the kinds of the axis's two sides.
struct Factor {
  BoundaryKind lo, hi;
  double value(double t) const {
    if (lo == BoundaryKind::dirichlet && hi == BoundaryKind::dirichlet) return 1.0 + t + std::sin(M_PI * t);
    if (lo == BoundaryKind::dirichlet) return 1.0 + std::sin(0.5 * M_PI * t);
    if (hi == BoundaryKind::dirichlet) return 1.0 + std::cos(0.5 * M_PI * t);
    return std::cos(M_PI * t);
  }
  double second(double t) const {
    if (lo == BoundaryKind::dirichlet && hi == BoundaryKind::dirichlet) return -M_PI * M_PI * std::sin(M_PI * t);
    if (lo == BoundaryKind::dirichlet) return -0.25 * M_PI * M_PI * std::sin(0.5 * M_PI * t);
    if (hi == BoundaryKind::dirichlet) return -0.25 * M_PI * M_PI * std::cos(0.5 * M_PI * t);
    return -M_PI * M_PI * std::cos(M_PI * t);
  }
};

struct Manufactured {
  int dim;
  std::array<Factor, 3> f;
  std::array<double, 3> lower, length;
  explicit Manufactured(const PoissonOptions& o) : dim(o.dim) {
    for (int a = 0; a < 3; ++a) {
      f[a] = {o.bc[a][0], o.bc[a][1]};
      lower[a] = o.lower[a];
      length[a] = o.upper[a] - o.lower[a];
    }
  }
  double u(const std::array<double, 3>& x) const {
    double p = 1.0;
    for (int a = 0; a < dim; ++a) p *= f[a].value((x[a] - lower[a]) / length[a]);
    return p;
  }
  // -Δu
  double source(const std::array<double, 3>& x) const {
    double s = 0.0;
    for (int a = 0; a < dim; ++a) {
      double p = f[a].second((x[a] - lower[a]) / length[a]) / (length[a] * length[a]);
      for (int b = 0; b < dim; ++b)
        if (b != a) p *= f[b].value((x[b] - lower[b]) / length[b]);
      s -= p;
    }
    return s;
  }
};

// ---- the local block -----------------------------------------------------------------------------

// Index arithmetic over this rank's block (owned) and its ghosted block, 2D or 3D alike.
struct Block {
  DMDALocalInfo info;
  int dim;
  explicit Block(DM dm) {
    PDS_PETSC(DMDAGetLocalInfo(dm, &info));
    dim = info.dim;
    if (dim == 2) info.zs = 0, info.zm = 1, info.gzs = 0, info.gzm = 1, info.mz = 1;
  }
  std::array<int, 3> global_size() const { return {info.mx, info.my, info.mz}; }
  static std::size_t index(int i, int j, int k, int m, int n) {
    return static_cast<std::size_t>(i) + static_cast<std::size_t>(m) * (j + static_cast<std::size_t>(n) * k);
  }
  std::size_t owned_count() const { return static_cast<std::size_t>(info.xm) * info.ym * info.zm; }
  std::size_t owned(int i, int j, int k) const {
    return index(i - info.xs, j - info.ys, k - info.zs, info.xm, info.ym);
  }
  std::size_t ghosted(int i, int j, int k) const {
    return index(i - info.gxs, j - info.gys, k - info.gzs, info.gxm, info.gym);
  }
  bool is_owned(int i, int j, int k) const {
    return i >= info.xs && i < info.xs + info.xm && j >= info.ys && j < info.ys + info.ym && k >= info.zs &&
           k < info.zs + info.zm;
  }
  bool inside(int i, int j, int k) const {
    return i >= 0 && i < info.mx && j >= 0 && j < info.my && k >= 0 && k < info.mz;
  }
  long long natural(int i, int j, int k) const {
    return i + static_cast<long long>(info.mx) * (j + static_cast<long long>(info.my) * k);
  }
  template <class F>
  void for_each(F&& f) const {
    for (int k = info.zs; k < info.zs + info.zm; ++k)
      for (int j = info.ys; j < info.ys + info.ym; ++j)
        for (int i = info.xs; i < info.xs + info.xm; ++i) f(i, j, k);
  }
};

// The 2 * dim face neighbours: axis and direction.
struct Face {
  int axis, side, di, dj, dk;
};
std::vector<Face> faces(int dim) {
  std::vector<Face> f = {{0, 0, -1, 0, 0}, {0, 1, 1, 0, 0}, {1, 0, 0, -1, 0}, {1, 1, 0, 1, 0}};
  if (dim == 3) f.push_back({2, 0, 0, 0, -1}), f.push_back({2, 1, 0, 0, 1});
  return f;
}

// A Vec's local array for the scope (read-only or writable): a DMDA global vector's owned
// values, or its ghosted local copy.
template <bool Writable>
class LocalArray {
 public:
  using Pointer = std::conditional_t<Writable, PetscScalar*, const PetscScalar*>;
  explicit LocalArray(Vec v) : v_(v) {
    if constexpr (Writable) PDS_PETSC(VecGetArray(v_, &a_));
    else PDS_PETSC(VecGetArrayRead(v_, &a_));
  }
  ~LocalArray() {
    if constexpr (Writable) (void)VecRestoreArray(v_, &a_);
    else (void)VecRestoreArrayRead(v_, &a_);
  }
  LocalArray(const LocalArray&) = delete;
  LocalArray& operator=(const LocalArray&) = delete;
  decltype(auto) operator[](std::size_t i) const { return a_[i]; }

 private:
  Vec v_;
  Pointer a_ = nullptr;
};
using Values = LocalArray<false>;
using Writable = LocalArray<true>;

OwnedVec ghosted_copy(DM dm, Vec global) {
  OwnedVec local;
  PDS_PETSC(DMCreateLocalVector(dm, local.address()));
  PDS_PETSC(DMGlobalToLocalBegin(dm, global, INSERT_VALUES, local));
  PDS_PETSC(DMGlobalToLocalEnd(dm, global, INSERT_VALUES, local));
  return local;
}

// Union-find over this rank's cells.
struct DisjointSets {
  std::vector<std::size_t> parent;
  explicit DisjointSets(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  std::size_t find(std::size_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  }
  void unite(std::size_t a, std::size_t b) {
    a = find(a), b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

}  // namespace

// ---- options -------------------------------------------------------------------------------------

void PoissonOptions::set_grid(const std::vector<int>& cells) {
  std::ostringstream got;
  for (std::size_t i = 0; i < cells.size(); ++i) got << (i ? " " : "") << cells[i];
  PDS_CHECK(cells.size() == 2 || cells.size() == 3,
            "--grid: expected NX NY or NX NY NZ cells, got " << (cells.empty() ? "nothing" : got.str()));
  dim = static_cast<int>(cells.size());
  for (int a = 0; a < dim; ++a) n[a] = cells[a];
}

void PoissonOptions::set_boundaries(const std::string& spec) {
  PDS_CHECK(!spec.empty(), "--bc: expected dirichlet, neumann or SIDE=KIND,..., got an empty value");
  std::stringstream items(spec);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      const BoundaryKind k = parse_kind(item, spec);
      for (auto& axis : bc) axis = {k, k};
      continue;
    }
    const std::string side = item.substr(0, eq);
    const BoundaryKind k = parse_kind(item.substr(eq + 1), spec);
    const int axis = side.empty() ? -1 : side[0] == 'x' ? 0 : side[0] == 'y' ? 1 : side[0] == 'z' ? 2 : -1;
    const std::string which = side.size() > 1 ? side.substr(1) : "";
    PDS_CHECK(axis >= 0 && side.size() <= 2 && (which.empty() || which == "-" || which == "+"),
              "--bc: expected a side x-, x+, y-, y+, z-, z+ (or x, y, z for both), got '" << side << "' in '" << spec
                                                                                       << "'");
    PDS_CHECK(axis < dim, "--bc: the problem is " << dim << "D, so it has no side " << side);
    if (which != "+") bc[axis][0] = k;
    if (which != "-") bc[axis][1] = k;
  }
}

std::string PoissonOptions::describe_boundaries() const {
  bool dirichlet = true, neumann = true;
  for (int a = 0; a < dim; ++a)
    for (int s = 0; s < 2; ++s) (bc[a][s] == BoundaryKind::dirichlet ? neumann : dirichlet) = false;
  if (dirichlet) return "Dirichlet on all sides";
  if (neumann) return "Neumann on all sides";
  std::ostringstream os;
  for (int a = 0; a < dim; ++a)
    for (int s = 0; s < 2; ++s)
      os << (a || s ? " " : "") << kSides[a][s] << ":" << (bc[a][s] == BoundaryKind::dirichlet ? "D" : "N");
  return os.str();
}

bool PoissonOptions::all_neumann() const {
  for (int a = 0; a < dim; ++a)
    if (bc[a][0] == BoundaryKind::dirichlet || bc[a][1] == BoundaryKind::dirichlet) return false;
  return true;
}

void PoissonOptions::validate() const {
  PDS_CHECK(dim == 2 || dim == 3, "poisson: expected a 2D or 3D grid, got " << dim << " dimensions");
  long long cells = 1;
  for (int a = 0; a < dim; ++a) {
    PDS_CHECK(n[a] >= 2, "--grid: expected at least 2 cells per axis, got " << n[a] << " along " << "xyz"[a]);
    PDS_CHECK(upper[a] > lower[a], "poisson: expected upper > lower along " << "xyz"[a] << ", got [" << lower[a]
                                                                            << ", " << upper[a] << "]");
    cells *= n[a];
  }
  PDS_CHECK(cells <= std::numeric_limits<PetscInt>::max(),
            "--grid: expected at most " << std::numeric_limits<PetscInt>::max() << " cells, got " << cells);
  const auto& ob = obstacle;
  PDS_CHECK(ob.kind == "none" || ob.kind == "sphere" || ob.kind == "box" || ob.kind == "random-boxes" ||
                ob.kind == "file",
            "--obstacle: expected none, sphere, box, random-boxes or a .npy file, got '" << ob.kind << "'");
  if (ob.kind == "sphere") PDS_CHECK(ob.radius > 0, "--obstacle sphere: expected a radius > 0, got " << ob.radius);
  if (ob.kind == "box")
    for (int a = 0; a < dim; ++a)
      PDS_CHECK(ob.box_hi[a] > ob.box_lo[a], "--obstacle box: expected hi > lo along " << "xyz"[a] << ", got ["
                                                                                     << ob.box_lo[a] << ", "
                                                                                     << ob.box_hi[a] << "]");
  if (ob.kind == "random-boxes") {
    PDS_CHECK(ob.count >= 1, "--obstacle random-boxes: expected at least 1 box, got " << ob.count);
    PDS_CHECK(ob.size_min > 0 && ob.size_min <= ob.size_max && ob.size_max <= 1,
              "--obstacle random-boxes: expected 0 < size_min <= size_max <= 1, got [" << ob.size_min << ", "
                                                                                      << ob.size_max << "]");
  }
  if (ob.kind == "file") PDS_CHECK(!ob.file.empty(), "--obstacle: expected a mask file name, got an empty one");
  PDS_CHECK(rhs == "random" || rhs == "smooth" || rhs == "file",
            "--rhs: expected random, smooth or a vector file, got '" << rhs << "'");
  if (rhs == "file") PDS_CHECK(!rhs_file.empty(), "--rhs: expected a vector file name, got an empty one");
}

std::vector<int> PoissonOptions::mask_file_shape(const std::string& path) {
  return read_npy_mask_header(path, missing_obstacle(path)).shape;
}

// ---- the problem ---------------------------------------------------------------------------------

PoissonProblem::PoissonProblem(const PoissonOptions& options, MPI_Comm comm)
    : options_(options), comm_(comm), regions_(std::make_unique<Regions>()) {
  options_.validate();
  const auto& o = options_;
  if (o.dim == 2)
    PDS_PETSC(DMDACreate2d(comm_, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, o.n[0], o.n[1], PETSC_DECIDE,
                           PETSC_DECIDE, 1, 1, nullptr, nullptr, dm_.address()));
  else
    PDS_PETSC(DMDACreate3d(comm_, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, o.n[0],
                           o.n[1], o.n[2], PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, nullptr,
                           dm_.address()));
  PDS_PETSC(DMSetUp(dm_));
  std::array<double, 3> h{};
  for (int a = 0; a < 3; ++a) h[a] = a < o.dim ? (o.upper[a] - o.lower[a]) / o.n[a] : 0.0;
  PDS_PETSC(DMDASetUniformCoordinates(dm_, o.lower[0] + h[0] / 2, o.upper[0] - h[0] / 2, o.lower[1] + h[1] / 2,
                                      o.upper[1] - h[1] / 2, o.lower[2] + h[2] / 2, o.upper[2] - h[2] / 2));
  PDS_PETSC(DMDASetFieldName(dm_, 0, "u"));
  PDS_PETSC(DMCreateGlobalVector(dm_, mask_.address()));
  PDS_PETSC(PetscObjectSetName((PetscObject)mask_.get(), "mask"));
  PDS_PETSC(VecDuplicate(mask_, b_.address()));
  PDS_PETSC(PetscObjectSetName((PetscObject)b_.get(), "b"));
  PDS_PETSC(VecDuplicate(mask_, x_.address()));
  PDS_PETSC(PetscObjectSetName((PetscObject)x_.get(), "u"));
  PDS_PETSC(VecSet(x_, 0.0));
  collective_try(comm_, [&] { build_mask(); });
  find_enclosed_regions();
  assemble();
  collective_try(comm_, [&] { build_rhs(); });
  attach_null_space();
}

void PoissonProblem::build_mask() {
  const auto& o = options_;
  const auto& ob = o.obstacle;
  Block blk(dm_);
  Writable mask(mask_);
  std::array<double, 3> h{};
  for (int a = 0; a < o.dim; ++a) h[a] = (o.upper[a] - o.lower[a]) / o.n[a];
  const auto centre = [&](int i, int j, int k) {
    const int idx[3] = {i, j, k};
    std::array<double, 3> x{};
    for (int a = 0; a < o.dim; ++a) x[a] = o.lower[a] + (idx[a] + 0.5) * h[a];
    return x;
  };
  std::vector<std::array<double, 6>> boxes;  // lo[3], hi[3]
  if (ob.kind == "box")
    boxes.push_back({ob.box_lo[0], ob.box_lo[1], ob.box_lo[2], ob.box_hi[0], ob.box_hi[1], ob.box_hi[2]});
  if (ob.kind == "random-boxes") {
    SplitMix64 rng(o.seed * 0x9E3779B97F4A7C15ull + 0xB0B5);
    for (int b = 0; b < ob.count; ++b) {
      std::array<double, 6> box{0, 0, 0, 0, 0, 0};
      for (int a = 0; a < o.dim; ++a) {
        const double extent = o.upper[a] - o.lower[a];
        const double side = (ob.size_min + (ob.size_max - ob.size_min) * rng.uniform()) * extent;
        box[a] = o.lower[a] + rng.uniform() * (extent - side);
        box[3 + a] = box[a] + side;
      }
      boxes.push_back(box);
    }
  }
  std::vector<unsigned char> from_file;
  if (ob.kind == "file") {
    const NpyMaskHeader header = read_npy_mask_header(ob.file, missing_obstacle(ob.file));
    std::vector<int> want;
    for (int a = o.dim - 1; a >= 0; --a) want.push_back(o.n[a]);
    const auto text = [](const std::vector<int>& s) {
      std::ostringstream os;
      os << "(";
      for (std::size_t a = 0; a < s.size(); ++a) os << (a ? ", " : "") << s[a];
      os << ")";
      return os.str();
    };
    PDS_CHECK(header.shape == want, ob.file << ": expected a mask of shape " << text(want) << " ("
                                            << (o.dim == 3 ? "nz, ny, nx" : "ny, nx") << ") to match the grid, got "
                                            << text(header.shape));
    std::ifstream in(ob.file, std::ios::binary);
    from_file.resize(blk.owned_count());
    const auto& info = blk.info;
    for (int k = info.zs; k < info.zs + info.zm; ++k)
      for (int j = info.ys; j < info.ys + info.ym; ++j) {
        in.seekg(header.data_offset + static_cast<std::streamoff>(blk.natural(info.xs, j, k)));
        in.read(reinterpret_cast<char*>(&from_file[blk.owned(info.xs, j, k)]), info.xm);
      }
    PDS_CHECK(in, ob.file << ": expected " << blk.global_size()[0] * 1LL * blk.global_size()[1] *
                                                  (o.dim == 3 ? blk.global_size()[2] : 1)
                          << " mask bytes after the header, got a truncated file");
  }
  blk.for_each([&](int i, int j, int k) {
    const auto x = centre(i, j, k);
    bool solid = false;
    if (ob.kind == "sphere") {
      double r2 = 0;
      for (int a = 0; a < o.dim; ++a) r2 += (x[a] - ob.center[a]) * (x[a] - ob.center[a]);
      solid = r2 <= ob.radius * ob.radius;
    } else if (ob.kind == "file") {
      solid = from_file[blk.owned(i, j, k)] != 0;
    }
    for (const auto& box : boxes) {
      bool in = true;
      for (int a = 0; a < o.dim; ++a) in = in && x[a] >= box[a] && x[a] <= box[3 + a];
      solid = solid || in;
    }
    mask[blk.owned(i, j, k)] = solid ? 0.0 : 1.0;
  });
}

// Labels the connected fluid regions: first inside each rank (union-find), then across ranks
// by exchanging the smallest label over the block faces until nothing changes. A region's
// label is -1 if it touches a Dirichlet side, else its smallest natural index, so the labels
// do not depend on the number of ranks. Single-cell regions become solid.
void PoissonProblem::find_enclosed_regions() {
  const auto& o = options_;
  Block blk(dm_);
  const auto size = blk.global_size();
  const std::size_t n = blk.owned_count();
  const auto nbrs = faces(o.dim);
  std::vector<char> fluid(n);
  {
    Values mask(mask_);
    for (std::size_t c = 0; c < n; ++c) fluid[c] = mask[c] > 0.5;
  }
  const auto dirichlet_side = [&](int i, int j, int k) {
    const int idx[3] = {i, j, k};
    for (int a = 0; a < o.dim; ++a) {
      if (idx[a] == 0 && o.bc[a][0] == BoundaryKind::dirichlet) return true;
      if (idx[a] == size[a] - 1 && o.bc[a][1] == BoundaryKind::dirichlet) return true;
    }
    return false;
  };
  DisjointSets sets(n);
  blk.for_each([&](int i, int j, int k) {
    const std::size_t c = blk.owned(i, j, k);
    if (!fluid[c]) return;
    for (const Face& f : nbrs) {
      if (f.side == 0) continue;
      const int ii = i + f.di, jj = j + f.dj, kk = k + f.dk;
      if (blk.is_owned(ii, jj, kk) && fluid[blk.owned(ii, jj, kk)]) sets.unite(c, blk.owned(ii, jj, kk));
    }
  });
  std::vector<double> label(n, std::numeric_limits<double>::infinity());  // per root
  blk.for_each([&](int i, int j, int k) {
    const std::size_t c = blk.owned(i, j, k);
    if (!fluid[c]) return;
    const double mine = dirichlet_side(i, j, k) ? -1.0 : static_cast<double>(blk.natural(i, j, k));
    double& l = label[sets.find(c)];
    l = std::min(l, mine);
  });
  OwnedVec global, local, mask_local = ghosted_copy(dm_, mask_);
  PDS_PETSC(VecDuplicate(mask_, global.address()));
  for (;;) {
    {
      Writable g(global);
      for (std::size_t c = 0; c < n; ++c) g[c] = fluid[c] ? label[sets.find(c)] : -2.0;
    }
    local = ghosted_copy(dm_, global);
    int changed = 0;
    {
      Values ghost(local), ghost_mask(mask_local);
      blk.for_each([&](int i, int j, int k) {
        const std::size_t c = blk.owned(i, j, k);
        if (!fluid[c]) return;
        for (const Face& f : nbrs) {
          const int ii = i + f.di, jj = j + f.dj, kk = k + f.dk;
          if (blk.is_owned(ii, jj, kk) || !blk.inside(ii, jj, kk)) continue;
          const std::size_t g = blk.ghosted(ii, jj, kk);
          if (ghost_mask[g] < 0.5) continue;
          double& l = label[sets.find(c)];
          if (ghost[g] < l) l = ghost[g], changed = 1;
        }
      });
    }
    MPI_Allreduce(MPI_IN_PLACE, &changed, 1, MPI_INT, MPI_LOR, comm_);
    if (!changed) break;
  }
  // Enclosed regions: the distinct labels >= 0, numbered in increasing order on every rank.
  std::vector<double> mine;
  for (std::size_t c = 0; c < n; ++c)
    if (fluid[c] && label[sets.find(c)] >= 0) mine.push_back(label[sets.find(c)]);
  std::sort(mine.begin(), mine.end());
  mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
  const int ranks = comm_size(comm_);
  int count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(ranks)), offsets(static_cast<std::size_t>(ranks), 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_);
  for (int r = 1; r < ranks; ++r) offsets[r] = offsets[r - 1] + counts[r - 1];
  std::vector<double> all(static_cast<std::size_t>(offsets[ranks - 1] + counts[ranks - 1]));
  MPI_Allgatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(), offsets.data(), MPI_DOUBLE, comm_);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  const auto region_of = [&](std::size_t c) -> long {
    if (!fluid[c]) return -1;
    const double l = label[sets.find(c)];
    if (l < 0) return -1;
    return static_cast<long>(std::lower_bound(all.begin(), all.end(), l) - all.begin());
  };
  std::vector<long long> sizes(all.size(), 0);
  for (std::size_t c = 0; c < n; ++c)
    if (region_of(c) >= 0) ++sizes[static_cast<std::size_t>(region_of(c))];
  MPI_Allreduce(MPI_IN_PLACE, sizes.data(), static_cast<int>(sizes.size()), MPI_LONG_LONG, MPI_SUM, comm_);
  // A single enclosed cell has the equation 0 = 0: it becomes solid. The rest keep their
  // order and are renumbered.
  std::vector<long> renumber(sizes.size(), -1);
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    if (sizes[r] <= 1) continue;
    renumber[r] = static_cast<long>(regions_->sizes.size());
    regions_->sizes.push_back(sizes[r]);
  }
  PDS_PETSC(VecDuplicate(mask_, regions_->label.address()));
  {
    Writable m(mask_), region(regions_->label);
    for (std::size_t c = 0; c < n; ++c) {
      const long r = region_of(c);
      region[c] = r >= 0 ? static_cast<double>(renumber[static_cast<std::size_t>(r)]) : -1.0;
      if (r >= 0 && renumber[static_cast<std::size_t>(r)] < 0) m[c] = 0.0;
    }
  }
  PetscScalar fluid_sum = 0;
  PDS_PETSC(VecSum(mask_, &fluid_sum));
  fluid_cells_ = std::llround(PetscRealPart(fluid_sum));
}

void PoissonProblem::assemble() {
  const auto& o = options_;
  Block blk(dm_);
  const auto nbrs = faces(o.dim);
  std::array<double, 3> w{};
  for (int a = 0; a < o.dim; ++a) {
    const double h = (o.upper[a] - o.lower[a]) / o.n[a];
    w[a] = 1.0 / (h * h);
  }
  PDS_PETSC(DMCreateMatrix(dm_, A_.address()));
  PDS_PETSC(PetscObjectSetName((PetscObject)A_.get(), "A"));
  OwnedVec mask_local = ghosted_copy(dm_, mask_);
  Values mask(mask_local);
  blk.for_each([&](int i, int j, int k) {
    MatStencil row{};
    row.i = i, row.j = j, row.k = k;
    MatStencil cols[7];
    PetscScalar vals[7];
    int count = 1;
    cols[0] = row;
    vals[0] = 0.0;
    if (mask[blk.ghosted(i, j, k)] < 0.5) {
      vals[0] = 1.0;  // solid: identity row and column
    } else {
      for (const Face& f : nbrs) {
        const int ii = i + f.di, jj = j + f.dj, kk = k + f.dk;
        if (!blk.inside(ii, jj, kk)) {
          if (o.bc[f.axis][f.side] == BoundaryKind::dirichlet) vals[0] += 2.0 * w[f.axis];
          continue;
        }
        if (mask[blk.ghosted(ii, jj, kk)] < 0.5) continue;  // solid neighbour: a wall
        vals[0] += w[f.axis];
        cols[count] = row;
        cols[count].i = ii, cols[count].j = jj, cols[count].k = kk;
        vals[count++] = -w[f.axis];
      }
    }
    PDS_PETSC(MatSetValuesStencil(A_, 1, &row, count, cols, vals, INSERT_VALUES));
  });
  PDS_PETSC(MatAssemblyBegin(A_, MAT_FINAL_ASSEMBLY));
  PDS_PETSC(MatAssemblyEnd(A_, MAT_FINAL_ASSEMBLY));
  PDS_PETSC(MatSetOption(A_, MAT_SYMMETRIC, PETSC_TRUE));
  PDS_PETSC(MatSetOption(A_, MAT_SYMMETRY_ETERNAL, PETSC_TRUE));
}

void PoissonProblem::build_rhs() {
  const auto& o = options_;
  Block blk(dm_);
  const auto size = blk.global_size();
  const auto nbrs = faces(o.dim);
  std::array<double, 3> h{};
  for (int a = 0; a < o.dim; ++a) h[a] = (o.upper[a] - o.lower[a]) / o.n[a];
  if (o.rhs == "file") {
    load_vector(o.rhs_file, b_);
  } else if (o.rhs == "random") {
    Writable b(b_);
    blk.for_each([&](int i, int j, int k) { b[blk.owned(i, j, k)] = random_value(o.seed, blk.natural(i, j, k)); });
  } else {  // smooth: the manufactured solution
    const Manufactured m(o);
    const bool exact = o.obstacle.kind == "none";
    if (exact) {
      PDS_PETSC(VecDuplicate(mask_, exact_.address()));
      PDS_PETSC(PetscObjectSetName((PetscObject)exact_.get(), "exact"));
    }
    Writable b(b_);
    std::unique_ptr<Writable> u;
    if (exact) u = std::make_unique<Writable>(exact_);
    blk.for_each([&](int i, int j, int k) {
      const int idx[3] = {i, j, k};
      std::array<double, 3> x{};
      for (int a = 0; a < o.dim; ++a) x[a] = o.lower[a] + (idx[a] + 0.5) * h[a];
      double v = m.source(x);
      for (const Face& f : nbrs) {
        if (idx[f.axis] != (f.side == 0 ? 0 : size[f.axis] - 1) || o.bc[f.axis][f.side] != BoundaryKind::dirichlet)
          continue;
        std::array<double, 3> face = x;
        face[f.axis] = f.side == 0 ? o.lower[f.axis] : o.upper[f.axis];
        v += 2.0 * m.u(face) / (h[f.axis] * h[f.axis]);
      }
      b[blk.owned(i, j, k)] = v;
      if (u) (*u)[blk.owned(i, j, k)] = m.u(x);
    });
  }
  PDS_PETSC(VecPointwiseMult(b_, b_, mask_));  // b = 0 in solids
}

void PoissonProblem::attach_null_space() {
  if (regions_->sizes.empty()) return;
  if (regions_->sizes.size() == 1 && fluid_cells_ == unknowns()) {
    PDS_PETSC(MatNullSpaceCreate(comm_, PETSC_TRUE, 0, nullptr, null_space_.address()));
  } else {
    PDS_PETSC(MatNullSpaceCreate(comm_, PETSC_FALSE, 0, nullptr, null_space_.address()));
    PDS_PETSC(MatNullSpaceSetFunction(null_space_, remove_region_means, regions_.get()));
  }
  PDS_PETSC(MatSetNullSpace(A_, null_space_));
  PDS_PETSC(MatSetTransposeNullSpace(A_, null_space_));
  PDS_PETSC(MatNullSpaceRemove(null_space_, b_));
  if (exact_) PDS_PETSC(MatNullSpaceRemove(null_space_, exact_));
}

// The orthogonal projection onto the complement of the region indicators (disjoint, so
// one mean per region).
PetscErrorCode PoissonProblem::remove_region_means(MatNullSpace, Vec v, void* ctx) {
  const auto* regions = static_cast<const Regions*>(ctx);
  std::vector<PetscScalar> sums(regions->sizes.size(), 0.0);
  PetscInt n = 0;
  const PetscScalar* label;
  PetscScalar* x;
  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(v, &n));
  PetscCall(VecGetArrayRead(regions->label, &label));
  PetscCall(VecGetArray(v, &x));
  for (PetscInt i = 0; i < n; ++i)
    if (PetscRealPart(label[i]) >= 0) sums[static_cast<std::size_t>(PetscRealPart(label[i]))] += x[i];
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPIU_SCALAR, MPIU_SUM,
                             PetscObjectComm((PetscObject)v)));
  for (std::size_t c = 0; c < sums.size(); ++c) sums[c] /= static_cast<PetscReal>(regions->sizes[c]);
  for (PetscInt i = 0; i < n; ++i)
    if (PetscRealPart(label[i]) >= 0) x[i] -= sums[static_cast<std::size_t>(PetscRealPart(label[i]))];
  PetscCall(VecRestoreArray(v, &x));
  PetscCall(VecRestoreArrayRead(regions->label, &label));
  PetscFunctionReturn(0);
}

long long PoissonProblem::unknowns() const {
  long long n = 1;
  for (int a = 0; a < options_.dim; ++a) n *= options_.n[a];
  return n;
}

Grid PoissonProblem::grid() const {
  Grid g;
  g.dim = options_.dim;
  for (int a = 0; a < 3; ++a) {
    if (a >= options_.dim) {
      g.shape[a] = 1;
      continue;
    }
    const double h = (options_.upper[a] - options_.lower[a]) / options_.n[a];
    g.shape[a] = options_.n[a];
    g.lower[a] = options_.lower[a] + h / 2;
    g.upper[a] = options_.upper[a] - h / 2;
  }
  return g;
}

Box PoissonProblem::local_box() const {
  Block blk(dm_);
  Box b;
  b.lo = {blk.info.xs, blk.info.ys, blk.info.zs};
  b.hi = {blk.info.xs + blk.info.xm, blk.info.ys + blk.info.ym, blk.info.zs + blk.info.zm};
  return b;
}

Field PoissonProblem::local_field(const std::vector<std::pair<std::string, Vec>>& channels) const {
  std::vector<std::string> names;
  for (const auto& c : channels) names.push_back(c.first);
  Block blk(dm_);
  Field f(names, local_box());
  for (std::size_t c = 0; c < channels.size(); ++c) {
    Values v(channels[c].second);
    blk.for_each([&](int i, int j, int k) { f.at(i, j, k, static_cast<int>(c)) = v[blk.owned(i, j, k)]; });
  }
  return f;
}

OwnedVec PoissonProblem::error(Vec x) const {
  PDS_CHECK(has_exact(), "poisson: the exact solution is known only for --rhs smooth without obstacles");
  OwnedVec e;
  PDS_PETSC(VecDuplicate(x, e.address()));
  PDS_PETSC(VecWAXPY(e, -1.0, exact_, x));
  PDS_PETSC(VecPointwiseMult(e, e, mask_));
  if (null_space_) PDS_PETSC(MatNullSpaceRemove(null_space_, e));
  return e;
}

double PoissonProblem::max_error(Vec x) const {
  PetscReal norm = 0;
  PDS_PETSC(VecNorm(error(x), NORM_INFINITY, &norm));
  return norm;
}

std::string PoissonProblem::describe() const {
  const auto& o = options_;
  std::ostringstream os;
  os << o.dim << "D Poisson, " << o.n[0] << "x" << o.n[1];
  if (o.dim == 3) os << "x" << o.n[2];
  os << " cells, " << o.describe_boundaries() << ", obstacle ";
  if (o.obstacle.kind == "file") os << o.obstacle.file;
  else if (o.obstacle.kind == "random-boxes") os << "random-boxes (" << o.obstacle.count << ")";
  else os << o.obstacle.kind;
  os << ", rhs " << (o.rhs == "file" ? o.rhs_file : o.rhs);
  if (o.rhs == "random") os << " (seed " << o.seed << ")";
  os << ": " << unknowns() << " unknowns, " << fluid_cells_ << " fluid";
  if (singular())
    os << ", singular (" << enclosed_regions() << " region(s) without a Dirichlet side: null space attached)";
  return os.str();
}

double true_relative_residual(Mat A, Vec x, Vec b) {
  OwnedVec r;
  PDS_PETSC(VecDuplicate(b, r.address()));
  PDS_PETSC(MatMult(A, x, r));
  PDS_PETSC(VecAYPX(r, -1.0, b));
  PetscReal rn = 0, bn = 0;
  PDS_PETSC(VecNorm(r, NORM_2, &rn));
  PDS_PETSC(VecNorm(b, NORM_2, &bn));
  return bn > 0 ? rn / bn : rn;
}

double random_value(std::uint64_t seed, long long index) {
  const std::uint64_t base = SplitMix64(seed * 0xD1B54A32D192ED03ull + 0x5EED).next();
  SplitMix64 h(base ^ (static_cast<std::uint64_t>(index) * 0x9E3779B97F4A7C15ull));
  return 2.0 * h.uniform() - 1.0;
}

void fill_random(Vec v, std::uint64_t seed) {
  PetscInt lo = 0, hi = 0;
  PDS_PETSC(VecGetOwnershipRange(v, &lo, &hi));
  Writable a(v);
  for (PetscInt r = lo; r < hi; ++r) a[static_cast<std::size_t>(r - lo)] = random_value(seed, r);
}

void parse_obstacle(const std::string& text, ObstacleOptions& o) {
  const auto colon = text.find(':');
  const std::string head = text.substr(0, colon);
  if (head == "none" || head == "sphere" || head == "box") {
    PDS_CHECK(colon == std::string::npos, "--obstacle: expected " << head << " without a parameter, got '" << text
                                                                  << "'");
    o.kind = head;
  } else if (head == "random-boxes") {
    o.kind = head;
    if (colon != std::string::npos) {
      const std::string n = text.substr(colon + 1);
      char* end = nullptr;
      const long count = std::strtol(n.c_str(), &end, 10);
      PDS_CHECK(!n.empty() && *end == '\0' && count >= 1 && count <= 100000,
                "--obstacle: expected random-boxes:COUNT with 1 <= COUNT <= 100000, got '" << text << "'");
      o.count = static_cast<int>(count);
    }
  } else {
    o.kind = "file";
    o.file = text;
  }
}

}  // namespace pdestream::linear_systems
