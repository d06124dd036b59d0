#pragma once
// Owning handles for PETSc objects: destroyed with their scope, movable, never copied.
//
//   PetscHandle<Vec, VecDestroy> x;
//   PDS_PETSC(VecCreate(comm, x.address()));
//   VecSet(x, 1.0);   // converts to the raw handle

#include <petscdm.h>
#include <petscksp.h>
#include <petscmat.h>
#include <petscvec.h>
#include <petscviewer.h>

#include <utility>

namespace pdestream::linear_systems {

template <class T, PetscErrorCode (*Destroy)(T*)>
class PetscHandle {
 public:
  PetscHandle() = default;
  explicit PetscHandle(T raw) : raw_(raw) {}
  ~PetscHandle() { reset(); }
  PetscHandle(const PetscHandle&) = delete;
  PetscHandle& operator=(const PetscHandle&) = delete;
  PetscHandle(PetscHandle&& o) noexcept : raw_(std::exchange(o.raw_, nullptr)) {}
  PetscHandle& operator=(PetscHandle&& o) noexcept {
    if (this != &o) {
      reset();
      raw_ = std::exchange(o.raw_, nullptr);
    }
    return *this;
  }

  operator T() const { return raw_; }
  T get() const { return raw_; }
  // For PETSc's create functions; whatever was held is destroyed first.
  T* address() {
    reset();
    return &raw_;
  }
  // Destructors must not throw: a failing destroy is ignored deliberately.
  void reset() {
    if (raw_) (void)Destroy(&raw_);
    raw_ = nullptr;
  }

 private:
  T raw_ = nullptr;
};

using OwnedVec = PetscHandle<Vec, VecDestroy>;
using OwnedMat = PetscHandle<Mat, MatDestroy>;
using OwnedKSP = PetscHandle<KSP, KSPDestroy>;
using OwnedDM = PetscHandle<DM, DMDestroy>;
using OwnedViewer = PetscHandle<PetscViewer, PetscViewerDestroy>;

}  // namespace pdestream::linear_systems
