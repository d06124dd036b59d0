#pragma once
// Poisson problems on a DMDA: -Δu = f on a box, 2D (5-point) or 3D (7-point), any number of
// MPI ranks, with Dirichlet or Neumann sides and solid obstacles (issue 5).
//
// Discretisation (cell-centred finite volumes):
// - The box [lower, upper] is split into n[0] x n[1] (x n[2]) cells of size h_a; unknowns sit
//   at cell centres lower_a + (i + 1/2) h_a, so the grid points are the cell centres (the
//   DMDA's coordinates and grid() say so). Natural ordering: x fastest, then y, then z.
// - A = -Δ_h scaled by 1/h² (symmetric, positive definite): a fluid cell couples to each fluid
//   neighbour with -1/h_a²; a Dirichlet side adds 2/h_a² to the diagonal (ghost value
//   2g - u, so the face value is g), a Neumann side adds nothing (zero flux). Second order
//   for smooth solutions (tested).
// - Solids (the mask's 0 cells) follow the DCDM paper: their rows and columns are those of
//   the identity (1 on the diagonal, no coupling) and b = 0 there, so x = 0 there. A fluid
//   cell does not couple to a solid neighbour: the fluid-solid interface is a zero-flux
//   (Neumann) wall for the fluid. A fluid cell with no fluid neighbour and no Dirichlet side
//   (its equation would be 0 = 0) is made solid.
// - Singular cases: every connected fluid region without a Dirichlet side (all sides
//   Neumann, or a pocket enclosed by solids) adds its indicator to A's null space. The null
//   space is attached to A (MatSetNullSpace and MatSetTransposeNullSpace: PETSc's constant
//   null space when there are no solids, otherwise one indicator per enclosed region,
//   removed by subtracting each region's mean) and b is projected onto its complement, so
//   the system is consistent and CG converges to the minimum-norm-in-each-region solution.
// Boundary data: homogeneous (g = 0, zero flux) except for the smooth right-hand side,
// whose Dirichlet values come from the manufactured solution.
//
// Right-hand sides:
//   random  uniform in [-1, 1] per fluid cell from a hash of (seed, natural index): the same
//           values on any number of ranks
//   smooth  the manufactured solution u = Π_a φ_a(x_a), one factor per axis chosen by its
//           two sides (D-D: 1 + x + sin πx, D-N: 1 + sin(πx/2), N-D: 1 + cos(πx/2),
//           N-N: cos πx, in the unit coordinate x = (x_a - lower_a) / (upper_a - lower_a)),
//           f = -Δu at cell centres, Dirichlet values g = u on the faces; exact() holds u at
//           the cell centres (only without obstacles: solids change the solution)
//   file    a PETSc binary Vec (VecView) or a Matrix Market vector with one value per cell in
//           natural ordering; zeroed in solids
// Obstacle files (--obstacle FILE): a NumPy .npy array of uint8 or bool, C order, shape
// (ny, nx) in 2D or (nz, ny, nx) in 3D (numpy.save(path, solid.astype(numpy.uint8))),
// nonzero = solid. Every rank reads its own block.
//
//   PoissonOptions o;
//   o.dim = 3; o.n = {64, 64, 64};
//   o.set_boundaries("neumann,x-=dirichlet");
//   o.obstacle.kind = "sphere";
//   PoissonProblem p(o, comm);
//   KSPSetOperators(ksp, p.A(), p.A()); KSPSetDM(ksp, p.dm()); KSPSetDMActive(ksp, PETSC_FALSE);
//   KSPSolve(ksp, p.b(), p.x());
//   double r = true_relative_residual(p.A(), p.x(), p.b());

#include <mpi.h>
#include <petscdmda.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/grid.hpp"
#include "linear_systems/petsc_handle.hpp"

namespace pdestream::linear_systems {

enum class BoundaryKind { dirichlet, neumann };

struct ObstacleOptions {
  std::string kind = "none";  // none | sphere | box | random-boxes | file
  // sphere (a disk in 2D): centre and radius in physical coordinates
  std::array<double, 3> center{0.5, 0.5, 0.5};
  double radius = 0.25;
  // box: [box_lo, box_hi] in physical coordinates
  std::array<double, 3> box_lo{0.35, 0.35, 0.35};
  std::array<double, 3> box_hi{0.65, 0.65, 0.65};
  // random-boxes: `count` axis-aligned boxes, corners uniform in the domain, side lengths
  // uniform in [size_min, size_max] times the domain's extent, drawn from `seed`
  int count = 8;
  double size_min = 0.05;
  double size_max = 0.25;
  // file: a .npy mask (see the header comment)
  std::string file;
};

struct PoissonOptions {
  int dim = 3;
  std::array<int, 3> n{32, 32, 32};  // cells per axis (the unused z is ignored in 2D)
  std::array<double, 3> lower{0.0, 0.0, 0.0};
  std::array<double, 3> upper{1.0, 1.0, 1.0};
  // bc[axis][0]: the lower side, bc[axis][1]: the upper side.
  std::array<std::array<BoundaryKind, 2>, 3> bc{{{BoundaryKind::dirichlet, BoundaryKind::dirichlet},
                                                  {BoundaryKind::dirichlet, BoundaryKind::dirichlet},
                                                  {BoundaryKind::dirichlet, BoundaryKind::dirichlet}}};
  ObstacleOptions obstacle;
  std::string rhs = "random";  // random | smooth | file
  std::string rhs_file;
  std::uint64_t seed = 0;      // random right-hand side and random boxes

