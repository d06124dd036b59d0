#pragma once
// HDF5 datasets in PDEBench's layout, written collectively and read lazily.
//
//   tensor         float32 [N, Nt, Nx(, Ny(, Nz))] or [N, Nt, Nx, ..., C] when C > 1
//   x-coordinate   float32 [Nx]   (y-coordinate, z-coordinate likewise)
//   t-coordinate   float32 [Nt]
//   params         float64 [N, P], attribute param_names (P strings)
//   attributes on the root: channels, solver, pdestream_version, config (merged TOML)
//
// Writers open the file with the MPI-IO driver on their communicator; every rank writes its
// own hyperslab with collective transfers. Readers never load more than what is asked.
// HDF5 headers stay inside hdf5_dataset.cpp.

#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "core/grid.hpp"

namespace pdestream::io {

struct DatasetLayout {
  Grid grid;                             // spatial grid (dim 1..3)
  std::vector<std::string> channels;     // C channel names; C == 1 drops the channel axis
  int num_samples = 0;                   // N
  std::vector<double> times;             // Nt output times
  std::vector<std::string> param_names;  // P parameter names (may be empty)
  std::string solver;                    // provenance (root attribute)
  std::string config_toml;               // merged config (root attribute)

  int num_times() const { return static_cast<int>(times.size()); }
  // Shape of `tensor`, e.g. {N, Nt, Nx, Ny} or {N, Nt, Nx, Ny, C}.
  std::vector<unsigned long long> tensor_shape() const;
  // Bytes of `tensor` (float32) and `params` (float64) on disk.
  unsigned long long tensor_bytes() const;
  // An upper bound of the whole file's size: tensor_bytes() plus HDF5's metadata (chunk
  // index, coordinates, attributes). The writer reserves this much before the first write.
  unsigned long long file_bytes() const;
};

class DatasetWriter {
 public:
  // Collective over `comm`: creates (truncates) `path` and all datasets. With `reserve`,
  // the file's disk blocks (layout.file_bytes()) are allocated first (posix_fallocate), so a
  // disk that fills up later cannot fail a write; without it, the free space is only
  // checked. Either way a file that cannot fit is one error line before anything is written.
  DatasetWriter(const std::string& path, const DatasetLayout& layout, MPI_Comm comm,
                bool reserve = true);
  ~DatasetWriter();  // closes (collective)
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  // Collective over `comm`: every rank calls it, with its own block for (sample, t) or
  // nullptr when it has nothing to write in this round. Blocks of one frame may come from
  // different ranks; different ranks may write different samples in the same call.
  void write_frame(int sample, int time_index, const Field* block);

  // Collective: rank 0's values are written (rows = samples, columns = param_names).
  void write_params(const std::vector<std::vector<double>>& params);

  // Collective: closes the file; later calls are errors.
  void close();

  const DatasetLayout& layout() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

class DatasetReader {
 public:
  // Opens read-only. Not HDF5, missing `tensor`, or a tensor whose rank does not match the
  // coordinates is a pdestream::Error naming the file and what was expected.
  explicit DatasetReader(const std::string& path);
  ~DatasetReader();
  DatasetReader(const DatasetReader&) = delete;
  DatasetReader& operator=(const DatasetReader&) = delete;

  const DatasetLayout& layout() const;
  const std::string& path() const;

  // One frame as float32, row-major [Nx, (Ny, (Nz,)) C].
  std::vector<float> read_frame(int sample, int time_index) const;
  // One trajectory as float32, row-major [Nt, Nx, (Ny, (Nz,)) C].
  std::vector<float> read_sample(int sample) const;
  // A sub-block of one frame as a Field (double), e.g. for a rank's own box.
  Field read_block(int sample, int time_index, const Box& box) const;
  // Parameters of one sample (empty when the file has none).
  std::vector<double> params(int sample) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pdestream::io
