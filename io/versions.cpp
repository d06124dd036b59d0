#include "io/versions.hpp"

#include <H5public.h>
#include <vtkVersion.h>

namespace pdestream::io {

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  std::string v = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
#ifdef H5_HAVE_PARALLEL
  v += " (parallel)";
#else
  v += " (serial)";
#endif
  return v;
}

std::string vtk_version() { return vtkVersion::GetVTKVersion(); }

}  // namespace pdestream::io
