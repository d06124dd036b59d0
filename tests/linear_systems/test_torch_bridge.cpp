// The PETSc <-> torch bridge on 1 and 2 ranks: views share the Vec's memory and index it
// as DMDAVecGetArray does, writes reach the Vec, copies round-trip, the gathered field is
// in natural ordering on the right ranks, and scattering it back restores the Vec.
#include <gtest/gtest.h>
#include <petscdmda.h>

#include <torch/torch.h>

#include <cmath>

#include "core/error.hpp"
#include "linear_systems/petsc_handle.hpp"
#include "linear_systems/torch_bridge.hpp"
#include "tests/test_util.hpp"

using namespace pdestream;
using namespace pdestream::linear_systems;
using pdestream::testing::error_of;

namespace {

// A value that names its global grid point.
double tag(PetscInt i, PetscInt j, PetscInt k) { return i + 100.0 * j + 10000.0 * k; }

OwnedDM make_da(int dim, PetscInt M, PetscInt N, PetscInt P, PetscInt dof = 1) {
  OwnedDM da;
  if (dim == 1)
    PDS_PETSC(DMDACreate1d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, M, dof, 1, nullptr, da.address()));
  else if (dim == 2)
    PDS_PETSC(DMDACreate2d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, M, N,
                           PETSC_DECIDE, PETSC_DECIDE, dof, 1, nullptr, nullptr, da.address()));
  else
    PDS_PETSC(DMDACreate3d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                           DMDA_STENCIL_STAR, M, N, P, PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, dof, 1, nullptr,
                           nullptr, nullptr, da.address()));
  PDS_PETSC(DMSetUp(da));
  return da;
}

// Fills a global Vec of a 2D or 3D DMDA with tag(i, j, k) through PETSc's own indexing.
void fill_tagged(DM da, Vec v) {
  PetscInt dim, xs, ys, zs, xm, ym, zm;
  PDS_PETSC(DMDAGetInfo(da, &dim, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr));
  PDS_PETSC(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  if (dim == 2) {
    PetscScalar** a;
    PDS_PETSC(DMDAVecGetArray(da, v, &a));
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i) a[j][i] = tag(i, j, 0);
    PDS_PETSC(DMDAVecRestoreArray(da, v, &a));
  } else {
    PetscScalar*** a;
    PDS_PETSC(DMDAVecGetArray(da, v, &a));
    for (PetscInt k = zs; k < zs + zm; ++k)
      for (PetscInt j = ys; j < ys + ym; ++j)
        for (PetscInt i = xs; i < xs + xm; ++i) a[k][j][i] = tag(i, j, k);
    PDS_PETSC(DMDAVecRestoreArray(da, v, &a));
  }
}

// The tagged global field in natural ordering, [P, N, M] or [N, M].
torch::Tensor tagged_field(int dim, PetscInt M, PetscInt N, PetscInt P) {
  auto i = torch::arange(M, torch::kFloat64);
  auto j = torch::arange(N, torch::kFloat64);
  if (dim == 2) return i.view({1, M}) + 100.0 * j.view({N, 1});
  auto k = torch::arange(P, torch::kFloat64);
  return i.view({1, 1, M}) + 100.0 * j.view({1, N, 1}) + 10000.0 * k.view({P, 1, 1});
}

struct Case {
  int dim;
  PetscInt M, N, P;
};
const Case kCases[] = {{2, 7, 5, 1}, {3, 5, 4, 6}};

}  // namespace

