// pdestream export: one stored trajectory of an HDF5 dataset to ParaView.
//
// Sample runs:
//   pdestream export --hdf5 runs/heat2d.h5 --sample 0 --paraview runs/heat2d-sample0
//   mpirun -np 2 pdestream export --hdf5 runs/heat2d.h5 --sample 3 --paraview runs/s3
//   pdestream export --hdf5 runs/heat2d.h5 --sample 1 --set output.dir=runs/s1 --set output.every=5
//
// Without --paraview the files go to <output.dir>/paraview; output.every picks every n-th
// frame (the last frame is always written).
// Each rank reads only its own slab of every frame and writes its own piece.

#include <sstream>

#include "apps/cli.hpp"
#include "core/error.hpp"
#include "io/hdf5_dataset.hpp"
#include "io/paraview.hpp"

namespace pdestream::apps {

namespace {

struct ExportArgs {
  ConfigOptions config;
  std::string hdf5;
  int sample = 0;
  std::string paraview;
  std::string name;
};

void run_export(const ExportArgs& args, MPI_Comm world) {
  const int size = comm_size(world), rank = comm_rank(world);
  std::unique_ptr<io::DatasetReader> reader;
  Box box;
  std::string paraview_dir = args.paraview;
  int every = 1;
  collective_try(world, [&] {
    const Config config = args.config.load();
    const OutputOptions out = read_output_options(config, "export");
    if (paraview_dir.empty()) paraview_dir = out.dir + "/paraview";
    every = out.every;
    reader = std::make_unique<io::DatasetReader>(args.hdf5);
    const auto& layout = reader->layout();
    PDS_CHECK(args.sample >= 0 && args.sample < layout.num_samples,
              args.hdf5 << ": --sample " << args.sample << " is out of range; the file has "
                        << layout.num_samples << " samples (0.." << layout.num_samples - 1 << ")");
    const int nx = layout.grid.shape[0];
    PDS_CHECK(nx >= size, "cannot split " << nx << " x-points over " << size << " ranks");
    // Slabs along x: contiguous in our row-major layout, so each read is one hyperslab.
    box = Box::whole(layout.grid);
    box.lo[0] = static_cast<int>(static_cast<long long>(nx) * rank / size);
    box.hi[0] = static_cast<int>(static_cast<long long>(nx) * (rank + 1) / size);
  });
  const auto& layout = reader->layout();
  std::string name = args.name;
  if (name.empty()) name = "sample" + std::to_string(args.sample);
  std::unique_ptr<io::ParaViewWriter> writer;
  collective_try(world, [&] { writer = std::make_unique<io::ParaViewWriter>(paraview_dir, name, layout.grid, world); });
  int written = 0;
  for (int t = 0; t < layout.num_times(); ++t) {
    if (t % every != 0 && t != layout.num_times() - 1) continue;
    ++written;
    Field block;
    collective_try(world, [&] { block = reader->read_block(args.sample, t, box); });
    writer->write(block, layout.times[t]);
  }
  std::ostringstream os;
  os << "[export] sample " << args.sample << " of " << args.hdf5 << ": " << written << " frames -> "
     << writer->pvd_path();
  print0(world, os.str());
}

}  // namespace

SubcommandRegistration add_export(CLI::App& root) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = root.add_subcommand("export", "Write one stored trajectory of an HDF5 dataset to ParaView");
  cmd->add_option("--hdf5", args->hdf5, "HDF5 dataset (pdestream or PDEBench layout)")->required();
  cmd->add_option("--sample,-s", args->sample, "Sample index")->check(CLI::NonNegativeNumber);
  cmd->add_option("--paraview", args->paraview,
                  "Output directory for the .pvd collection (default: <output.dir>/paraview)");
  args->config.add_to(*cmd, false);
  cmd->add_option("--name", args->name, "Base name of the files (default: sample<I>)");
  return {cmd, [args](MPI_Comm world) { run_export(*args, world); }};
}

}  // namespace pdestream::apps
