#pragma once
// The sequence tests' systems: A_k = L + 0.2 k I, L the 5-point Laplacian (4 on the
// diagonal) on an m x m interior grid, and b = `value` everywhere, written as system k of a
// `poisson --sequence DIR` folder (write_system). Collective on comm.
#include <petscmat.h>

#include <string>

#include "core/error.hpp"
#include "linear_systems/petsc_handle.hpp"
#include "linear_systems/sequences.hpp"

namespace pdestream::testing {

inline void write_shifted_system(const std::string& dir, int k, int m, double value, MPI_Comm comm) {
  using linear_systems::OwnedMat;
  using linear_systems::OwnedVec;
  OwnedMat A;
  OwnedVec b;
  PDS_PETSC(MatCreateAIJ(comm, PETSC_DECIDE, PETSC_DECIDE, m * m, m * m, 5, nullptr, 5, nullptr, A.address()));
  PetscInt lo, hi;
  PDS_PETSC(MatGetOwnershipRange(A, &lo, &hi));
  for (PetscInt r = lo; r < hi; ++r) {
    const PetscInt i = r % m, j = r / m;
    PDS_PETSC(MatSetValue(A, r, r, 4.0 + 0.2 * k, INSERT_VALUES));
    if (i > 0) PDS_PETSC(MatSetValue(A, r, r - 1, -1.0, INSERT_VALUES));
    if (i < m - 1) PDS_PETSC(MatSetValue(A, r, r + 1, -1.0, INSERT_VALUES));
    if (j > 0) PDS_PETSC(MatSetValue(A, r, r - m, -1.0, INSERT_VALUES));
    if (j < m - 1) PDS_PETSC(MatSetValue(A, r, r + m, -1.0, INSERT_VALUES));
  }
  PDS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PDS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PDS_PETSC(MatCreateVecs(A, nullptr, b.address()));
  PDS_PETSC(VecSet(b, value));
  linear_systems::write_system(dir, k, A, b);
}

}  // namespace pdestream::testing