TEST(TorchBridge, ShapesFollowTheDmdaStorageOrder) {
  auto da1 = make_da(1, 9, 1, 1);
  auto da2 = make_da(2, 7, 5, 1);
  auto da3 = make_da(3, 5, 4, 6);
  auto da2v = make_da(2, 7, 5, 1, 3);
  EXPECT_EQ(global_shape(da1), (std::vector<std::int64_t>{9}));
  EXPECT_EQ(global_shape(da2), (std::vector<std::int64_t>{5, 7}));
  EXPECT_EQ(global_shape(da3), (std::vector<std::int64_t>{6, 4, 5}));
  EXPECT_EQ(global_shape(da2v), (std::vector<std::int64_t>{5, 7, 3}));
  PetscInt xs, ys, zs, xm, ym, zm;
  PDS_PETSC(DMDAGetCorners(da3, &xs, &ys, &zs, &xm, &ym, &zm));
  EXPECT_EQ(local_block_shape(da3), (std::vector<std::int64_t>{zm, ym, xm}));
  PDS_PETSC(DMDAGetGhostCorners(da3, &xs, &ys, &zs, &xm, &ym, &zm));
  EXPECT_EQ(ghosted_block_shape(da3), (std::vector<std::int64_t>{zm, ym, xm}));
}

TEST(TorchBridge, ViewsShareTheVecsMemory) {
  for (const auto& c : kCases) {
    auto da = make_da(c.dim, c.M, c.N, c.P);
    OwnedVec v;
    PDS_PETSC(DMCreateGlobalVector(da, v.address()));
    PetscScalar* array = nullptr;
    PDS_PETSC(VecGetArray(v, &array));
    void* p = array;  // VecRestoreArray nulls `array`
    PDS_PETSC(VecRestoreArray(v, &array));
    {
      VecTensorView view(v, da);
      EXPECT_EQ(view.tensor().data_ptr(), p);
      EXPECT_EQ(view.tensor().scalar_type(), torch::kFloat64);
      EXPECT_EQ(view.tensor().sizes().vec(), local_block_shape(da));
      EXPECT_TRUE(view.tensor().is_contiguous());
    }
    {
      ConstVecTensorView view(v, da);
      EXPECT_EQ(view.tensor().data_ptr(), p);
    }
  }
}

