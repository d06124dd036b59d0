// Poisson problems on DMDA: second-order convergence against manufactured solutions in 2D and
// 3D (Dirichlet, mixed Dirichlet/Neumann), the pure-Neumann case (consistent right-hand side,
// CG converges, the solution matches up to a constant), obstacles (identity rows in solids,
// walls for the fluid, Neumann + obstacle and enclosed pockets consistent and solvable), mask
// and right-hand-side files, 1 vs 2 ranks giving the same system and solution, and the
// command line's one-system entry point (solve_single).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "linear_systems/matrix_io.hpp"
#include "linear_systems/petsc_handle.hpp"
#include "linear_systems/poisson.hpp"
#include "linear_systems/single_solve.hpp"
#include "tests/test_util.hpp"

using namespace pdestream;
using namespace pdestream::linear_systems;
using pdestream::testing::error_of;
using ::testing::HasSubstr;

namespace {

// PETSc's world, set by PetscInitialize (not yet at static initialisation).
MPI_Comm world() { return PETSC_COMM_WORLD; }

std::string scratch(const std::string& name) {
  return pdestream::testing::scratch_dir(name + "_np" + std::to_string(comm_size(world())), world());
}

PoissonOptions options(int dim, int n, const std::string& bc = "dirichlet", const std::string& rhs = "smooth") {
  PoissonOptions o;
  o.dim = dim;
  o.n = {n, n, dim == 3 ? n : 1};
  o.set_boundaries(bc);
  o.rhs = rhs;
  return o;
}

struct Solve {
  PetscInt iterations = 0;
  KSPConvergedReason reason = KSP_CONVERGED_ITERATING;
  double residual = 0;
};

// CG to rtol on the unpreconditioned norm; with Jacobi, the same iterates on any rank count
// (up to rounding), with block Jacobi + ILU(0) fewer iterations.
Solve solve(const PoissonProblem& p, double rtol = 1e-11, PCType pc_type = PCBJACOBI) {
  OwnedKSP ksp;
  PDS_PETSC(KSPCreate(p.comm(), ksp.address()));
  PDS_PETSC(KSPSetOperators(ksp, p.A(), p.A()));
  PDS_PETSC(KSPSetDM(ksp, p.dm()));
  PDS_PETSC(KSPSetDMActive(ksp, PETSC_FALSE));
  PDS_PETSC(KSPSetType(ksp, KSPCG));
  PC pc;
  PDS_PETSC(KSPGetPC(ksp, &pc));
  PDS_PETSC(PCSetType(pc, pc_type));
  PDS_PETSC(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
  PDS_PETSC(KSPSetTolerances(ksp, rtol, 1e-50, PETSC_DEFAULT, 20000));
  PDS_PETSC(VecSet(p.x(), 0.0));
  PDS_PETSC(KSPSolve(ksp, p.b(), p.x()));
  Solve s;
  PDS_PETSC(KSPGetIterationNumber(ksp, &s.iterations));
  PDS_PETSC(KSPGetConvergedReason(ksp, &s.reason));
  s.residual = true_relative_residual(p.A(), p.x(), p.b());
  return s;
}

// Max error of the solved manufactured problem on n, 2n, 4n cells per axis, and the observed
// orders log2(e_h / e_h/2).
std::vector<double> orders(int dim, int n, const std::string& bc, std::vector<double>* errors = nullptr) {
  std::vector<double> e;
  for (int k = 0; k < 3; ++k) {
    PoissonProblem p(options(dim, n << k, bc), world());
    EXPECT_TRUE(p.has_exact());
    const Solve s = solve(p);
    EXPECT_GT(s.reason, 0) << bc << " " << (n << k);
    EXPECT_LT(s.residual, 1e-9);
    e.push_back(p.max_error(p.x()));
  }
  if (errors) *errors = e;
  return {std::log2(e[0] / e[1]), std::log2(e[1] / e[2])};
}

// Sum of v over the cells where `where` > 0.5 (all cells without it).
double sum_where(Vec v, Vec where = nullptr) {
  OwnedVec w;
  PDS_PETSC(VecDuplicate(v, w.address()));
  PDS_PETSC(VecCopy(v, w));
  if (where) PDS_PETSC(VecPointwiseMult(w, w, where));
  PetscScalar s = 0;
  PDS_PETSC(VecSum(w, &s));
  return PetscRealPart(s);
}

// A DMDA vector in natural ordering, on every rank.
std::vector<double> natural_everywhere(DM dm, Vec v) {
  OwnedVec natural, all;
  PDS_PETSC(DMDACreateNaturalVector(dm, natural.address()));
  PDS_PETSC(DMDAGlobalToNaturalBegin(dm, v, INSERT_VALUES, natural));
  PDS_PETSC(DMDAGlobalToNaturalEnd(dm, v, INSERT_VALUES, natural));
  VecScatter scatter;
  PDS_PETSC(VecScatterCreateToAll(natural, &scatter, all.address()));
  PDS_PETSC(VecScatterBegin(scatter, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  PDS_PETSC(VecScatterEnd(scatter, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  PDS_PETSC(VecScatterDestroy(&scatter));
  const PetscScalar* a;
  PetscInt n;
  PDS_PETSC(VecGetLocalSize(all, &n));
  PDS_PETSC(VecGetArrayRead(all, &a));
  std::vector<double> out(a, a + n);
  PDS_PETSC(VecRestoreArrayRead(all, &a));
  return out;
}

void write_npy(const std::string& path, const std::vector<int>& shape, const std::vector<unsigned char>& data,
               const std::string& descr = "|u1") {
  pdestream::testing::write_npy(path, shape, data, world(), descr);
}

}  // namespace

TEST(PoissonOptions, BoundarySpecs) {
  PoissonOptions o = options(3, 8);
  EXPECT_EQ(o.describe_boundaries(), "Dirichlet on all sides");
  o.set_boundaries("neumann");
  EXPECT_TRUE(o.all_neumann());
  EXPECT_EQ(o.describe_boundaries(), "Neumann on all sides");
  o.set_boundaries("neumann,x-=dirichlet,z=d");
  EXPECT_EQ(o.describe_boundaries(), "x-:D x+:N y-:N y+:N z-:D z+:D");
  EXPECT_FALSE(o.all_neumann());
  EXPECT_THAT(error_of([&] { o.set_boundaries("robin"); }),
              HasSubstr("--bc: expected dirichlet or neumann (or d / n), got 'robin' in 'robin'"));
  EXPECT_THAT(error_of([&] { o.set_boundaries("w-=neumann"); }), HasSubstr("expected a side x-, x+, y-, y+, z-, z+"));
  PoissonOptions two = options(2, 8);
  EXPECT_THAT(error_of([&] { two.set_boundaries("z+=neumann"); }),
              HasSubstr("the problem is 2D, so it has no side z+"));
}

TEST(PoissonOptions, ValidationNamesTheBadValue) {
  PoissonOptions o = options(3, 8);
  o.n[1] = 1;
  EXPECT_THAT(error_of([&] { o.validate(); }), HasSubstr("--grid: expected at least 2 cells per axis, got 1 along y"));
  o = options(3, 8);
  o.obstacle.kind = "cylinder";
  EXPECT_THAT(error_of([&] { o.validate(); }),
              HasSubstr("--obstacle: expected none, sphere, box, random-boxes or a .npy file, got 'cylinder'"));
  o = options(3, 8);
  o.rhs = "gaussian";
  EXPECT_THAT(error_of([&] { o.validate(); }), HasSubstr("--rhs: expected random, smooth or a vector file"));
}

TEST(Poisson, SecondOrder2D) {
  for (const std::string bc : {"dirichlet", "neumann,x-=dirichlet,y+=dirichlet", "x-=neumann"}) {
    std::vector<double> e;
    const auto p = orders(2, 16, bc, &e);
    EXPECT_NEAR(p[0], 2.0, 0.2) << bc << ": errors " << e[0] << " " << e[1] << " " << e[2];
    EXPECT_NEAR(p[1], 2.0, 0.2) << bc << ": errors " << e[0] << " " << e[1] << " " << e[2];
  }
}

TEST(Poisson, SecondOrder3D) {
  for (const std::string bc : {"dirichlet", "neumann,x-=dirichlet,z+=dirichlet"}) {
    std::vector<double> e;
    const auto p = orders(3, 8, bc, &e);
    EXPECT_NEAR(p[0], 2.0, 0.25) << bc << ": errors " << e[0] << " " << e[1] << " " << e[2];
    EXPECT_NEAR(p[1], 2.0, 0.2) << bc << ": errors " << e[0] << " " << e[1] << " " << e[2];
  }
}

TEST(Poisson, PureNeumannIsConsistentAndMatchesUpToAConstant) {
  for (int dim : {2, 3}) {
    std::vector<double> e;
    const auto p = orders(dim, dim == 2 ? 16 : 8, "neumann", &e);
    EXPECT_NEAR(p[1], 2.0, 0.25) << dim << "D: errors " << e[0] << " " << e[1] << " " << e[2];
    PoissonProblem pb(options(dim, 12, "neumann", "random"), world());
    ASSERT_TRUE(pb.singular());
    EXPECT_EQ(pb.enclosed_regions(), 1);
    // b ⟂ constants, A 1 = 0, and the null space is PETSc's constant one.
    EXPECT_NEAR(sum_where(pb.b()), 0.0, 1e-10);
    PetscBool has_constant = PETSC_FALSE;
    PetscInt n_vecs = 0;
    const Vec* vecs = nullptr;
    PDS_PETSC(MatNullSpaceGetVecs(pb.null_space(), &has_constant, &n_vecs, &vecs));
    EXPECT_TRUE(has_constant);
    PetscBool ok = PETSC_FALSE;
    PDS_PETSC(MatNullSpaceTest(pb.null_space(), pb.A(), &ok));
    EXPECT_TRUE(ok);
    const Solve s = solve(pb, 1e-10);
    EXPECT_GT(s.reason, 0);
    EXPECT_LT(s.residual, 1e-9);
    EXPECT_NEAR(sum_where(pb.x()), 0.0, 1e-8);  // CG from 0 stays orthogonal to the null space
  }
}

TEST(Poisson, DirichletProblemIsNonsingular) {
  PoissonProblem p(options(3, 8, "neumann,y-=dirichlet", "random"), world());
  EXPECT_FALSE(p.singular());
  EXPECT_EQ(p.enclosed_regions(), 0);
  EXPECT_FALSE(p.has_exact());
  EXPECT_EQ(p.unknowns(), 512);
  EXPECT_EQ(p.fluid_cells(), 512);
}

TEST(Poisson, SolidRowsAreIdentityAndWallsDoNotCouple) {
  PoissonOptions o = options(3, 10, "dirichlet", "random");
  o.obstacle.kind = "box";
  o.obstacle.box_lo = {0.3, 0.3, 0.3};
  o.obstacle.box_hi = {0.7, 0.6, 0.7};
  PoissonProblem p(o, world());
  EXPECT_EQ(p.fluid_cells(), 1000 - 4 * 3 * 4);  // centres 0.35..0.65 (x, z), 0.35..0.55 (y)
  PetscBool symmetric = PETSC_FALSE;
  PDS_PETSC(MatIsSymmetric(p.A(), 0.0, &symmetric));
  EXPECT_TRUE(symmetric);
  // Every row: solid -> exactly (r, r) = 1 and b = 0; fluid -> no column in a solid, and the
  // diagonal is the sum of the couplings plus 2/h² per Dirichlet side.
  const std::vector<double> mask = natural_everywhere(p.dm(), p.mask());
  AO ao;
  PDS_PETSC(DMDAGetAO(p.dm(), &ao));
  PetscInt lo, hi;
  PDS_PETSC(MatGetOwnershipRange(p.A(), &lo, &hi));
  const PetscScalar* b;
  PDS_PETSC(VecGetArrayRead(p.b(), &b));
  const double w = 100.0;  // 1/h² with h = 0.1
  int solid_rows = 0, bad = 0;
  for (PetscInt r = lo; r < hi; ++r) {
    PetscInt natural = r;
    PDS_PETSC(AOPetscToApplication(ao, 1, &natural));
    const int i = natural % 10, j = (natural / 10) % 10, k = natural / 100;
    PetscInt ncols;
    const PetscInt* cols;
    const PetscScalar* vals;
    PDS_PETSC(MatGetRow(p.A(), r, &ncols, &cols, &vals));
    double diag = 0, off = 0;
    for (PetscInt c = 0; c < ncols; ++c) {
      PetscInt nc = cols[c];
      PDS_PETSC(AOPetscToApplication(ao, 1, &nc));
      if (cols[c] == r) diag = PetscRealPart(vals[c]);
      else if (PetscRealPart(vals[c]) != 0) {
        off -= PetscRealPart(vals[c]);
        if (mask[nc] < 0.5 || mask[natural] < 0.5) ++bad;  // a coupling into or out of a solid
      }
    }
    PDS_PETSC(MatRestoreRow(p.A(), r, &ncols, &cols, &vals));
    if (mask[natural] < 0.5) {
      ++solid_rows;
      EXPECT_EQ(diag, 1.0);
      EXPECT_EQ(off, 0.0);
      EXPECT_EQ(PetscRealPart(b[r - lo]), 0.0);
    } else {
      const int dirichlet_sides = (i == 0) + (i == 9) + (j == 0) + (j == 9) + (k == 0) + (k == 9);
      EXPECT_NEAR(diag, off + 2.0 * w * dirichlet_sides, 1e-9) << i << " " << j << " " << k;
      int fluid_neighbours = 0;
      for (int d = 0; d < 6; ++d) {
        const int ii = i + (d == 0 ? -1 : d == 1 ? 1 : 0), jj = j + (d == 2 ? -1 : d == 3 ? 1 : 0),
                  kk = k + (d == 4 ? -1 : d == 5 ? 1 : 0);
        if (ii < 0 || jj < 0 || kk < 0 || ii > 9 || jj > 9 || kk > 9) continue;
        fluid_neighbours += mask[ii + 10 * (jj + 10 * kk)] > 0.5;
      }
      EXPECT_NEAR(off, w * fluid_neighbours, 1e-9) << i << " " << j << " " << k;
    }
  }
  PDS_PETSC(VecRestoreArrayRead(p.b(), &b));
  EXPECT_EQ(bad, 0);
  MPI_Allreduce(MPI_IN_PLACE, &solid_rows, 1, MPI_INT, MPI_SUM, world());
  EXPECT_EQ(solid_rows, 48);
  const Solve s = solve(p);
  EXPECT_GT(s.reason, 0);
  EXPECT_LT(s.residual, 1e-10);
  // x = 0 inside the solid.
  const std::vector<double> x = natural_everywhere(p.dm(), p.x());
  for (std::size_t c = 0; c < x.size(); ++c) {
    if (mask[c] < 0.5) EXPECT_EQ(x[c], 0.0);
  }
}

TEST(Poisson, NeumannWithObstacleIsConsistentAndSolvable) {
  for (const std::string kind : {"sphere", "random-boxes"}) {
    PoissonOptions o = options(3, 16, "neumann", "random");
    o.obstacle.kind = kind;
    o.obstacle.count = 6;
    o.seed = 3;
    PoissonProblem p(o, world());
    ASSERT_TRUE(p.singular()) << kind;
    EXPECT_GE(p.enclosed_regions(), 1);
    EXPECT_LT(p.fluid_cells(), p.unknowns());
    // The null space: one indicator per enclosed region, each orthogonal to b and in A's kernel.
    OwnedVec ones, Aones;
    PDS_PETSC(VecDuplicate(p.b(), ones.address()));
    PDS_PETSC(VecDuplicate(p.b(), Aones.address()));
    PDS_PETSC(VecCopy(p.mask(), ones));
    PDS_PETSC(MatMult(p.A(), ones, Aones));
    PetscReal norm = 0;
    PDS_PETSC(VecNorm(Aones, NORM_INFINITY, &norm));
    EXPECT_LT(norm, 1e-9) << kind << ": A (fluid indicator) = 0";
    EXPECT_NEAR(sum_where(p.b(), p.mask()), 0.0, 1e-10) << kind;
    // Removing the null space from b changes nothing: it is consistent.
    OwnedVec c;
    PDS_PETSC(VecDuplicate(p.b(), c.address()));
    PDS_PETSC(VecCopy(p.b(), c));
    PDS_PETSC(MatNullSpaceRemove(p.null_space(), c));
    PDS_PETSC(VecAXPY(c, -1.0, p.b()));
    PDS_PETSC(VecNorm(c, NORM_INFINITY, &norm));
    EXPECT_LT(norm, 1e-12);
    const Solve s = solve(p, 1e-9);
    EXPECT_GT(s.reason, 0) << kind;
    EXPECT_LT(s.residual, 1e-8) << kind;
  }
}

TEST(Poisson, EnclosedPocketGetsItsOwnNullSpace) {
  // A wall across x splits the box; only the left part has a Dirichlet side.
  PoissonOptions o = options(2, 20, "neumann,x-=dirichlet", "random");
  o.obstacle.kind = "box";
  o.obstacle.box_lo = {0.45, -1.0, 0.0};
  o.obstacle.box_hi = {0.55, 2.0, 0.0};
  PoissonProblem p(o, world());
  ASSERT_TRUE(p.singular());
  ASSERT_EQ(p.enclosed_regions(), 1);
  EXPECT_EQ(p.enclosed_region_sizes()[0], 9 * 20);  // cells 11..19 in x
  EXPECT_EQ(p.fluid_cells(), 18 * 20);
  // The null space is the right part's indicator: b sums to 0 there, not on the left.
  const std::vector<double> b = natural_everywhere(p.dm(), p.b());
  double right = 0, left = 0;
  for (int j = 0; j < 20; ++j)
    for (int i = 0; i < 20; ++i) (i > 10 ? right : left) += b[i + 20 * j];
  EXPECT_NEAR(right, 0.0, 1e-10);
  EXPECT_GT(std::abs(left), 1e-3);
  PetscBool has_constant = PETSC_TRUE;
  PetscInt n_vecs = 0;
  const Vec* vecs = nullptr;
  PDS_PETSC(MatNullSpaceGetVecs(p.null_space(), &has_constant, &n_vecs, &vecs));
  EXPECT_FALSE(has_constant);  // not the whole domain's constant
  const Solve s = solve(p, 1e-10);
  EXPECT_GT(s.reason, 0);
  EXPECT_LT(s.residual, 1e-9);
}

TEST(Poisson, MaskFileAndSingleCellPockets) {
  const std::string dir = scratch("mask");
  // 2D (ny, nx) = (6, 8): a solid ring around cell (i, j) = (2, 2) leaves it alone (it becomes
  // solid), and a solid column at i = 6.
  std::vector<unsigned char> solid(6 * 8, 0);
  for (int j = 1; j <= 3; ++j)
    for (int i = 1; i <= 3; ++i) solid[8 * j + i] = (i == 2 && j == 2) ? 0 : 1;
  for (int j = 0; j < 6; ++j) solid[8 * j + 6] = 1;
  write_npy(dir + "/mask.npy", {6, 8}, solid);
  EXPECT_EQ(PoissonOptions::mask_file_shape(dir + "/mask.npy"), (std::vector<int>{6, 8}));
  PoissonOptions o = options(2, 8, "dirichlet", "random");
  o.n = {8, 6, 1};
  o.obstacle.kind = "file";
  o.obstacle.file = dir + "/mask.npy";
  PoissonProblem p(o, world());
  const std::vector<double> mask = natural_everywhere(p.dm(), p.mask());
  for (int c = 0; c < 48; ++c) EXPECT_EQ(mask[c], (solid[c] || c == 8 * 2 + 2) ? 0.0 : 1.0) << c;
  EXPECT_EQ(p.fluid_cells(), 48 - 8 - 6 - 1);
  EXPECT_FALSE(p.singular());  // both sides of the column touch a Dirichlet side
  // 3D shape and dtype checks.
  write_npy(dir + "/wrong.npy", {6, 8, 8}, std::vector<unsigned char>(6 * 8 * 8, 0));
  o.obstacle.file = dir + "/wrong.npy";
  EXPECT_THAT(error_of([&] { PoissonProblem q(o, world()); }),
              HasSubstr("wrong.npy: expected a mask of shape (6, 8) (ny, nx) to match the grid, got (6, 8, 8)"));
  write_npy(dir + "/float.npy", {6, 8}, std::vector<unsigned char>(6 * 8 * 8, 0), "<f8");
  o.obstacle.file = dir + "/float.npy";
  EXPECT_THAT(error_of([&] { PoissonProblem q(o, world()); }),
              HasSubstr("float.npy: expected a NumPy .npy mask of uint8 or bool (nonzero = solid), got dtype '<f8'"));
  o.obstacle.file = dir + "/missing.npy";
  EXPECT_THAT(error_of([&] { PoissonProblem q(o, world()); }), HasSubstr("missing.npy: expected none, sphere, box"));
  if (comm_rank(world()) == 0) pdestream::testing::write_text(dir + "/text.npy", "not numpy at all\n");
  MPI_Barrier(world());
  o.obstacle.file = dir + "/text.npy";
  EXPECT_THAT(error_of([&] { PoissonProblem q(o, world()); }), HasSubstr("got a file without the .npy magic bytes"));
}

TEST(Poisson, RightHandSideFromFiles) {
  const std::string dir = scratch("rhs");
  PoissonOptions o = options(3, 6, "neumann", "random");
  o.obstacle.kind = "sphere";
  PoissonProblem p(o, world());
  // A natural-ordered file of the (consistent) right-hand side reproduces it exactly.
  write_petsc_binary(dir + "/b.bin", p.b());
  o.rhs = "file";
  o.rhs_file = dir + "/b.bin";
  PoissonProblem q(o, world());
  OwnedVec diff;
  PDS_PETSC(VecDuplicate(p.b(), diff.address()));
  PDS_PETSC(VecWAXPY(diff, -1.0, p.b(), q.b()));
  PetscReal norm = 1;
  PDS_PETSC(VecNorm(diff, NORM_INFINITY, &norm));
  EXPECT_LT(norm, 1e-14);  // projected once more: rounding only
  // A Matrix Market vector: natural order (x fastest), values zeroed in solids.
  if (comm_rank(world()) == 0) {
    std::ofstream out(dir + "/b.mtx");
    out << "%%MatrixMarket matrix array real general\n216 1\n";
    for (int c = 0; c < 216; ++c) out << c << "\n";
  }
  MPI_Barrier(world());
  o.set_boundaries("dirichlet");
  o.rhs_file = dir + "/b.mtx";
  PoissonProblem r(o, world());
  const std::vector<double> b = natural_everywhere(r.dm(), r.b());
  const std::vector<double> mask = natural_everywhere(r.dm(), r.mask());
  for (int c = 0; c < 216; ++c) EXPECT_EQ(b[c], mask[c] > 0.5 ? c : 0.0);
  o.rhs_file = dir + "/b.bin";
  o.n = {6, 6, 5};
  EXPECT_THAT(error_of([&] { PoissonProblem s(o, world()); }),
              HasSubstr("b.bin: expected a vector of 180 values, got 216"));
}

TEST(Poisson, OneAndTwoRanksGiveTheSameSystemAndSolution) {
  // Each rank also builds and solves the problem alone; the shared one must match it.
  PoissonOptions o = options(3, 12, "neumann,x-=dirichlet", "random");
  o.obstacle.kind = "random-boxes";
  o.obstacle.count = 5;
  o.seed = 7;
  PoissonProblem shared(o, world());
  PoissonProblem self(o, PETSC_COMM_SELF);
  EXPECT_EQ(shared.fluid_cells(), self.fluid_cells());
  EXPECT_EQ(shared.enclosed_region_sizes(), self.enclosed_region_sizes());
  EXPECT_EQ(natural_everywhere(shared.dm(), shared.mask()), natural_everywhere(self.dm(), self.mask()));
  const std::vector<double> bw = natural_everywhere(shared.dm(), shared.b());
  const std::vector<double> bs = natural_everywhere(self.dm(), self.b());
  ASSERT_EQ(bw.size(), bs.size());
  for (std::size_t c = 0; c < bw.size(); ++c) EXPECT_NEAR(bw[c], bs[c], 1e-14) << c;
  // A applied to the same (natural) vector.
  OwnedVec v, Av;
  PDS_PETSC(VecDuplicate(shared.b(), v.address()));
  PDS_PETSC(VecDuplicate(shared.b(), Av.address()));
  OwnedVec vs, Avs;
  PDS_PETSC(VecDuplicate(self.b(), vs.address()));
  PDS_PETSC(VecDuplicate(self.b(), Avs.address()));
  for (auto [p, vec] : {std::pair<const PoissonProblem*, Vec>{&shared, v}, {&self, vs}}) {
    OwnedVec natural;
    PDS_PETSC(DMDACreateNaturalVector(p->dm(), natural.address()));
    fill_random(natural, 11);
    PDS_PETSC(DMDANaturalToGlobalBegin(p->dm(), natural, INSERT_VALUES, vec));
    PDS_PETSC(DMDANaturalToGlobalEnd(p->dm(), natural, INSERT_VALUES, vec));
  }
  PDS_PETSC(MatMult(shared.A(), v, Av));
  PDS_PETSC(MatMult(self.A(), vs, Avs));
  const std::vector<double> aw = natural_everywhere(shared.dm(), Av), as = natural_everywhere(self.dm(), Avs);
  for (std::size_t c = 0; c < aw.size(); ++c) EXPECT_NEAR(aw[c], as[c], 1e-12 * (1 + std::abs(as[c]))) << c;
  const Solve sw = solve(shared, 1e-12, PCJACOBI), ss = solve(self, 1e-12, PCJACOBI);
  EXPECT_GT(sw.reason, 0);
  EXPECT_NEAR(sw.iterations, ss.iterations, 1);
  const std::vector<double> xw = natural_everywhere(shared.dm(), shared.x());
  const std::vector<double> xs = natural_everywhere(self.dm(), self.x());
  double worst = 0, scale = 0;
  for (std::size_t c = 0; c < xw.size(); ++c) {
    worst = std::max(worst, std::abs(xw[c] - xs[c]));
    scale = std::max(scale, std::abs(xs[c]));
  }
  EXPECT_LT(worst, 1e-10 * scale);
}

TEST(Poisson, FieldsAndGrid) {
  PoissonProblem p(options(2, 8, "dirichlet", "smooth"), world());
  const Grid g = p.grid();
  EXPECT_EQ(g.dim, 2);
  EXPECT_DOUBLE_EQ(g.lower[0], 1.0 / 16);
  EXPECT_DOUBLE_EQ(g.upper[1], 15.0 / 16);
  EXPECT_DOUBLE_EQ(g.spacing(0), 1.0 / 8);
  const Field f = p.local_field({{"u", p.exact()}, {"mask", p.mask()}});
  EXPECT_EQ(f.box(), p.local_box());
  const Box b = p.local_box();
  // The manufactured solution at a cell centre: (1 + x + sin πx)(1 + y + sin πy).
  const int i = b.lo[0], j = b.lo[1];
  const double x = (i + 0.5) / 8, y = (j + 0.5) / 8;
  EXPECT_NEAR(f.at(i, j, 0, 0), (1 + x + std::sin(M_PI * x)) * (1 + y + std::sin(M_PI * y)), 1e-14);
  EXPECT_EQ(f.at(i, j, 0, 1), 1.0);
  EXPECT_THAT(p.describe(), HasSubstr("2D Poisson, 8x8 cells, Dirichlet on all sides, obstacle none, rhs smooth"));
}

// The command line's one-system path: solves, writes what it says, and refuses bad options
// and a solve that stops short, on every rank alike.
TEST(SingleSolve, SolvesWritesAndReportsNonConvergence) {
  SingleSolveOptions o;
  o.poisson = options(2, 16, "dirichlet", "smooth");
  o.out = scratch("single_solve");
  o.save_system = true;
  const SolveReport r = solve_single(o, world());
  EXPECT_TRUE(r.converged());
  EXPECT_LT(r.residual, 1e-6);
  for (const char* f : {"/solution.bin", "/poisson.pvd", "/system.bin"})
    EXPECT_TRUE(std::ifstream(o.out + f).good()) << f;

  // The written system solves again as a matrix file, to the same iteration count.
  SingleSolveOptions m;
  m.matrix = o.out + "/system.bin";
  const SolveReport rm = solve_single(m, world());
  EXPECT_EQ(rm.iterations, r.iterations);

  SingleSolveOptions bad = o;
  bad.rtol = 1.5;
  EXPECT_EQ(error_of([&] { solve_single(bad, world()); }), "--rtol: expected a value in (0, 1), got 1.5");
  bad = o;
  bad.out.clear();
  EXPECT_EQ(error_of([&] { solve_single(bad, world()); }),
            "--save-system: expected --out DIR to write DIR/system.bin");

  // Two iterations (-ksp_max_it passes through) cannot meet 1e-6: the numbers are printed,
  // then the same error on every rank.
  PDS_PETSC(PetscOptionsSetValue(nullptr, "-ksp_max_it", "2"));
  const std::string e = error_of([&] { solve_single(o, world()); });
  PDS_PETSC(PetscOptionsClearValue(nullptr, "-ksp_max_it"));
  EXPECT_THAT(e, HasSubstr("the solve did not converge: DIVERGED_ITS after 2 iterations"));
}
