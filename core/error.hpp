#pragma once
// The one error type of pdestream and the always-on check macros.
//
// A failed check throws pdestream::Error carrying file:line and a message that says what
// was expected and what was found. `main` catches it, prints one line, exits non-zero.

#include <sstream>
#include <stdexcept>
#include <string>

namespace pdestream {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* file, int line);
  explicit Error(const std::string& message);

  // The message alone, without the source location (for users).
  const std::string& message() const { return message_; }
  // "file:line" of the check that failed, empty if none.
  const std::string& where() const { return where_; }

 private:
  std::string message_;
  std::string where_;
};

namespace detail {
[[noreturn]] void throw_error(const std::string& message, const char* file, int line);
[[noreturn]] void throw_petsc_error(int code, const char* expr, const char* file, int line);
}  // namespace detail

}  // namespace pdestream

// PDS_CHECK(cond, stream-expression): always on, also in Release builds.
//   PDS_CHECK(n > 0, "grid.nx must be positive, got " << n);
#define PDS_CHECK(cond, msg)                                                  \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::ostringstream pds_check_os_;                                       \
      pds_check_os_ << msg;                                                   \
      ::pdestream::detail::throw_error(pds_check_os_.str(), __FILE__, __LINE__); \
    }                                                                         \
  } while (0)

#define PDS_FAIL(msg) PDS_CHECK(false, msg)

// Translate a PETSc error code into pdestream::Error at the boundary between PETSc-style
// code (functions returning PetscErrorCode that use PetscCall) and the rest of C++.
#define PDS_PETSC(...)                                                            \
  do {                                                                            \
    int pds_petsc_ierr_ = (__VA_ARGS__);                                          \
    if (pds_petsc_ierr_)                                                          \
      ::pdestream::detail::throw_petsc_error(pds_petsc_ierr_, #__VA_ARGS__, __FILE__, __LINE__); \
  } while (0)
