// Matrix and vector files: PETSc binary and Matrix Market round trips (general and
// symmetric storage, a right-hand side inside the matrix file), hand-written files, and every
// error case (missing, non-square, non-symmetric, malformed, truncated, wrong object), on 1
// and 2 ranks (rows split over the ranks; the loaded matrix equals the one built in memory).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "linear_systems/matrix_io.hpp"
#include "linear_systems/petsc_handle.hpp"
#include "tests/test_util.hpp"

using ::testing::HasSubstr;
using namespace pdestream;
using namespace pdestream::linear_systems;
using pdestream::testing::error_of;

namespace {

std::string scratch(const std::string& name) {
  const MPI_Comm comm = PETSC_COMM_WORLD;
  return pdestream::testing::scratch_dir(name + "_np" + std::to_string(comm_size(comm)), comm);
}

// Rank 0 writes, everyone waits.
void write_file(const std::string& path, const std::string& text) {
  if (comm_rank(PETSC_COMM_WORLD) == 0) pdestream::testing::write_text(path, text);
  MPI_Barrier(PETSC_COMM_WORLD);
}

// The 5-point Laplacian (4 on the diagonal) on an m x m grid, plus `shift` on the diagonal,
// and `skew` added to every (r, r + 1) entry (non-symmetric when nonzero).
OwnedMat laplacian(PetscInt m, double shift = 0.0, double skew = 0.0, PetscInt cols = -1) {
  OwnedMat A;
  const PetscInt n = m * m;
  PDS_PETSC(MatCreateAIJ(PETSC_COMM_WORLD, PETSC_DECIDE, PETSC_DECIDE, n, cols < 0 ? n : cols, 5, nullptr, 5, nullptr,
                         A.address()));
  PetscInt lo, hi;
  PDS_PETSC(MatGetOwnershipRange(A, &lo, &hi));
  for (PetscInt r = lo; r < hi; ++r) {
    const PetscInt i = r % m, j = r / m;
    PDS_PETSC(MatSetValue(A, r, r, 4.0 + shift + 0.01 * r, INSERT_VALUES));
    if (i > 0) PDS_PETSC(MatSetValue(A, r, r - 1, -1.0, INSERT_VALUES));
    if (i < m - 1) PDS_PETSC(MatSetValue(A, r, r + 1, -1.0 + skew, INSERT_VALUES));
    if (j > 0) PDS_PETSC(MatSetValue(A, r, r - m, -1.0, INSERT_VALUES));
    if (j < m - 1) PDS_PETSC(MatSetValue(A, r, r + m, -1.0, INSERT_VALUES));
  }
  PDS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PDS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  return A;
}

OwnedVec ramp(Mat A) {
  OwnedVec b;
  PDS_PETSC(MatCreateVecs(A, nullptr, b.address()));
  PetscInt lo, hi;
  PDS_PETSC(VecGetOwnershipRange(b, &lo, &hi));
  for (PetscInt r = lo; r < hi; ++r) PDS_PETSC(VecSetValue(b, r, 1.0 + 0.5 * r, INSERT_VALUES));
  PDS_PETSC(VecAssemblyBegin(b));
  PDS_PETSC(VecAssemblyEnd(b));
  return b;
}

bool equal(Mat A, Mat B) {
  PetscBool same = PETSC_FALSE;
  PDS_PETSC(MatEqual(A, B, &same));
  return same;
}

bool equal(Vec a, Vec b) {
  PetscBool same = PETSC_FALSE;
  PDS_PETSC(VecEqual(a, b, &same));
  return same;
}

double entry(Mat A, PetscInt r, PetscInt c) {
  // Collective-free read of one entry on its owner; broadcast from there.
  PetscInt lo, hi;
  PDS_PETSC(MatGetOwnershipRange(A, &lo, &hi));
  double v = 0;
  int owner = 0;
  if (r >= lo && r < hi) {
    PetscScalar s;
    PDS_PETSC(MatGetValues(A, 1, &r, 1, &c, &s));
    v = PetscRealPart(s);
    owner = comm_rank(PETSC_COMM_WORLD);
  }
  MPI_Allreduce(MPI_IN_PLACE, &owner, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
  MPI_Bcast(&v, 1, MPI_DOUBLE, owner, PETSC_COMM_WORLD);
  return v;
}

std::string load_error(const std::string& path) {
  return error_of([&] { load_matrix(path, PETSC_COMM_WORLD); });
}

}  // namespace

TEST(MatrixIO, PetscBinaryRoundTripWithRightHandSide) {
  const std::string dir = scratch("bin");
  OwnedMat A = laplacian(7);
  OwnedVec b = ramp(A);
  write_petsc_binary(dir + "/Ab.bin", A, b);
  write_petsc_binary(dir + "/A.bin", A);
  LoadedSystem s = load_matrix(dir + "/Ab.bin", PETSC_COMM_WORLD);
  EXPECT_EQ(s.format, "PETSc binary");
  EXPECT_TRUE(equal(A, s.A));
  ASSERT_TRUE(s.b);
  EXPECT_TRUE(equal(b, s.b));
  LoadedSystem only = load_matrix(dir + "/A.bin", PETSC_COMM_WORLD);
  EXPECT_TRUE(equal(A, only.A));
  EXPECT_FALSE(only.b);
  // Rows are split over the ranks as PETSC_DECIDE does.
  PetscInt lo, hi, lo2, hi2;
  PDS_PETSC(MatGetOwnershipRange(A, &lo, &hi));
  PDS_PETSC(MatGetOwnershipRange(s.A, &lo2, &hi2));
  EXPECT_EQ(lo, lo2);
  EXPECT_EQ(hi, hi2);
  // A vector file on its own.
  write_petsc_binary(dir + "/b.bin", b);
  OwnedVec c;
  PDS_PETSC(VecDuplicate(b, c.address()));
  load_vector(dir + "/b.bin", c);
  EXPECT_TRUE(equal(b, c));
}

TEST(MatrixIO, MatrixMarketRoundTripGeneralAndSymmetric) {
  const std::string dir = scratch("mtx");
  OwnedMat A = laplacian(6, 0.5);
  write_matrix_market(dir + "/general.mtx", A, false);
  write_matrix_market(dir + "/symmetric.mtx", A, true);
  LoadedSystem g = load_matrix(dir + "/general.mtx", PETSC_COMM_WORLD);
  LoadedSystem s = load_matrix(dir + "/symmetric.mtx", PETSC_COMM_WORLD);
  EXPECT_EQ(g.format, "Matrix Market");
  EXPECT_TRUE(equal(A, g.A));
  EXPECT_TRUE(equal(A, s.A));
  EXPECT_FALSE(g.b);
  // The symmetric file stores the lower triangle only: 36 diagonal + 60 lower entries.
  if (comm_rank(PETSC_COMM_WORLD) == 0) {
    std::ifstream in(dir + "/symmetric.mtx");
    std::string banner, sizes;
    std::getline(in, banner);
    std::getline(in, sizes);
    EXPECT_EQ(banner, "%%MatrixMarket matrix coordinate real symmetric");
    EXPECT_EQ(sizes, "36 36 96");
  }
}

TEST(MatrixIO, HandWrittenSymmetricStorageIsMirrored) {
  const std::string dir = scratch("hand");
  write_file(dir + "/s.mtx",
             "%%MatrixMarket matrix coordinate integer symmetric\n"
             "% a comment, then a blank line\n"
             "\n"
             "3 3 5\n"
             "1 1 4\n"
             "2 1 -1\n"
             "2 2 4\n"
             "3 2 -2\n"
             "3 3 5\n");
  LoadedSystem s = load_matrix(dir + "/s.mtx", PETSC_COMM_WORLD);
  EXPECT_EQ(entry(s.A, 0, 1), -1.0);
  EXPECT_EQ(entry(s.A, 1, 0), -1.0);
  EXPECT_EQ(entry(s.A, 1, 2), -2.0);
  EXPECT_EQ(entry(s.A, 2, 1), -2.0);
  EXPECT_EQ(entry(s.A, 2, 2), 5.0);
  EXPECT_EQ(entry(s.A, 0, 2), 0.0);
  // General storage with a repeated entry: summed.
  write_file(dir + "/g.mtx",
             "%%MatrixMarket matrix coordinate real general\n"
             "2 2 5\n"
             "1 1 1.5\n1 1 0.5\n1 2 -1\n2 1 -1\n2 2 2e0\n");
  LoadedSystem g = load_matrix(dir + "/g.mtx", PETSC_COMM_WORLD);
  EXPECT_EQ(entry(g.A, 0, 0), 2.0);
  EXPECT_EQ(entry(g.A, 1, 1), 2.0);
}

TEST(MatrixIO, MatrixMarketVectors) {
  const std::string dir = scratch("vec");
  write_file(dir + "/array.mtx", "%%MatrixMarket matrix array real general\n% b\n4 1\n1\n2.5\n-3\n4\n");
  write_file(dir + "/coord.mtx", "%%MatrixMarket matrix coordinate real general\n4 1 2\n2 1 7\n4 1 -1\n");
  OwnedVec v;
  PDS_PETSC(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, 4, v.address()));
  load_vector(dir + "/array.mtx", v);
  PetscReal norm1 = 0;
  PDS_PETSC(VecNorm(v, NORM_1, &norm1));
  EXPECT_DOUBLE_EQ(norm1, 10.5);
  load_vector(dir + "/coord.mtx", v);
  PetscScalar sum = 0;
  PDS_PETSC(VecSum(v, &sum));
  EXPECT_DOUBLE_EQ(PetscRealPart(sum), 6.0);
  OwnedVec w;
  PDS_PETSC(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, 5, w.address()));
  EXPECT_THAT(error_of([&] { load_vector(dir + "/array.mtx", w); }), HasSubstr("expected a vector of 5 values, got 4"));
}

