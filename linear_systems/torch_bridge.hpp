#pragma once
// PETSc <-> torch: Vec data as tensors, without copies where possible.
//
// Zero-copy views. A VecTensorView (read-write) or ConstVecTensorView (read-only) holds the
// Vec's array (VecGetArray / VecGetArrayRead) for its lifetime and exposes it as a float64
// tensor on that memory, shaped as the rank's block of a DMDA in PETSc's storage order,
// x fastest:
//   1D [xm]   2D [ym, xm]   3D [zm, ym, xm]   (+ a trailing [dof] when dof > 1)
// (xm, ym, zm from DMDAGetCorners for a global Vec, DMDAGetGhostCorners for a local one).
// Index the tensor as t[k][j][i] with k, j, i relative to the block's corner (zs, ys, xs).
// The destructor restores the array (bumping the Vec's state after a read-write view). The
// tensor must not outlive the view; writing through a ConstVecTensorView is not allowed
// (torch has no read-only tensors, so this is a contract, not a check).
//
// The way back: copy_to_vec writes a tensor of the block's shape (any dtype, any strides)
// into a Vec; copy_from_vec returns an owning float64 copy of the block.
//
// Whole fields. NaturalGather assembles the global field of a distributed Vec in natural
// (global lexicographic, x fastest) ordering as a tensor of the global shape [P, N, M]
// (DMDAGlobalToNatural + VecScatterCreateToAll / ToZero), on every rank (Target::All) or on
// rank 0 only (Target::Zero), and scatters a whole field back into a global Vec. It caches
// the natural Vec, the scatter and the sequential buffer, so repeated calls (one per solver
// iteration) allocate nothing. On one rank the global ordering is the natural one.
//
// PetscScalar must be a real double (the Debian petsc-dev build); other builds fail to compile.

#include <petscdm.h>
#include <petscvec.h>

#include <torch/torch.h>

#include <cstdint>
#include <type_traits>
#include <vector>

#include "linear_systems/petsc_handle.hpp"

namespace pdestream::linear_systems {

// Shapes (see above) of a DMDA: the rank's owned block, its ghosted block, the global grid.
std::vector<std::int64_t> local_block_shape(DM da);
std::vector<std::int64_t> ghosted_block_shape(DM da);
std::vector<std::int64_t> global_shape(DM da);

namespace detail {

// The two views share one implementation: Const selects VecGetArrayRead / VecGetArray.
template <bool Const>
class BasicVecTensorView {
 public:
  using Pointer = std::conditional_t<Const, const PetscScalar*, PetscScalar*>;
  using TensorRef = std::conditional_t<Const, const torch::Tensor&, torch::Tensor&>;

  // `v` is a global Vec of `da` (owned block) or a local one (ghosted block); anything else
  // is a pdestream::Error naming both sizes.
  BasicVecTensorView(Vec v, DM da);
  ~BasicVecTensorView();
  BasicVecTensorView(const BasicVecTensorView&) = delete;
  BasicVecTensorView& operator=(const BasicVecTensorView&) = delete;

  TensorRef tensor() { return tensor_; }
  const torch::Tensor& tensor() const { return tensor_; }
  Pointer data() const { return array_; }

 private:
  Vec vec_;
  Pointer array_ = nullptr;
  torch::Tensor tensor_;
};

}  // namespace detail

using ConstVecTensorView = detail::BasicVecTensorView<true>;  // VecGetArrayRead: do not write
using VecTensorView = detail::BasicVecTensorView<false>;      // VecGetArray

// Copies `t` (the block's shape, or any shape with the same number of elements in the
// block's storage order) into `v`. Throws when the element counts differ.
void copy_to_vec(const torch::Tensor& t, Vec v, DM da);
// An owning float64 copy of `v`'s block.
torch::Tensor copy_from_vec(Vec v, DM da);

class NaturalGather {
 public:
  enum class Target { All, Zero };
  NaturalGather(DM da, Target target);
  ~NaturalGather();
  NaturalGather(const NaturalGather&) = delete;
  NaturalGather& operator=(const NaturalGather&) = delete;

  Target target() const { return target_; }
  // True where gather() returns the field (every rank for All, rank 0 for Zero).
  bool holds_field() const { return holds_; }
  const std::vector<std::int64_t>& shape() const { return shape_; }

  // Collective. The global field of `global` (a global Vec of the DMDA) in natural ordering,
  // float64 of shape(), where holds_field(); an undefined tensor elsewhere. The tensor views
  // an internal buffer that the next gather() or scatter() overwrites: clone() to keep it.
  torch::Tensor gather(Vec global);
  // Collective. Writes a whole field (natural ordering, shape() elements, any dtype) into
  // `global`. Target::Zero reads `field` on rank 0 only (other ranks may pass an undefined
  // tensor); Target::All expects the same field on every rank and copies each rank's own
  // block out of it locally, without communication.
  void scatter(const torch::Tensor& field, Vec global);

 private:
  DM da_;  // referenced
  Target target_;
  bool holds_ = false;
  int size_ = 1;
  std::vector<std::int64_t> shape_;
  OwnedVec natural_, sequential_;
  PetscHandle<VecScatter, VecScatterDestroy> scatter_;
};

}  // namespace pdestream::linear_systems
