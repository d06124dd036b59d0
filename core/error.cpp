#include "core/error.hpp"

#include <petscsys.h>

#include <cstring>

namespace pdestream {

namespace {
std::string basename_of(const char* file) {
  const char* slash = std::strrchr(file, '/');
  return slash ? slash + 1 : file;
}
}  // namespace

Error::Error(const std::string& message, const char* file, int line)
    : std::runtime_error(message + " [" + basename_of(file) + ":" + std::to_string(line) + "]"),
      message_(message),
      where_(basename_of(file) + ":" + std::to_string(line)) {}

Error::Error(const std::string& message) : std::runtime_error(message), message_(message) {}

namespace detail {

void throw_error(const std::string& message, const char* file, int line) {
  throw Error(message, file, line);
}

void throw_petsc_error(int code, const char* expr, const char* file, int line) {
  const char* text = nullptr;
  char* specific = nullptr;
  PetscErrorMessage(static_cast<PetscErrorCode>(code), &text, &specific);
  std::ostringstream os;
  os << "PETSc error " << code;
  if (text) os << " (" << text << ")";
  if (specific && *specific) os << ": " << specific;
  os << " in " << expr;
  throw Error(os.str(), file, line);
}

}  // namespace detail
}  // namespace pdestream