TEST(TorchBridge, ViewIndexesAsDmdaVecGetArray) {
  for (const auto& c : kCases) {
    auto da = make_da(c.dim, c.M, c.N, c.P);
    OwnedVec v;
    PDS_PETSC(DMCreateGlobalVector(da, v.address()));
    fill_tagged(da, v);
    PetscInt xs, ys, zs, xm, ym, zm;
    PDS_PETSC(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
    // The owned block of the natural field is exactly what the view shows.
    auto expected = tagged_field(c.dim, c.M, c.N, c.P);
    if (c.dim == 3) expected = expected.narrow(0, zs, zm);
    expected = expected.narrow(c.dim - 2, ys, ym).narrow(c.dim - 1, xs, xm);
    ConstVecTensorView view(v, da);
    EXPECT_TRUE(torch::equal(view.tensor(), expected)) << "dim " << c.dim;
  }
}

TEST(TorchBridge, WritesThroughTheViewReachTheVec) {
  auto da = make_da(3, 5, 4, 6);
  OwnedVec v;
  PDS_PETSC(DMCreateGlobalVector(da, v.address()));
  PDS_PETSC(VecSet(v, 0.0));
  PetscReal before = -1;
  PDS_PETSC(VecNorm(v, NORM_2, &before));  // PETSc caches this norm
  EXPECT_EQ(before, 0.0);
  {
    VecTensorView view(v, da);
    view.tensor().fill_(2.5);
  }
  PetscScalar sum = 0;
  PDS_PETSC(VecSum(v, &sum));
  EXPECT_DOUBLE_EQ(sum, 2.5 * 5 * 4 * 6);
  PetscReal norm = 0;
  PDS_PETSC(VecNorm(v, NORM_2, &norm));  // the restore invalidated the cached norm
  EXPECT_DOUBLE_EQ(norm, 2.5 * std::sqrt(5.0 * 4 * 6));
}

TEST(TorchBridge, CopiesRoundTrip) {
  auto da = make_da(2, 7, 5, 1);
  OwnedVec v;
  PDS_PETSC(DMCreateGlobalVector(da, v.address()));
  auto shape = local_block_shape(da);
  auto t = torch::randn(shape, torch::kFloat64);
  copy_to_vec(t, v, da);
  EXPECT_TRUE(torch::equal(copy_from_vec(v, da), t));
  // Any dtype and any strides: a float32 transposed copy lands in storage order.
  auto f = t.to(torch::kFloat32).t().contiguous().t();
  copy_to_vec(f, v, da);
  EXPECT_TRUE(torch::equal(copy_from_vec(v, da), f.to(torch::kFloat64)));
  auto wrong = torch::zeros({t.numel() + 1}, torch::kFloat64);
  EXPECT_NE(error_of([&] { copy_to_vec(wrong, v, da); }).find("expected a tensor of"), std::string::npos);
}

TEST(TorchBridge, LocalVecGivesTheGhostedBlockAndForeignVecsAreErrors) {
  auto da = make_da(2, 7, 5, 1);
  OwnedVec local;
  PDS_PETSC(DMCreateLocalVector(da, local.address()));
  {
    ConstVecTensorView view(local, da);
    EXPECT_EQ(view.tensor().sizes().vec(), ghosted_block_shape(da));
  }
  auto other = make_da(2, 9, 9, 1);
  OwnedVec foreign;
  PDS_PETSC(DMCreateGlobalVector(other, foreign.address()));
  const std::string e = error_of([&] { VecTensorView view(foreign, da); });
  EXPECT_NE(e.find("neither the DMDA's owned block"), std::string::npos) << e;
}

TEST(TorchBridge, GatherGivesTheNaturalOrdering) {
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  for (const auto& c : kCases) {
    auto da = make_da(c.dim, c.M, c.N, c.P);
    OwnedVec v;
    PDS_PETSC(DMCreateGlobalVector(da, v.address()));
    fill_tagged(da, v);
    const auto expected = tagged_field(c.dim, c.M, c.N, c.P);
    for (auto target : {NaturalGather::Target::All, NaturalGather::Target::Zero}) {
      NaturalGather gather(da, target);
      EXPECT_EQ(gather.shape(), expected.sizes().vec());
      auto field = gather.gather(v);
      const bool holds = target == NaturalGather::Target::All || rank == 0;
      EXPECT_EQ(gather.holds_field(), holds);
      ASSERT_EQ(field.defined(), holds);
      if (holds) EXPECT_TRUE(torch::equal(field, expected)) << "dim " << c.dim;
      // A second call reuses the buffers and sees new data.
      PDS_PETSC(VecScale(v, 2.0));
      field = gather.gather(v);
      if (holds) EXPECT_TRUE(torch::equal(field, 2.0 * expected));
      PDS_PETSC(VecScale(v, 0.5));
    }
  }
}

TEST(TorchBridge, ScatterPutsANaturalFieldBack) {
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  for (const auto& c : kCases) {
    auto da = make_da(c.dim, c.M, c.N, c.P);
    OwnedVec tagged, v;
    PDS_PETSC(DMCreateGlobalVector(da, tagged.address()));
    PDS_PETSC(VecDuplicate(tagged, v.address()));
    fill_tagged(da, tagged);
    const auto field = tagged_field(c.dim, c.M, c.N, c.P);
    for (auto target : {NaturalGather::Target::All, NaturalGather::Target::Zero}) {
      NaturalGather gather(da, target);
      PDS_PETSC(VecSet(v, -1.0));
      // Target::Zero reads the field on rank 0 only: the others pass nothing.
      const bool give = target == NaturalGather::Target::All || rank == 0;
      gather.scatter(give ? field.to(torch::kFloat32) : torch::Tensor(), v);
      PetscBool equal = PETSC_FALSE;
      PDS_PETSC(VecEqual(v, tagged, &equal));
      EXPECT_TRUE(equal) << "dim " << c.dim << (target == NaturalGather::Target::All ? " all" : " zero");
      // And round trip through gather.
      auto back = gather.gather(v);
      if (gather.holds_field()) EXPECT_TRUE(torch::equal(back, field));
    }
  }
}