  // The command line's --grid: NX NY (2D) or NX NY NZ (3D) cells; sets dim and n. Throws
  // "--grid: expected NX NY or NX NY NZ cells, got ..." for another count.
  void set_grid(const std::vector<int>& cells);
  // "dirichlet", "neumann", or a comma-separated list applied in order: a bare kind sets
  // every side, SIDE=KIND sets x-, x+, y-, y+, z-, z+ or both sides of x, y, z
  // ("neumann,x-=dirichlet"). Kinds may be abbreviated to d / n.
  void set_boundaries(const std::string& spec);
  // "Dirichlet on all sides", "Neumann on all sides" or "x-: D, x+: N, ...".
  std::string describe_boundaries() const;
  bool all_neumann() const;
  // Throws a one-line Error naming the bad value.
  void validate() const;
  // The grid shape (nz, ny, nx) / (ny, nx) of a .npy obstacle file, for callers that take
  // the grid from the mask; throws on an unreadable file. Collective-free (any rank).
  static std::vector<int> mask_file_shape(const std::string& path);
};

class PoissonProblem {
 public:
  // Collective on comm: creates the DMDA, the mask, A, b (consistent), x = 0 and, for the
  // smooth right-hand side without obstacles, the exact solution.
  PoissonProblem(const PoissonOptions& options, MPI_Comm comm);
  PoissonProblem(const PoissonProblem&) = delete;
  PoissonProblem& operator=(const PoissonProblem&) = delete;
  PoissonProblem(PoissonProblem&&) noexcept = default;
  PoissonProblem& operator=(PoissonProblem&&) noexcept = default;
  ~PoissonProblem() = default;

  const PoissonOptions& options() const { return options_; }
  MPI_Comm comm() const { return comm_; }
  DM dm() const { return dm_; }
  Mat A() const { return A_; }
  Vec b() const { return b_; }
  Vec x() const { return x_; }        // zero until someone solves into it
  Vec mask() const { return mask_; }  // 1 = fluid, 0 = solid
  // The manufactured solution at cell centres, or nullptr when there is none.
  Vec exact() const { return exact_; }
  bool has_exact() const { return exact_.get() != nullptr; }
  // The null space attached to A, or nullptr when A is nonsingular.
  MatNullSpace null_space() const { return null_space_; }
  bool singular() const { return null_space_.get() != nullptr; }
  // Fluid regions without a Dirichlet side (each one a null-space vector).
  int enclosed_regions() const { return static_cast<int>(regions_->sizes.size()); }
  const std::vector<long long>& enclosed_region_sizes() const { return regions_->sizes; }

  long long unknowns() const;
  long long fluid_cells() const { return fluid_cells_; }
  // Cell centres as grid points (for ParaView) and this rank's block of them.
  Grid grid() const;
  Box local_box() const;
  // This rank's block of DMDA vectors as one Field, a channel per (name, vector).
  Field local_field(const std::vector<std::pair<std::string, Vec>>& channels) const;
  // x - exact on fluid cells (0 in solids), projected onto the complement of the null space
  // (the solution of a singular problem is defined up to it), and its max norm.
  // Require has_exact().
  OwnedVec error(Vec x) const;
  double max_error(Vec x) const;
  // "3D Poisson, 64x64x64 cells, Dirichlet on all sides, obstacle sphere, rhs random (seed 0)"
  std::string describe() const;

 private:
  void build_mask();
  void find_enclosed_regions();
  void assemble();
  void build_rhs();
  void attach_null_space();
  static PetscErrorCode remove_region_means(MatNullSpace, Vec v, void* ctx);

  // Enclosed-region label per cell (-1: none; a DMDA global vector) and region sizes. On
  // the heap: the null space's removal function keeps a pointer to it across moves.
  struct Regions {
    OwnedVec label;
    std::vector<long long> sizes;
  };

  PoissonOptions options_;
  MPI_Comm comm_;
  std::unique_ptr<Regions> regions_;  // declared before A_: outlives the null space's users
  OwnedDM dm_;
  OwnedMat A_;
  OwnedVec b_, x_, mask_, exact_;
  PetscHandle<MatNullSpace, MatNullSpaceDestroy> null_space_;
  long long fluid_cells_ = 0;
};

// ‖b - A x‖ / ‖b‖, recomputed (‖b - A x‖ when b = 0). Collective.
// The command line's --obstacle: none | sphere | box | random-boxes[:COUNT] | FILE.npy.
void parse_obstacle(const std::string& text, ObstacleOptions& o);

double true_relative_residual(Mat A, Vec x, Vec b);

// The random right-hand side: uniform in [-1, 1) at (natural) index i from a hash of
// (seed, i), so it is the same on any number of ranks.
double random_value(std::uint64_t seed, long long index);
// Fills a plain (non-DMDA) vector with random_value(seed, global index).
void fill_random(Vec v, std::uint64_t seed);

}  // namespace pdestream::linear_systems
