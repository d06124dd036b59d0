// pdestream generate: N sampled simulations written into one HDF5 dataset (PDEBench layout).
//
// Sample runs:
//   pdestream generate --config configs/heat2d.toml --samples 4 --out runs/heat2d.h5
//   mpirun -np 2 pdestream generate --config configs/heat2d.toml --samples 8 --out runs/heat2d.h5
//   mpirun -np 4 pdestream generate --config configs/heat2d.toml --set simulation.ranks_per_sim=2 \
//          --samples 16 --out runs/heat2d.h5
//
// The ranks are split into groups of simulation.ranks_per_sim; in round r, group g runs
// sample r * groups + g. Every frame is one collective write in which each rank writes its
// own block. The file is written as FILE.partial and renamed when complete, so a failed
// run never leaves a truncated FILE behind.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "apps/cli.hpp"
#include "core/error.hpp"
#include "io/hdf5_dataset.hpp"
#include "solvers/solver.hpp"
#include "training/dataset_layout.hpp"

namespace pdestream::apps {

namespace {

struct GenerateArgs {
  ConfigOptions config;
  int samples = 0;
  std::string out;
};

std::string grid_text(const Grid& g) {
  std::string s;
  for (int a = 0; a < g.dim; ++a) s += (a ? "x" : "") + std::to_string(g.shape[a]);
  return s;
}

std::string describe(const Parameters& p) {
  std::ostringstream os;
  os.precision(6);
  for (const auto& [k, v] : p) os << (os.tellp() > 0 ? ", " : "") << k << "=" << v;
  return os.str();
}

void run_generate(const GenerateArgs& args, MPI_Comm world) {
  using Clock = std::chrono::steady_clock;
  const int size = comm_size(world), rank = comm_rank(world);
  Config config;
  SamplingOptions sampling;
  OutputOptions out;
  collective_try(world, [&] {
    config = args.config.load();
    if (args.samples > 0) config.apply_override("simulation.samples=" + std::to_string(args.samples));
    sampling = read_sampling_options(config);
    out = read_output_options(config, "generate");
    PDS_CHECK(sampling.samples > 0, "generate needs a sample count: --samples N or [simulation] samples");
    PDS_CHECK(size % sampling.ranks_per_sim == 0,
              "[simulation] ranks_per_sim = " << sampling.ranks_per_sim << " must divide the number of MPI ranks ("
                                              << size << ")");
    PDS_CHECK(sampling.space.size() > 0, config.source() << ": [parameters] is empty; generate needs at least one "
                                                            "sampled parameter (name = [low, high])");
    PDS_CHECK(!args.out.empty(), "generate needs --out FILE.h5");
  });

  // One communicator per simulation group.
  const int group = rank / sampling.ranks_per_sim;
  const int groups = size / sampling.ranks_per_sim;
  MPI_Comm group_comm;
  MPI_Comm_split(world, group, rank, &group_comm);

  std::unique_ptr<solvers::Solver> solver;
  std::vector<Parameters> points;
  collective_try(world, [&] {
    solver = solvers::make_solver("", config, group_comm);
    for (const auto& name : sampling.space.names()) {
      const auto known = solver->parameter_names();
      PDS_CHECK(std::find(known.begin(), known.end(), name) != known.end(),
                config.source() << ": [parameters] " << name << ": solver " << solver->name()
                                << " has no such parameter");
    }
    ParameterSampler sampler(sampling.space, make_sampler(sampling.kind, sampling.space.size(), sampling.seed));
    points = sampler.take(sampling.samples);
  });
  make_dir(out.dir, world);
  if (rank == 0) config.write(out.dir + "/config.toml");

  const std::string partial = args.out + ".partial";
  if (rank == 0) {
    auto parent = std::filesystem::path(args.out).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
  }
  const auto layout = training::dataset_layout(*solver, config, sampling.samples, solver->output_times());
  std::unique_ptr<io::DatasetWriter> writer;
  const auto start = Clock::now();
  const int rounds = (sampling.samples + groups - 1) / groups;
  const int frames = layout.num_times();
  double solve_seconds = 0;  // this rank's time in the solver
  try {
    collective_try(world, [&] { writer = std::make_unique<io::DatasetWriter>(partial, layout, world, out.reserve); });
    for (int r = 0; r < rounds; ++r) {
      const int sample = r * groups + group;
      const bool active = sample < sampling.samples;
      for (int t = 0; t < frames; ++t) {
        Field block;
        collective_try(world, [&] {
          if (!active) return;
          try {
            const auto t0 = Clock::now();
            if (t == 0)
              solver->reset(points[sample]);
            else
              solver->advance();
            block = solver->snapshot();
            solve_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
            PDS_CHECK(block.all_finite(), "non-finite values at output " << t);
          } catch (const std::exception& e) {
            std::string msg = e.what();
            if (const auto* pe = dynamic_cast<const Error*>(&e)) msg = pe->message();
            PDS_FAIL("sample " << sample << " (" << describe(points[sample]) << ") failed: " << msg);
          }
        });
        writer->write_frame(sample, t, active ? &block : nullptr);
      }
      const int done = std::min(sampling.samples, (r + 1) * groups);
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      const double eta = elapsed / done * (sampling.samples - done);
      std::ostringstream os;
      os << "[generate] " << done << "/" << sampling.samples << " samples  " << format_seconds(elapsed)
         << " elapsed  ETA " << format_seconds(eta);
      print0(world, os.str());
    }
    std::vector<std::vector<double>> params;
    for (const auto& p : points) {
      std::vector<double> row;
      const auto full = [&] {
        auto d = solver->default_parameters();
        for (const auto& [k, v] : p) d[k] = v;
        return d;
      }();
      for (const auto& name : layout.param_names) row.push_back(full.at(name));
      params.push_back(row);
    }
    writer->write_params(params);
    writer->close();
  } catch (...) {
    writer.reset();
    std::error_code ignored;  // the error being reported matters more than the cleanup's
    if (rank == 0) std::filesystem::remove(partial, ignored);
    MPI_Comm_free(&group_comm);
    throw;
  }
  solver.reset();
  MPI_Comm_free(&group_comm);
  if (rank == 0) std::filesystem::rename(partial, args.out);
  MPI_Barrier(world);
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  // Solver time per sample (group leaders' sum over samples), next to the wall time that
  // includes the HDF5 writes: the baseline the online job's streaming overhead is measured against.
  double leader_solve = rank % sampling.ranks_per_sim == 0 ? solve_seconds : 0, total_solve = 0;
  MPI_Reduce(&leader_solve, &total_solve, 1, MPI_DOUBLE, MPI_SUM, 0, world);
  std::ostringstream os;
  os.precision(3);
  os << "[generate] wrote " << args.out << ": " << sampling.samples << " samples x " << frames << " frames of "
     << grid_text(layout.grid) << " (" << groups << " group(s) of "
     << sampling.ranks_per_sim << " rank(s), " << format_seconds(elapsed) << ", solver "
     << total_solve / sampling.samples << " s/sample)";
  print0(world, os.str());
}

}  // namespace

SubcommandRegistration add_generate(CLI::App& root) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = root.add_subcommand("generate", "Run N sampled simulations into one HDF5 dataset");
  args->config.add_to(*cmd, true);
  cmd->add_option("--samples,-n", args->samples, "Number of samples (overrides [simulation] samples)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out,-o", args->out, "Output HDF5 file")->required();
  return {cmd, [args](MPI_Comm world) { run_generate(*args, world); }};
}

}  // namespace pdestream::apps
