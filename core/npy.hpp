#pragma once
// NumPy .npy masks (uint8 or bool, C order, nonzero = solid): the obstacle files of
// `pdestream poisson` and the room masks of the acoustic solvers. Any rank may read them;
// nothing here is collective.
//
//   numpy.save("room.npy", solid.astype(numpy.uint8))    # shape (nz, ny, nx) or (ny, nx)
//   auto mask = pdestream::read_npy_mask("room.npy");      // mask.shape == {nz, ny, nx}

#include <ios>
#include <string>
#include <vector>

namespace pdestream {

struct NpyMaskHeader {
  std::vector<int> shape;          // C order: (ny, nx) or (nz, ny, nx)
  std::streamoff data_offset = 0;  // first data byte
  std::size_t num_values() const;
};

struct NpyMask {
  std::vector<int> shape;
  std::vector<unsigned char> values;  // C order, one byte per cell
};

// Throws a one-line Error for a missing file, a file that is not .npy, another dtype,
// Fortran order, a rank other than 2 or 3, or an axis shorter than 2. `missing` replaces
// the message for a missing file (a command says what else it accepts).
NpyMaskHeader read_npy_mask_header(const std::string& path, const std::string& missing = "");
// The whole mask; a file shorter than its header says is a one-line Error.
NpyMask read_npy_mask(const std::string& path, const std::string& missing = "");

}  // namespace pdestream
