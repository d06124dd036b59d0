#include "linear_systems/matrix_io.hpp"

#include <petscdmda.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "linear_systems/poisson.hpp"  // fill_random

namespace pdestream::linear_systems {

namespace fs = std::filesystem;

namespace {

constexpr const char* kBanner = "%%MatrixMarket";

// What a file holds, found by rank 0 from its first bytes (and broadcast).
struct FileInfo {
  bool matrix_market = false;
  // PETSc binary: the first object's class id and sizes; a vector stored after a matrix.
  long long classid = 0, rows = 0, cols = 0, nonzeros = 0;
  long long vec_after = -1;  // size of the vector after the matrix, -1 if none
};

long long read_big_endian(std::istream& in) {
  unsigned char buf[sizeof(PetscInt)];
  if (!in.read(reinterpret_cast<char*>(buf), sizeof buf)) return LLONG_MIN;
  long long v = 0;
  for (unsigned char c : buf) v = (v << 8) | c;
  if (sizeof(PetscInt) == 4) v = static_cast<std::int32_t>(v);
  return v;
}

std::string describe_classid(long long id) {
  if (id == MAT_FILE_CLASSID) return "a matrix";
  if (id == VEC_FILE_CLASSID) return "a vector";
  return "neither (class id " + std::to_string(id) + ")";
}

FileInfo inspect_on_root(const std::string& path, const std::string& what) {
  FileInfo info;
  PDS_CHECK(fs::exists(path), path << ": expected " << what
                                   << " (PETSc binary or Matrix Market .mtx), found no such file");
  PDS_CHECK(!fs::is_directory(path), path << ": expected " << what << " file, got a folder");
  std::ifstream in(path, std::ios::binary);
  PDS_CHECK(in, path << ": expected a readable " << what << " file, cannot open it");
  std::string head(14, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  const std::string ext = fs::path(path).extension().string();
  if (head == kBanner || ext == ".mtx" || ext == ".mm") {
    PDS_CHECK(head == kBanner, path << ":1: expected the Matrix Market banner '" << kBanner
                                    << " matrix coordinate real general', got something else");
    info.matrix_market = true;
    return info;
  }
  const auto bytes = static_cast<long long>(fs::file_size(path));
  const std::string petsc = "a PETSc binary file (MatView/VecView) or a Matrix Market file";
  in.clear();
  in.seekg(0);
  info.classid = read_big_endian(in);
  PDS_CHECK(info.classid == MAT_FILE_CLASSID || info.classid == VEC_FILE_CLASSID,
            path << ": expected " << petsc << ", got neither (" << bytes << " bytes)");
  const long long I = sizeof(PetscInt), S = sizeof(PetscScalar);
  if (info.classid == VEC_FILE_CLASSID) {
    info.rows = read_big_endian(in);
    PDS_CHECK(info.rows >= 0, path << ": expected a PETSc binary vector header, got "
                                    << (info.rows == LLONG_MIN ? std::string("a file that ends inside it")
                                                               : "size " + std::to_string(info.rows)));
    PDS_CHECK(info.rows <= bytes / S && bytes >= 2 * I + info.rows * S,
              path << ": expected a PETSc binary vector of " << info.rows << " values, got a truncated file of "
                   << bytes << " bytes");
    return info;
  }
  info.rows = read_big_endian(in);
  info.cols = read_big_endian(in);
  info.nonzeros = read_big_endian(in);
  PDS_CHECK(info.rows >= 0 && info.cols >= 0, path << ": expected a PETSc binary matrix header, got sizes "
                                                   << info.rows << " x " << info.cols);
  PDS_CHECK(info.nonzeros >= 0, path << ": expected a sparse (AIJ) PETSc binary matrix, got a dense one");
  // Sizes beyond the file are rejected before they are multiplied out.
  PDS_CHECK(info.rows <= bytes / I && info.nonzeros <= bytes / (I + S),
            path << ": expected a PETSc binary matrix of " << info.rows << " x " << info.cols << " with "
                 << info.nonzeros << " nonzeros, got a truncated file of " << bytes << " bytes");
  const long long end = 4 * I + info.rows * I + info.nonzeros * (I + S);
  PDS_CHECK(bytes >= end, path << ": expected a PETSc binary matrix of " << info.rows << " x " << info.cols << " with "
                               << info.nonzeros << " nonzeros (" << end << " bytes), got a truncated file of "
                               << bytes << " bytes");
  // MatLoad trusts the row lengths and column indices (a corrupt one makes it write out of
  // bounds): check them before any rank calls it.
  long long total = 0;
  for (long long r = 0; r < info.rows; ++r) {
    const long long len = read_big_endian(in);
    PDS_CHECK(len >= 0 && len <= info.cols && total + len <= info.nonzeros,
              path << ": expected row lengths in [0, " << info.cols << "] adding up to " << info.nonzeros
                   << " nonzeros, got " << len << " at row " << r << " (corrupt PETSc binary matrix)");
    total += len;
  }
  PDS_CHECK(total == info.nonzeros, path << ": expected row lengths adding up to " << info.nonzeros
                                         << " nonzeros, got " << total << " (corrupt PETSc binary matrix)");
  for (long long k = 0; k < info.nonzeros; ++k) {
    const long long j = read_big_endian(in);
    PDS_CHECK(j >= 0 && j < info.cols, path << ": expected column indices in [0, " << info.cols << "), got " << j
                                            << " (corrupt PETSc binary matrix)");
  }
  if (bytes >= end + 2 * I) {
    in.seekg(end);
    const long long id = read_big_endian(in), n = read_big_endian(in);
    if (id == VEC_FILE_CLASSID) {
      PDS_CHECK(n >= 0 && n <= bytes / S && bytes >= end + 2 * I + n * S,
                path << ": expected a right-hand side of " << n << " values after the matrix, got a truncated file");
      info.vec_after = n;
    }
  }
  return info;
}

// Rank 0 inspects, every rank learns the result or the error.
FileInfo inspect(const std::string& path, const std::string& what, MPI_Comm comm) {
  FileInfo info;
  std::string error;
  if (comm_rank(comm) == 0) {
    try {
      info = inspect_on_root(path, what);
    } catch (const Error& e) {
      error = e.message();
    }
  }
  agree_on_error(comm, error);
  long long buf[7] = {info.matrix_market, info.classid, info.rows, info.cols, info.nonzeros, info.vec_after, 0};
  MPI_Bcast(buf, 7, MPI_LONG_LONG, 0, comm);
  info.matrix_market = buf[0] != 0;
  info.classid = buf[1];
  info.rows = buf[2];
  info.cols = buf[3];
  info.nonzeros = buf[4];
  info.vec_after = buf[5];
  return info;
}

// ---- Matrix Market -------------------------------------------------------------------------

struct MMHeader {
  bool coordinate = true;
  bool symmetric = false;
  long long rows = 0, cols = 0, entries = 0;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trimmed(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

bool parse_integer(const char*& p, long long& out) {
  char* end = nullptr;
  while (*p == ' ' || *p == '\t') ++p;
  out = std::strtoll(p, &end, 10);
  if (end == p) return false;
  p = end;
  return true;
}

bool parse_real(const char*& p, double& out) {
  char* end = nullptr;
  while (*p == ' ' || *p == '\t') ++p;
  out = std::strtod(p, &end);
  if (end == p || !std::isfinite(out)) return false;
  p = end;
  return true;
}

bool at_end(const char* p) {
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') ++p;
  return *p == '\0';
}

// Streams a Matrix Market file: the header, then every stored value as (row, col, value),
// 0-based, in file order (array files: column-major). Throws on the first bad line.
void read_matrix_market(const std::string& path, bool want_vector, MMHeader& h,
                        const std::function<void()>& on_size,
                        const std::function<void(long long, long long, double)>& value) {
  std::ifstream in(path);
  PDS_CHECK(in, path << ": expected a readable Matrix Market file, cannot open it");
  std::string line;
  std::getline(in, line);
  std::istringstream banner(line);
  std::string tag, object, format, field, symmetry, extra;
  banner >> tag >> object >> format >> field >> symmetry;
  const std::string expected = want_vector ? "'%%MatrixMarket matrix array|coordinate real general'"
                                           : "'%%MatrixMarket matrix coordinate real|integer general|symmetric'";
  PDS_CHECK(tag == kBanner && !symmetry.empty() && !(banner >> extra),
            path << ":1: expected " << expected << ", got '" << trimmed(line) << "'");
  object = lower(object), format = lower(format), field = lower(field), symmetry = lower(symmetry);
  PDS_CHECK(object == "matrix", path << ":1: expected a Matrix Market 'matrix' (vectors are N x 1 matrices), got '"
                                     << object << "'");
  PDS_CHECK(format == "coordinate" || (want_vector && format == "array"),
            path << ":1: expected " << (want_vector ? "array or coordinate" : "coordinate (sparse)")
                 << " format, got '" << format << "'");
  PDS_CHECK(field == "real" || field == "integer" || field == "double",
            path << ":1: expected real or integer values, got '" << field << "'"
                 << (field == "pattern" ? " (no values)" : ""));
  PDS_CHECK(symmetry == "general" || (!want_vector && symmetry == "symmetric"),
            path << ":1: expected " << (want_vector ? "general" : "general or symmetric") << " storage, got '"
                 << symmetry << "'");
  h.coordinate = format == "coordinate";
  h.symmetric = symmetry == "symmetric";
  long long number = 1;
  bool have_size = false;
  long long seen = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string t = trimmed(line);
    if (t.empty() || t[0] == '%') continue;
    const char* p = t.c_str();
    if (!have_size) {
      bool ok = parse_integer(p, h.rows) && parse_integer(p, h.cols);
      if (h.coordinate) ok = ok && parse_integer(p, h.entries);
      else h.entries = h.rows * h.cols;
      PDS_CHECK(ok && at_end(p) && h.rows >= 0 && h.cols >= 0 && h.entries >= 0,
                path << ":" << number << ": expected the size line '"
                     << (h.coordinate ? "rows cols entries" : "rows cols") << "', got '" << t << "'");
      have_size = true;
      on_size();
      continue;
    }
    PDS_CHECK(seen < h.entries, path << ":" << number << ": expected " << h.entries
                                     << " entries (from the size line), found more: '" << t << "'");
    long long r = 0, c = 0;
    double v = 0;
    if (h.coordinate) {
      const bool ok = parse_integer(p, r) && parse_integer(p, c) && parse_real(p, v) && at_end(p);
      PDS_CHECK(ok && r >= 1 && r <= h.rows && c >= 1 && c <= h.cols,
                path << ":" << number << ": expected 'row col value' with 1 <= row <= " << h.rows
                     << " and 1 <= col <= " << h.cols << ", got '" << t << "'");
      --r, --c;
    } else {
      PDS_CHECK(parse_real(p, v) && at_end(p), path << ":" << number << ": expected one real value, got '" << t << "'");
      r = seen % std::max<long long>(1, h.rows);
      c = seen / std::max<long long>(1, h.rows);
    }
    value(r, c, v);
    ++seen;
  }
  PDS_CHECK(have_size, path << ": expected a size line after the banner, found none");
  PDS_CHECK(seen == h.entries, path << ": expected " << h.entries << " entries (from the size line), found " << seen);
}

// Rows [start, start + local) of this rank in PETSC_DECIDE's split of n rows (no messages).
void split_rows(long long n, MPI_Comm comm, long long& start, long long& local) {
  const long long size = comm_size(comm), rank = comm_rank(comm);
  local = n / size + (rank < n % size ? 1 : 0);
  start = rank * (n / size) + std::min(rank, n % size);
}

struct Entry {
  PetscInt row, col;
  PetscScalar value;
};

OwnedMat load_matrix_market(const std::string& path, MPI_Comm comm, bool& symmetric_storage) {
  MMHeader h;
  std::vector<Entry> mine;
  long long start = 0, local = 0;
  std::string error;
  try {
    const auto on_size = [&] {
      PDS_CHECK(h.rows == h.cols, path << ": expected a square matrix, got " << h.rows << " x " << h.cols);
      PDS_CHECK(h.rows > 0, path << ": expected a non-empty matrix, got 0 x 0");
      split_rows(h.rows, comm, start, local);
    };
    read_matrix_market(path, false, h, on_size, [&](long long r, long long c, double v) {
      const auto own = [&](long long row) { return row >= start && row < start + local; };
      if (own(r)) mine.push_back({static_cast<PetscInt>(r), static_cast<PetscInt>(c), v});
      if (h.symmetric && r != c && own(c)) mine.push_back({static_cast<PetscInt>(c), static_cast<PetscInt>(r), v});
    });
  } catch (const Error& e) {
    error = e.message();
  }
  agree_on_error(comm, error);
  symmetric_storage = h.symmetric;
  std::sort(mine.begin(), mine.end(), [](const Entry& a, const Entry& b) {
    return a.row != b.row ? a.row < b.row : a.col < b.col;
  });
  std::vector<PetscInt> d_nnz(static_cast<std::size_t>(local), 0), o_nnz(static_cast<std::size_t>(local), 0);
  for (std::size_t k = 0; k < mine.size(); ++k) {
    if (k > 0 && mine[k].row == mine[k - 1].row && mine[k].col == mine[k - 1].col) continue;  // summed
    const bool diag = mine[k].col >= start && mine[k].col < start + local;
    ++(diag ? d_nnz : o_nnz)[static_cast<std::size_t>(mine[k].row - start)];
  }
  OwnedMat A;
  const auto m = static_cast<PetscInt>(local), n = static_cast<PetscInt>(h.rows);
  PDS_PETSC(MatCreateAIJ(comm, m, m, n, n, 0, d_nnz.data(), 0, o_nnz.data(), A.address()));
  for (const Entry& e : mine) PDS_PETSC(MatSetValues(A, 1, &e.row, 1, &e.col, &e.value, ADD_VALUES));
  PDS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PDS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  return A;
}

void load_vector_market(const std::string& path, Vec v) {
  MPI_Comm comm = PetscObjectComm((PetscObject)v);
  PetscInt n = 0, lo = 0, hi = 0;
  PDS_PETSC(VecGetSize(v, &n));
  PDS_PETSC(VecGetOwnershipRange(v, &lo, &hi));
  std::vector<PetscScalar> values(static_cast<std::size_t>(hi - lo), 0.0);
  std::string error;
  try {
    MMHeader h;
    const auto on_size = [&] {
      PDS_CHECK(h.rows == 1 || h.cols == 1, path << ": expected a vector (an N x 1 matrix), got " << h.rows << " x "
                                                 << h.cols);
      PDS_CHECK(h.rows * h.cols == n, path << ": expected a vector of " << n << " values, got " << h.rows * h.cols);
    };
    read_matrix_market(path, true, h, on_size, [&](long long r, long long c, double x) {
      const long long i = h.cols == 1 ? r : c;
      if (i >= lo && i < hi) values[static_cast<std::size_t>(i - lo)] += x;
    });
  } catch (const Error& e) {
    error = e.message();
  }
  agree_on_error(comm, error);
  PetscScalar* a;
  PDS_PETSC(VecGetArray(v, &a));
  std::copy(values.begin(), values.end(), a);
  PDS_PETSC(VecRestoreArray(v, &a));
}

// ---- checks ----------------------------------------------------------------------------------

void check_matrix(const std::string& path, Mat A, const MatrixCheck& check, bool symmetric_by_construction) {
  PetscInt m = 0, n = 0;
  PDS_PETSC(MatGetSize(A, &m, &n));
  PDS_CHECK(m == n, path << ": expected a square matrix, got " << m << " x " << n);
  PDS_CHECK(m > 0, path << ": expected a non-empty matrix, got 0 x 0");
  if (check.symmetric && !symmetric_by_construction) {
    PetscReal scale = 0;
    PDS_PETSC(MatNorm(A, NORM_INFINITY, &scale));
    PetscBool symmetric = PETSC_FALSE;
    PDS_PETSC(MatIsSymmetric(A, check.symmetry_rtol * scale, &symmetric));
    if (!symmetric) {
      // MatIsSymmetric also fails on a pattern-only asymmetry (an explicit zero with no
      // partner): measure the values before saying no.
      OwnedMat T;
      PDS_PETSC(MatTranspose(A, MAT_INITIAL_MATRIX, T.address()));
      PDS_PETSC(MatAXPY(T, -1.0, A, DIFFERENT_NONZERO_PATTERN));
      PetscReal diff = 0, norm = 0;
      PDS_PETSC(MatNorm(T, NORM_FROBENIUS, &diff));
      PDS_PETSC(MatNorm(A, NORM_FROBENIUS, &norm));
      const double rel = norm > 0 ? diff / norm : diff;
      PDS_CHECK(rel <= check.symmetry_rtol,
                path << ": expected a symmetric matrix (SPD), got ||A - A^T||_F / ||A||_F = " << rel
                     << " (tolerance " << check.symmetry_rtol << ")");
    }
  }
  if (check.symmetric) {
    PDS_PETSC(MatSetOption(A, MAT_SYMMETRIC, PETSC_TRUE));
    PDS_PETSC(MatSetOption(A, MAT_SYMMETRY_ETERNAL, PETSC_TRUE));
  }
  if (check.positive_diagonal && m > 0) {
    OwnedVec d;
    PDS_PETSC(MatCreateVecs(A, nullptr, d.address()));
    PDS_PETSC(MatGetDiagonal(A, d));
    PetscInt where = -1;
    PetscReal smallest = 0;
    PDS_PETSC(VecMin(d, &where, &smallest));
    PDS_CHECK(smallest > 0, path << ": expected an SPD matrix (positive diagonal), got a_ii = " << smallest
                                 << " at row " << where + 1 << " (counting from 1)");
  }
}

OwnedViewer binary_viewer(const std::string& path, MPI_Comm comm, PetscFileMode mode) {
  OwnedViewer v;
  PDS_PETSC(PetscViewerCreate(comm, v.address()));
  PDS_PETSC(PetscViewerSetType(v, PETSCVIEWERBINARY));
  PDS_PETSC(PetscViewerBinarySetSkipInfo(v, PETSC_TRUE));
  PDS_PETSC(PetscViewerFileSetMode(v, mode));
  PDS_PETSC(PetscViewerFileSetName(v, path.c_str()));
  return v;
}

}  // namespace

LoadedSystem load_matrix(const std::string& path, MPI_Comm comm, const MatrixCheck& check) {
  LoadedSystem s;
  const FileInfo info = inspect(path, "a matrix", comm);
  bool symmetric_storage = false;
  if (info.matrix_market) {
    s.format = "Matrix Market";
    s.A = load_matrix_market(path, comm, symmetric_storage);
  } else {
    s.format = "PETSc binary";
    PDS_CHECK(info.classid == MAT_FILE_CLASSID,
              path << ": expected a PETSc binary matrix, got " << describe_classid(info.classid));
    PDS_CHECK(info.rows == info.cols, path << ": expected a square matrix, got " << info.rows << " x " << info.cols);
    PDS_CHECK(info.rows > 0, path << ": expected a non-empty matrix, got 0 x 0");
    OwnedViewer v = binary_viewer(path, comm, FILE_MODE_READ);
    PDS_PETSC(MatCreate(comm, s.A.address()));
    PDS_PETSC(MatSetType(s.A, MATAIJ));
    PDS_PETSC(MatLoad(s.A, v));
    if (info.vec_after >= 0) {
      PDS_CHECK(info.vec_after == info.rows, path << ": expected a right-hand side of " << info.rows
                                                  << " values after the matrix, got " << info.vec_after);
      PDS_PETSC(MatCreateVecs(s.A, nullptr, s.b.address()));
      PDS_PETSC(VecLoad(s.b, v));
    }
  }
  check_matrix(path, s.A, check, symmetric_storage);
  return s;
}

void load_vector(const std::string& path, Vec v) {
  MPI_Comm comm = PetscObjectComm((PetscObject)v);
  DM dm = nullptr;
  PetscBool dmda = PETSC_FALSE;
  PDS_PETSC(VecGetDM(v, &dm));
  if (dm) PDS_PETSC(PetscObjectTypeCompare((PetscObject)dm, DMDA, &dmda));
  if (dmda) {
    // Files are in natural order: read into a plain natural-ordered vector, then permute.
    OwnedVec natural;
    PDS_PETSC(DMDACreateNaturalVector(dm, natural.address()));
    load_vector(path, natural);
    PDS_PETSC(DMDANaturalToGlobalBegin(dm, natural, INSERT_VALUES, v));
    PDS_PETSC(DMDANaturalToGlobalEnd(dm, natural, INSERT_VALUES, v));
    return;
  }
  PetscInt n = 0;
  PDS_PETSC(VecGetSize(v, &n));
  const FileInfo info = inspect(path, "a vector", comm);
  if (info.matrix_market) return load_vector_market(path, v);
  PDS_CHECK(info.classid == VEC_FILE_CLASSID,
            path << ": expected a PETSc binary vector, got " << describe_classid(info.classid));
  PDS_CHECK(info.rows == n, path << ": expected a vector of " << n << " values, got " << info.rows);
  OwnedViewer viewer = binary_viewer(path, comm, FILE_MODE_READ);
  PDS_PETSC(VecLoad(v, viewer));
}

void write_petsc_binary(const std::string& path, Vec v) {
  OwnedViewer viewer = binary_viewer(path, PetscObjectComm((PetscObject)v), FILE_MODE_WRITE);
  PDS_PETSC(VecView(v, viewer));
}

void write_petsc_binary(const std::string& path, Mat A, Vec b) {
  OwnedViewer viewer = binary_viewer(path, PetscObjectComm((PetscObject)A), FILE_MODE_WRITE);
  PDS_PETSC(MatView(A, viewer));
  if (b) PDS_PETSC(VecView(b, viewer));
}

void write_matrix_market(const std::string& path, Mat A, bool symmetric) {
  MPI_Comm comm = PetscObjectComm((PetscObject)A);
  PetscInt m = 0, n = 0, lo = 0, hi = 0;
  PDS_PETSC(MatGetSize(A, &m, &n));
  PDS_PETSC(MatGetOwnershipRange(A, &lo, &hi));
  std::ostringstream local;
  local.precision(17);
  long long count = 0;
  for (PetscInt r = lo; r < hi; ++r) {
    PetscInt ncols = 0;
    const PetscInt* cols = nullptr;
    const PetscScalar* vals = nullptr;
    PDS_PETSC(MatGetRow(A, r, &ncols, &cols, &vals));
    for (PetscInt k = 0; k < ncols; ++k) {
      if (symmetric && cols[k] > r) continue;
      local << r + 1 << ' ' << cols[k] + 1 << ' ' << PetscRealPart(vals[k]) << '\n';
      ++count;
    }
    PDS_PETSC(MatRestoreRow(A, r, &ncols, &cols, &vals));
  }
  const std::string text = local.str();
  const int size = comm_size(comm), rank = comm_rank(comm);
  int length = static_cast<int>(text.size());
  std::vector<int> lengths(static_cast<std::size_t>(size)), offsets(static_cast<std::size_t>(size), 0);
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm);
  long long total = 0;
  MPI_Reduce(&count, &total, 1, MPI_LONG_LONG, MPI_SUM, 0, comm);
  std::string all;
  if (rank == 0) {
    for (int p = 1; p < size; ++p) offsets[p] = offsets[p - 1] + lengths[p - 1];
    all.resize(static_cast<std::size_t>(offsets[size - 1] + lengths[size - 1]));
  }
  MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0, comm);
  std::string error;
  if (rank == 0) {
    std::ofstream out(path);
    out << kBanner << " matrix coordinate real " << (symmetric ? "symmetric" : "general") << "\n"
        << m << ' ' << n << ' ' << total << '\n'
        << all;
    if (!out) error = path + ": cannot write the Matrix Market file";
  }
  agree_on_error(comm, error);
}

FileSystem load_system(const std::string& matrix, const std::string& rhs, std::uint64_t seed, MPI_Comm comm) {
  FileSystem s;
  s.loaded = load_matrix(matrix, comm);
  Mat A = s.loaded.A;
  PetscInt n = 0;
  MatInfo info;
  PDS_PETSC(MatGetSize(A, &n, nullptr));
  PDS_PETSC(MatGetInfo(A, MAT_GLOBAL_SUM, &info));
  std::ostringstream os;
  os << "matrix " << matrix << " (" << s.loaded.format << "): " << n << " x " << n << ", "
     << static_cast<long long>(info.nz_used) << " nonzeros, rhs ";
  const bool random = rhs == "random" || (rhs.empty() && !s.loaded.b);
  if (random || !rhs.empty()) {
    s.loaded.b = OwnedVec();
    PDS_PETSC(MatCreateVecs(A, nullptr, s.loaded.b.address()));
    if (random) {
      fill_random(s.loaded.b, seed);
      os << "random (seed " << seed << ")";
    } else {
      load_vector(rhs, s.loaded.b);
      os << rhs;
    }
  } else {
    os << "from the file";
  }
  PDS_PETSC(VecDuplicate(s.loaded.b, s.x.address()));
  PDS_PETSC(VecSet(s.x, 0.0));
  s.description = os.str();
  return s;
}

}  // namespace pdestream::linear_systems
