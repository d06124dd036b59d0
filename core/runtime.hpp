#pragma once
// RAII for MPI and PETSc on one communicator.
//
// The communicator is given, never assumed: apps/ passes MPI_COMM_WORLD, tests or an
// embedding code may pass a sub-communicator. PETSc's "world" becomes that communicator.

#include <mpi.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace pdestream {

class Runtime {
 public:
  // Initialises MPI (MPI_THREAD_MULTIPLE requested: the online trainer receives on a
  // thread) unless it already is, then PETSc on `comm` with the given PETSc arguments.
  // `petsc_args` are PETSc options only ("-ksp_type", "cg", ...), without the program name.
  Runtime(int* argc, char*** argv, MPI_Comm comm, const std::vector<std::string>& petsc_args = {},
          const char* help = nullptr);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  // The MPI thread level actually provided.
  int thread_level() const { return thread_level_; }

  // Print on rank 0 of this runtime's communicator only.
  void print(const std::string& text) const;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  int thread_level_ = 0;
  bool owns_mpi_ = false;
  std::vector<std::string> petsc_storage_;
  std::vector<char*> petsc_argv_;
};

// Rank-0 printing on any communicator (adds a newline).
void print0(MPI_Comm comm, const std::string& text);

int comm_rank(MPI_Comm comm);
int comm_size(MPI_Comm comm);

}  // namespace pdestream

namespace pdestream {

// An error every rank of a communicator agreed on (see agree_on_error): main prints it once
// on rank 0 and every rank exits non-zero without MPI_Abort.
class CollectiveError : public Error {
 public:
  explicit CollectiveError(const std::string& message) : Error(message) {}
};

// Collective: if any rank passes a non-empty message, every rank throws CollectiveError
// with the message of the lowest failing rank.
void agree_on_error(MPI_Comm comm, const std::string& local_error);

// Collective: creates `dir` (and its parents) on rank 0; on return it exists for every rank,
// or every rank throws "cannot create directory '<dir>': <reason>".
void make_dir(const std::string& dir, MPI_Comm comm);

// Collective: runs f(); an exception on any rank becomes a CollectiveError on all ranks.
// Use it around phases that every rank runs to the same point (setup, a frame, a round).
template <class F>
void collective_try(MPI_Comm comm, F&& f) {
  std::string error;
  try {
    f();
  } catch (const CollectiveError&) {
    throw;
  } catch (const Error& e) {
    error = e.message();
  } catch (const std::exception& e) {
    error = e.what();
    if (error.empty()) error = "unknown error";
  }
  agree_on_error(comm, error);
}

}  // namespace pdestream
