#include "linear_systems/torch_bridge.hpp"

#include <petscdmda.h>

#include <type_traits>

#include "core/error.hpp"
#include "surrogates/surrogate.hpp"

namespace pdestream::linear_systems {

static_assert(std::is_same<PetscScalar, double>::value,
              "the PETSc <-> torch bridge needs a real double-precision PETSc build");

namespace {

using surrogates::shape_str;

struct DaInfo {
  PetscInt dim = 0, dof = 1;
  PetscInt M = 1, N = 1, P = 1;
};

DaInfo info_of(DM da) {
  PDS_CHECK(da, "torch bridge: expected a DMDA, got a null DM");
  PetscBool is_da = PETSC_FALSE;
  PDS_PETSC(PetscObjectTypeCompare((PetscObject)da, DMDA, &is_da));
  const char* type = nullptr;
  PDS_PETSC(PetscObjectGetType((PetscObject)da, &type));
  PDS_CHECK(is_da, "torch bridge: expected a DMDA, got a DM of type " << (type ? type : "(unset)"));
  DaInfo d;
  PDS_PETSC(DMDAGetInfo(da, &d.dim, &d.M, &d.N, &d.P, nullptr, nullptr, nullptr, &d.dof, nullptr, nullptr,
                        nullptr, nullptr, nullptr));
  return d;
}

// Slowest axis first: [z, y, x] (+ dof).
std::vector<std::int64_t> storage_shape(const DaInfo& d, PetscInt xm, PetscInt ym, PetscInt zm) {
  std::vector<std::int64_t> s;
  if (d.dim >= 3) s.push_back(zm);
  if (d.dim >= 2) s.push_back(ym);
  s.push_back(xm);
  if (d.dof > 1) s.push_back(d.dof);
  return s;
}

std::int64_t product(const std::vector<std::int64_t>& s) {
  std::int64_t n = 1;
  for (auto v : s) n *= v;
  return n;
}

// The block shape that matches `v`'s local size: the owned block (global Vec) or the
// ghosted block (local Vec).
std::vector<std::int64_t> shape_for(Vec v, DM da) {
  PDS_CHECK(v, "torch bridge: expected a Vec, got a null handle");
  PetscInt n = 0;
  PDS_PETSC(VecGetLocalSize(v, &n));
  auto owned = local_block_shape(da);
  if (product(owned) == n) return owned;
  auto ghosted = ghosted_block_shape(da);
  if (product(ghosted) == n) return ghosted;
  PDS_FAIL("torch bridge: the Vec's local size " << n << " is neither the DMDA's owned block " << shape_str(owned)
                                                  << " nor its ghosted block " << shape_str(ghosted));
}

torch::Tensor wrap(const PetscScalar* p, const std::vector<std::int64_t>& shape) {
  return torch::from_blob(const_cast<PetscScalar*>(p), shape, torch::TensorOptions().dtype(torch::kFloat64));
}

}  // namespace

std::vector<std::int64_t> local_block_shape(DM da) {
  DaInfo d = info_of(da);
  PetscInt xs, ys, zs, xm, ym, zm;
  PDS_PETSC(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  return storage_shape(d, xm, ym, zm);
}

std::vector<std::int64_t> ghosted_block_shape(DM da) {
  DaInfo d = info_of(da);
  PetscInt xs, ys, zs, xm, ym, zm;
  PDS_PETSC(DMDAGetGhostCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  return storage_shape(d, xm, ym, zm);
}

std::vector<std::int64_t> global_shape(DM da) {
  DaInfo d = info_of(da);
  return storage_shape(d, d.M, d.N, d.P);
}

namespace detail {

template <bool Const>
BasicVecTensorView<Const>::BasicVecTensorView(Vec v, DM da) : vec_(v) {
  auto shape = shape_for(v, da);
  if constexpr (Const)
    PDS_PETSC(VecGetArrayRead(v, &array_));
  else
    PDS_PETSC(VecGetArray(v, &array_));
  tensor_ = wrap(array_, shape);
}

template <bool Const>
BasicVecTensorView<Const>::~BasicVecTensorView() {
  tensor_ = torch::Tensor();
  if (!array_) return;
  if constexpr (Const)
    (void)VecRestoreArrayRead(vec_, &array_);
  else
    (void)VecRestoreArray(vec_, &array_);
}

template class BasicVecTensorView<true>;
template class BasicVecTensorView<false>;

}  // namespace detail

void copy_to_vec(const torch::Tensor& t, Vec v, DM da) {
  VecTensorView view(v, da);
  PDS_CHECK(t.defined() && t.numel() == view.tensor().numel(),
            "torch bridge: expected a tensor of " << view.tensor().numel() << " elements "
                                                  << shape_str(view.tensor().sizes().vec()) << ", got "
                                                  << shape_str(t));
  view.tensor().copy_(t.detach().reshape(view.tensor().sizes()));
}

torch::Tensor copy_from_vec(Vec v, DM da) {
  ConstVecTensorView view(v, da);
  return view.tensor().clone();
}

// ---------------------------------------------------------------------------------------

NaturalGather::NaturalGather(DM da, Target target) : da_(da), target_(target) {
  info_of(da);
  shape_ = global_shape(da);
  PDS_PETSC(PetscObjectReference((PetscObject)da_));
  MPI_Comm comm = PetscObjectComm((PetscObject)da);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size_);
  holds_ = target_ == Target::All || rank == 0;
  PDS_PETSC(DMDACreateNaturalVector(da_, natural_.address()));
  if (target_ == Target::All)
    PDS_PETSC(VecScatterCreateToAll(natural_, scatter_.address(), sequential_.address()));
  else
    PDS_PETSC(VecScatterCreateToZero(natural_, scatter_.address(), sequential_.address()));
}

NaturalGather::~NaturalGather() {
  scatter_.reset();
  sequential_.reset();
  natural_.reset();
  (void)DMDestroy(&da_);
}

torch::Tensor NaturalGather::gather(Vec global) {
  PetscInt n = 0, expected = 0;
  PDS_PETSC(VecGetLocalSize(global, &n));
  PDS_PETSC(VecGetLocalSize(natural_, &expected));
  PDS_CHECK(n == expected, "torch bridge: gather: expected a global Vec of the DMDA (local size "
                               << expected << "), got local size " << n);
  PDS_PETSC(DMDAGlobalToNaturalBegin(da_, global, INSERT_VALUES, natural_));
  PDS_PETSC(DMDAGlobalToNaturalEnd(da_, global, INSERT_VALUES, natural_));
  PDS_PETSC(VecScatterBegin(scatter_, natural_, sequential_, INSERT_VALUES, SCATTER_FORWARD));
  PDS_PETSC(VecScatterEnd(scatter_, natural_, sequential_, INSERT_VALUES, SCATTER_FORWARD));
  if (!holds_) return torch::Tensor();
  // The buffer is ours and never reallocated: the view stays valid after the restore.
  PetscScalar* p = nullptr;
  PDS_PETSC(VecGetArray(sequential_, &p));
  torch::Tensor t = wrap(p, shape_);
  PDS_PETSC(VecRestoreArray(sequential_, &p));
  return t;
}

void NaturalGather::scatter(const torch::Tensor& field, Vec global) {
  const std::int64_t total = product(shape_);
  if (holds_)
    PDS_CHECK(field.defined() && field.numel() == total,
              "torch bridge: scatter: expected a field of " << total << " elements " << shape_str(shape_) << ", got "
                                                            << shape_str(field));
  if (target_ == Target::All) {
    // Every rank has the whole field: cut out the own block, no communication.
    PetscInt xs, ys, zs, xm, ym, zm;
    PDS_PETSC(DMDAGetCorners(da_, &xs, &ys, &zs, &xm, &ym, &zm));
    torch::Tensor block = field.detach().reshape(shape_);
    const PetscInt starts[3] = {zs, ys, xs}, sizes[3] = {zm, ym, xm};
    const int dim = static_cast<int>(info_of(da_).dim);
    for (int a = 0; a < dim; ++a) {
      const int axis3 = 3 - dim + a;  // z, y, x: the last `dim` of them
      block = block.narrow(a, starts[axis3], sizes[axis3]);
    }
    copy_to_vec(block, global, da_);
    return;
  }
  if (holds_) {
    PetscScalar* p = nullptr;
    PDS_PETSC(VecGetArray(sequential_, &p));
    wrap(p, shape_).copy_(field.detach().reshape(shape_));
    PDS_PETSC(VecRestoreArray(sequential_, &p));
  }
  PDS_PETSC(VecScatterBegin(scatter_, sequential_, natural_, INSERT_VALUES, SCATTER_REVERSE));
  PDS_PETSC(VecScatterEnd(scatter_, sequential_, natural_, INSERT_VALUES, SCATTER_REVERSE));
  PDS_PETSC(DMDANaturalToGlobalBegin(da_, natural_, INSERT_VALUES, global));
  PDS_PETSC(DMDANaturalToGlobalEnd(da_, natural_, INSERT_VALUES, global));
}

}  // namespace pdestream::linear_systems
