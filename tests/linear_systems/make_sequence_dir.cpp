// Writes a folder in the `pdestream poisson --sequence DIR` format, for the CLI tests:
//   make_sequence_dir DIR COUNT M            COUNT systems (L + 0.2 k I) on an M x M grid
//   make_sequence_dir DIR COUNT M mismatch   ... and the last one on an (M+1) x (M+1) grid
// A test main, like apps/: it owns the world communicator.
#include <petscmat.h>

#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "linear_systems/petsc_handle.hpp"
#include "linear_systems/sequences.hpp"

using namespace pdestream;
using namespace pdestream::linear_systems;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: make_sequence_dir DIR COUNT M [mismatch]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int count = std::atoi(argv[2]), m0 = std::atoi(argv[3]);
  const bool mismatch = argc > 4 && std::string(argv[4]) == "mismatch";
  Runtime runtime(&argc, &argv, MPI_COMM_WORLD);
  try {
    if (runtime.rank() == 0) std::filesystem::create_directories(dir);
    MPI_Barrier(runtime.comm());
    for (int k = 0; k < count; ++k) {
      const int m = mismatch && k == count - 1 ? m0 + 1 : m0;
      OwnedMat A;
      OwnedVec b;
      PDS_PETSC(MatCreateAIJ(runtime.comm(), PETSC_DECIDE, PETSC_DECIDE, m * m, m * m, 5, nullptr, 5, nullptr,
                             A.address()));
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
      PDS_PETSC(VecSet(b, 1.0));
      write_system(dir, k, A, b);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "make_sequence_dir: %s\n", e.message().c_str());
    return 1;
  }
  return 0;
}
