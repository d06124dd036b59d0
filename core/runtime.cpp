#include "core/runtime.hpp"

#include <petscsys.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "core/error.hpp"

namespace pdestream {

int comm_rank(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

int comm_size(MPI_Comm comm) {
  int s = 1;
  MPI_Comm_size(comm, &s);
  return s;
}

void print0(MPI_Comm comm, const std::string& text) {
  if (comm_rank(comm) == 0) {
    std::fputs(text.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
}

Runtime::Runtime(int* argc, char*** argv, MPI_Comm comm, const std::vector<std::string>& petsc_args,
                 const char* help)
    : comm_(comm) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &thread_level_);
    owns_mpi_ = true;
  } else {
    MPI_Query_thread(&thread_level_);
  }
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);

  // PETSc sees only its own options: our CLI has already taken the rest.
  petsc_storage_.push_back(argv && *argv && (*argv)[0] ? (*argv)[0] : "pdestream");
  for (const auto& a : petsc_args) petsc_storage_.push_back(a);
  for (auto& s : petsc_storage_) petsc_argv_.push_back(s.data());
  petsc_argv_.push_back(nullptr);
  int pargc = static_cast<int>(petsc_storage_.size());
  char** pargv = petsc_argv_.data();

  PETSC_COMM_WORLD = comm_;
  PetscErrorCode ierr = PetscInitialize(&pargc, &pargv, nullptr, help);
  if (ierr) throw Error("PetscInitialize failed with code " + std::to_string(ierr));
  // Errors become exceptions with one clear line: no PETSc traceback on stderr.
  PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
}

Runtime::~Runtime() {
  PetscPopErrorHandler();
  PetscFinalize();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_mpi_ && !finalized) MPI_Finalize();
}

void Runtime::print(const std::string& text) const { print0(comm_, text); }

}  // namespace pdestream

namespace pdestream {

void agree_on_error(MPI_Comm comm, const std::string& local_error) {
  int rank = comm_rank(comm);
  int mine = local_error.empty() ? comm_size(comm) : rank;
  int first = 0;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == comm_size(comm)) return;
  int n = rank == first ? static_cast<int>(local_error.size()) : 0;
  MPI_Bcast(&n, 1, MPI_INT, first, comm);
  std::string message = rank == first ? local_error : std::string(n, ' ');
  MPI_Bcast(message.data(), n, MPI_CHAR, first, comm);
  throw CollectiveError(message);
}

void make_dir(const std::string& dir, MPI_Comm comm) {
  std::string error;
  if (comm_rank(comm) == 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) error = "cannot create directory '" + dir + "': " + ec.message();
  }
  agree_on_error(comm, error);
}

}  // namespace pdestream
