#pragma once
// SPD matrices and vectors from files (issue 5): PETSc binary (MatLoad/VecLoad) and Matrix
// Market, plus PETSc binary writers.
//
// Formats, chosen by content (a .mtx/.mm file or one starting with %%MatrixMarket is Matrix
// Market, anything else must be PETSc binary):
// - PETSc binary as written by MatView/VecView (big-endian, 32-bit indices, real doubles).
//   A matrix file may hold a vector right after the matrix (MatView then VecView on one
//   viewer, like PETSc's test matrices): it is the right-hand side.
// - Matrix Market: "%%MatrixMarket matrix coordinate real|integer general|symmetric"
//   (symmetric files store one triangle; the other is mirrored; repeated entries are
//   summed). Vectors: "array" with N x 1 (or 1 x N) values, or "coordinate" with N x 1.
//   Every rank reads the file and keeps its own rows (rows split as PETSC_DECIDE does).
// Checks, each a one-line Error saying what was expected and what was found: missing or
// unreadable file, wrong kind of object, a malformed line (with its number), non-square,
// non-symmetric (MatIsSymmetric at tolerance symmetry_rtol * ‖A‖_∞, then ‖A - Aᵀ‖_F / ‖A‖_F
// in the message), a non-positive diagonal entry (an SPD matrix has none), a vector whose
// size does not match.

#include <mpi.h>
#include <petscmat.h>

#include <string>

#include "linear_systems/petsc_handle.hpp"

namespace pdestream::linear_systems {

struct LoadedSystem {
  OwnedMat A;
  OwnedVec b;  // empty unless the file holds a right-hand side
  std::string format;  // "PETSc binary" or "Matrix Market"
};

struct MatrixCheck {
  bool square = true;     // always enforced
  bool symmetric = true;
  bool positive_diagonal = true;
  double symmetry_rtol = 1e-10;
};

// Collective on comm. Loads an AIJ matrix (and a right-hand side stored after it in a PETSc
// binary file) with rows split over the ranks, and checks it.
LoadedSystem load_matrix(const std::string& path, MPI_Comm comm, const MatrixCheck& check = {});

// Collective on comm: a system as `pdestream poisson --matrix` solves it. A from `matrix`; b
// from the vector file `rhs`, else the matrix file's own, else random from `seed` (`rhs` =
// "random" forces that); x = 0.
struct FileSystem {
  LoadedSystem loaded;      // loaded.b is the right-hand side used
  OwnedVec x;
  std::string description;  // "matrix P (format): N x N, NNZ nonzeros, rhs random (seed 0)"
};
FileSystem load_system(const std::string& matrix, const std::string& rhs, std::uint64_t seed, MPI_Comm comm);

// Collective on v's communicator: fills v (its layout is kept) from a PETSc binary or
// Matrix Market vector file of the same global size. Files are in natural order: a DMDA
// global vector is filled through its natural ordering (x fastest), like VecLoad does.
void load_vector(const std::string& path, Vec v);

// Collective: PETSc binary files (no .info side file). A DMDA vector is written in natural
// ordering (VecView's convention), so load_vector reads it back on any rank count. With b,
// the matrix file also holds b after A (load_matrix returns it).
void write_petsc_binary(const std::string& path, Vec v);
void write_petsc_binary(const std::string& path, Mat A, Vec b = nullptr);

// Writes a Matrix Market coordinate file of A (collective; rank 0 writes); with
// `symmetric`, only the lower triangle and the "symmetric" qualifier.
void write_matrix_market(const std::string& path, Mat A, bool symmetric = false);

}  // namespace pdestream::linear_systems
