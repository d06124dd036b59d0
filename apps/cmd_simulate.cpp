// pdestream simulate: one simulation with the solver's configured parameters, on all ranks.
//
// Sample runs:
//   pdestream simulate heat2d --config configs/heat2d.toml
//   pdestream simulate heat2d --config configs/heat2d.toml --set solver.t_left=1 --paraview runs/pv
//   mpirun -np 2 pdestream simulate heat2d --config configs/heat2d.toml --hdf5 runs/one.h5 \
//          -ksp_type cg -pc_type gamg
//   mpirun -np 2 pdestream simulate acoustic3d --config configs/acoustic_cube.toml --set solver.x0=0.6
//
// Writes <output.dir>/config.toml (merged) and <output.dir>/metrics.jsonl (one line per
// output: time, min/max/mean, KSP iterations, wall time); solvers with receivers add
// <output.dir>/receivers.csv (t, then one column per receiver, a row per time step).

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "apps/cli.hpp"
#include "core/error.hpp"
#include "io/csv.hpp"
#include "io/hdf5_dataset.hpp"
#include "io/paraview.hpp"
#include "solvers/heat2d.hpp"
#include "solvers/solver.hpp"
#include "training/dataset_layout.hpp"

namespace pdestream::apps {

namespace {

struct FieldStats {
  double min = 0, max = 0, mean = 0;
};

FieldStats global_stats(const Field& f, std::size_t global_points, MPI_Comm comm) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  for (double v : f.data()) lo = std::min(lo, v), hi = std::max(hi, v), sum += v;
  FieldStats s;
  MPI_Allreduce(&lo, &s.min, 1, MPI_DOUBLE, MPI_MIN, comm);
  MPI_Allreduce(&hi, &s.max, 1, MPI_DOUBLE, MPI_MAX, comm);
  MPI_Allreduce(&sum, &s.mean, 1, MPI_DOUBLE, MPI_SUM, comm);
  s.mean /= static_cast<double>(global_points * f.num_channels());
  return s;
}

struct SimulateArgs {
  std::string solver;
  ConfigOptions config;
  std::string paraview;
  std::string hdf5;
};

void run_simulate(const SimulateArgs& args, MPI_Comm world) {
  using Clock = std::chrono::steady_clock;
  Config config;
  std::unique_ptr<solvers::Solver> solver;
  OutputOptions out;
  collective_try(world, [&] {
    config = args.config.load();
    read_sampling_options(config);  // validates the shared sections even though unused here
    solver = solvers::make_solver(args.solver, config, world);
    out = read_output_options(config, "simulate-" + solver->name());
  });
  make_dir(out.dir, world);
  if (comm_rank(world) == 0) config.write(out.dir + "/config.toml");

  std::string paraview_dir = args.paraview;
  if (paraview_dir.empty() && out.paraview) paraview_dir = out.dir + "/paraview";
  std::unique_ptr<io::ParaViewWriter> paraview;
  std::unique_ptr<io::DatasetWriter> hdf5;
  collective_try(world, [&] {
    if (!paraview_dir.empty())
      paraview = std::make_unique<io::ParaViewWriter>(paraview_dir, solver->name(), solver->grid(), world);
    if (!args.hdf5.empty()) {
      hdf5 = std::make_unique<io::DatasetWriter>(
          args.hdf5, training::dataset_layout(*solver, config, 1, solver->output_times()), world);
    }
  });

  std::ofstream metrics;
  if (comm_rank(world) == 0) metrics.open(out.dir + "/metrics.jsonl");
  auto* heat = dynamic_cast<solvers::Heat2d*>(solver.get());
  const auto start = Clock::now();
  const int n = solver->num_outputs();
  for (int k = 0; k <= n; ++k) {
    Field block;
    collective_try(world, [&] {
      if (k > 0) solver->advance();
      block = solver->snapshot();
    });
    const auto stats = global_stats(block, solver->grid().num_points(), world);
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    if (paraview && (k % out.every == 0 || k == n)) paraview->write(block, solver->time());
    if (hdf5) hdf5->write_frame(0, k, &block);
    if (comm_rank(world) == 0) {
      nlohmann::json line = {{"event", "output"}, {"output", k},         {"time", solver->time()},
                             {"min", stats.min},  {"max", stats.max},     {"mean", stats.mean},
                             {"wall_s", wall}};
      if (heat) line["ksp_iterations"] = heat->ksp_iterations();
      metrics << line.dump() << "\n" << std::flush;
      std::ostringstream os;
      os.precision(4);
      os << "[simulate] output " << k << "/" << n << "  t=" << solver->time() << "  " << solver->channels()[0] << " in [" << stats.min
         << ", " << stats.max << "]  mean " << stats.mean;
      if (heat) os << "  KSP its " << heat->ksp_iterations();
      print0(world, os.str());
    }
  }
  if (hdf5) {
    std::vector<double> p;
    auto params = solver->default_parameters();
    for (const auto& name : solver->parameter_names()) p.push_back(params.at(name));
    hdf5->write_params({p});
    hdf5->close();
  }
  const auto receivers = solver->receiver_names();
  collective_try(world, [&] {
    if (receivers.empty() || comm_rank(world) != 0) return;
    std::vector<std::string> header = {"t"};
    header.insert(header.end(), receivers.begin(), receivers.end());
    io::write_csv(out.dir + "/receivers.csv", header, solver->receiver_rows());
  });
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  std::ostringstream os;
  os << "[simulate] " << solver->name() << " on " << comm_size(world) << " rank(s): " << n
     << " outputs in " << format_seconds(wall) << "; run dir " << out.dir;
  if (paraview) os << "; ParaView " << paraview->pvd_path();
  if (!args.hdf5.empty()) os << "; HDF5 " << args.hdf5;
  if (!receivers.empty()) os << "; receivers " << out.dir << "/receivers.csv";
  print0(world, os.str());
}

}  // namespace

SubcommandRegistration add_simulate(CLI::App& root) {
  auto args = std::make_shared<SimulateArgs>();
  auto* cmd = root.add_subcommand("simulate", "Run one simulation with the configured parameters");
  cmd->add_option("solver", args->solver, "Solver name (default: [solver] name of the config)");
  args->config.add_to(*cmd, false);
  cmd->add_option("--paraview", args->paraview, "Write a ParaView .pvd collection into this directory");
  cmd->add_option("--hdf5", args->hdf5, "Write the trajectory as a one-sample HDF5 dataset");
  return {cmd, [args](MPI_Comm world) { run_simulate(*args, world); }};
}

}  // namespace pdestream::apps