TEST(MatrixIO, MissingFileAndWrongObjects) {
  const std::string dir = scratch("missing");
  EXPECT_THAT(load_error(dir + "/nothere.mtx"),
              HasSubstr("nothere.mtx: expected a matrix (PETSc binary or Matrix Market .mtx), found no such file"));
  EXPECT_THAT(load_error(dir), HasSubstr("expected a matrix file, got a folder"));
  write_file(dir + "/text.bin", "hello, I am not a matrix\n");
  EXPECT_THAT(load_error(dir + "/text.bin"),
              HasSubstr("expected a PETSc binary file (MatView/VecView) or a Matrix Market file, got neither"));
  OwnedMat A = laplacian(3);
  OwnedVec b = ramp(A);
  write_petsc_binary(dir + "/b.bin", b);
  EXPECT_THAT(load_error(dir + "/b.bin"), HasSubstr("b.bin: expected a PETSc binary matrix, got a vector"));
  OwnedVec v;
  PDS_PETSC(VecDuplicate(b, v.address()));
  write_petsc_binary(dir + "/A.bin", A);
  EXPECT_THAT(error_of([&] { load_vector(dir + "/A.bin", v); }),
              HasSubstr("A.bin: expected a PETSc binary vector, got a matrix"));
  // A truncated matrix file.
  if (comm_rank(PETSC_COMM_WORLD) == 0) {
    std::ifstream in(dir + "/A.bin", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream cut(dir + "/cut.bin", std::ios::binary);
    cut.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  EXPECT_THAT(load_error(dir + "/cut.bin"), HasSubstr("got a truncated file of"));
}

TEST(MatrixIO, NonSquareNonSymmetricAndIndefinite) {
  const std::string dir = scratch("bad");
  OwnedMat rect = laplacian(3, 0.0, 0.0, 12);
  write_petsc_binary(dir + "/rect.bin", rect);
  EXPECT_THAT(load_error(dir + "/rect.bin"), HasSubstr("rect.bin: expected a square matrix, got 9 x 12"));
  write_file(dir + "/rect.mtx", "%%MatrixMarket matrix coordinate real general\n2 3 1\n1 1 1\n");
  EXPECT_THAT(load_error(dir + "/rect.mtx"), HasSubstr("rect.mtx: expected a square matrix, got 2 x 3"));
  OwnedMat skew = laplacian(4, 0.0, 0.25);
  write_petsc_binary(dir + "/skew.bin", skew);
  EXPECT_THAT(load_error(dir + "/skew.bin"),
              HasSubstr("skew.bin: expected a symmetric matrix (SPD), got ||A - A^T||_F / ||A||_F = "));
  write_file(dir + "/skew.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 4\n1 1 2\n1 2 1\n2 1 -1\n2 2 2\n");
  EXPECT_THAT(load_error(dir + "/skew.mtx"), HasSubstr("skew.mtx: expected a symmetric matrix (SPD)"));
  write_file(dir + "/neg.mtx", "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 2\n2 2 -1\n3 3 2\n");
  EXPECT_THAT(load_error(dir + "/neg.mtx"),
              HasSubstr("neg.mtx: expected an SPD matrix (positive diagonal), got a_ii = -1 at row 2"));
  // The checks can be switched off for other uses.
  MatrixCheck loose;
  loose.symmetric = false;
  EXPECT_NO_THROW(load_matrix(dir + "/skew.bin", PETSC_COMM_WORLD, loose));
}

TEST(MatrixIO, MalformedMatrixMarketLines) {
  const std::string dir = scratch("malformed");
  const std::string head = "%%MatrixMarket matrix coordinate real general\n";
  struct Case {
    std::string name, text, message;
  };
  const Case cases[] = {
      {"banner.mtx", "%%MatrixMarket matrix coordinate\n1 1 1\n1 1 1\n",
       "banner.mtx:1: expected '%%MatrixMarket matrix coordinate real|integer general|symmetric', got "
       "'%%MatrixMarket matrix coordinate'"},
      {"nobanner.mtx", "1 1 1\n1 1 1\n", "nobanner.mtx:1: expected the Matrix Market banner"},
      {"pattern.mtx", "%%MatrixMarket matrix coordinate pattern general\n1 1 1\n1 1\n",
       "pattern.mtx:1: expected real or integer values, got 'pattern' (no values)"},
      {"complex.mtx", "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n",
       "complex.mtx:1: expected real or integer values, got 'complex'"},
      {"skewsym.mtx", "%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n2 1 1\n",
       "skewsym.mtx:1: expected general or symmetric storage, got 'skew-symmetric'"},
      {"array.mtx", "%%MatrixMarket matrix array real general\n2 2\n1\n0\n0\n1\n",
       "array.mtx:1: expected coordinate (sparse) format, got 'array'"},
      {"size.mtx", head + "2 2\n1 1 1\n", "size.mtx:2: expected the size line 'rows cols entries', got '2 2'"},
      {"nosize.mtx", head + "% only comments\n", "nosize.mtx: expected a size line after the banner, found none"},
      {"token.mtx", head + "2 2 2\n1 1 1.0\n2 x 1.0\n",
       "token.mtx:4: expected 'row col value' with 1 <= row <= 2 and 1 <= col <= 2, got '2 x 1.0'"},
      {"range.mtx", head + "2 2 2\n1 1 1.0\n3 1 1.0\n",
       "range.mtx:4: expected 'row col value' with 1 <= row <= 2 and 1 <= col <= 2, got '3 1 1.0'"},
      {"zero.mtx", head + "2 2 2\n0 1 1.0\n2 2 1.0\n", "zero.mtx:3: expected 'row col value'"},
      {"extra.mtx", head + "2 2 2\n1 1 1.0 7\n2 2 1.0\n", "extra.mtx:3: expected 'row col value'"},
      {"value.mtx", head + "2 2 2\n1 1 nan\n2 2 1.0\n", "value.mtx:3: expected 'row col value'"},
      {"few.mtx", head + "2 2 3\n1 1 1.0\n2 2 1.0\n", "few.mtx: expected 3 entries (from the size line), found 2"},
      {"many.mtx", head + "2 2 1\n1 1 1.0\n2 2 1.0\n",
       "many.mtx:4: expected 1 entries (from the size line), found more: '2 2 1.0'"},
  };
  for (const Case& c : cases) {
    write_file(dir + "/" + c.name, c.text);
    const std::string message = load_error(dir + "/" + c.name);
    EXPECT_THAT(message, HasSubstr(c.message)) << c.name;
    EXPECT_EQ(message.find('\n'), std::string::npos) << c.name << ": one line";
  }
}
