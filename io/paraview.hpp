#pragma once
// ParaView output: a .pvd collection over time of .vti (one rank) or .pvti + per-rank .vti
// pieces (several ranks, each rank writing its own piece). Point data arrays are named by
// the Field's channel names (u, u_pred, u_error, ...); origin and spacing are physical.
//
// Files for writer "dir", name "heat":
//   dir/heat.pvd                        collection, rewritten after every frame, so a killed
//                                       run still leaves a valid collection
//   dir/heat_000003.vti                 frame 3 on one rank
//   dir/heat_000003.pvti                frame 3 on several ranks, referencing
//   dir/heat_000003/heat_000003_p1.vti  the piece of rank 1
// Pieces overlap by one point layer on their upper faces so ParaView draws no gaps; the
// writer fetches that layer from the neighbouring ranks itself.

#include <mpi.h>

#include <memory>
#include <string>

#include "core/grid.hpp"

namespace pdestream::io {

class ParaViewWriter {
 public:
  // Collective over `comm`. Creates `dir` if needed.
  ParaViewWriter(std::string dir, std::string name, const Grid& grid, MPI_Comm comm);
  ~ParaViewWriter();
  ParaViewWriter(const ParaViewWriter&) = delete;
  ParaViewWriter& operator=(const ParaViewWriter&) = delete;

  // Collective: every rank passes its own block (boxes must tile the grid, and all ranks
  // must pass the same channel names). Appends one time step to the collection.
  void write(const Field& local, double time);

  const std::string& pvd_path() const;
  int frames() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pdestream::io
