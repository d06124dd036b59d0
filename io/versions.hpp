#pragma once
// Versions of the libraries behind io/, for `pdestream info` (keeps HDF5/VTK headers in io/).
#include <string>

namespace pdestream::io {
std::string hdf5_version();  // e.g. "1.10.8 (parallel)"
std::string vtk_version();   // e.g. "9.1.0"
}  // namespace pdestream::io
