// bench_acoustic: the FDTD room solver's speed, in grid-point updates per second and seconds
// per source position (one full simulation: reset + every output interval + snapshots).
//
// Sample runs (bench/acoustic.sh runs these and prints the table):
//   bench_acoustic --config configs/acoustic_cube.toml --header
//   mpiexec -n 2 bench_acoustic --config configs/acoustic_cube.toml --ppw 6
//   bench_acoustic --config configs/acoustic_cube.toml --f-max 500 --ppw 6 --duration 0.02 --samples 20
//
// Prints one Markdown row: room | ranks | f_max | ppw | points | steps | M point-updates/s |
// s/source | CPU s/source (rank 0's process CPU time). Sources are drawn in the config's
// [parameters] box with a fixed seed; the first run (warm-up) is not timed.

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "core/config.hpp"
#include "core/parameter_space.hpp"
#include "core/runtime.hpp"
#include "solvers/acoustic.hpp"

using namespace pdestream;

int main(int argc, char** argv) {
  std::string config_path = "configs/acoustic_cube.toml";
  double ppw = 0, duration = 0, f_max = 0;
  int samples = 2;
  bool header = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: bench_acoustic [--config FILE] [--ppw P] [--f-max HZ] [--duration S] [--samples N] [--header]\n");
      return 0;
    } else if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--ppw" && i + 1 < argc) {
      ppw = std::stod(argv[++i]);
    } else if (a == "--f-max" && i + 1 < argc) {
      f_max = std::stod(argv[++i]);
    } else if (a == "--duration" && i + 1 < argc) {
      duration = std::stod(argv[++i]);
    } else if (a == "--samples" && i + 1 < argc) {
      samples = std::stoi(argv[++i]);
    } else if (a == "--header") {
      header = true;
    } else {
      std::fprintf(stderr, "bench_acoustic: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  Runtime runtime(&argc, &argv, MPI_COMM_WORLD);
  const MPI_Comm comm = runtime.comm();
  const Config config = Config::load(config_path);
  SectionReader section(config, "solver");
  section.accept("name");
  auto o = solvers::AcousticOptions::from_section(3, section);
  if (ppw > 0) o.ppw = ppw;
  if (duration > 0) o.duration = duration;
  if (f_max > 0) o.f_max = f_max;
  solvers::Acoustic s(o, comm);
  SectionReader ranges(config, "parameters");
  ParameterSampler sampler(ParameterSpace::from_section(ranges), make_sampler("uniform", 3, 17));
  if (header) {
    runtime.print("| room | ranks | f_max (Hz) | ppw | points | steps | M point-updates/s | s/source | CPU s/source |");
    runtime.print("|:---|---:|---:|---:|---:|---:|---:|---:|---:|");
  }
  using Clock = std::chrono::steady_clock;
  double seconds = 0, cpu = 0;
  for (int k = 0; k <= samples; ++k) {
    const Parameters source = sampler.next();
    MPI_Barrier(comm);
    const auto start = Clock::now();
    const std::clock_t cpu_start = std::clock();
    s.reset(source);
    while (s.output_index() < s.num_outputs()) {
      s.advance();
      Field f = s.snapshot();
    }
    MPI_Barrier(comm);
    if (k == 0) continue;  // warm-up
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    cpu += static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  }
  const long long steps = static_cast<long long>(s.num_outputs()) * s.steps_per_output();
  const double points = static_cast<double>(s.grid().num_points());
  char row[256];
  std::snprintf(row, sizeof row, "| %s | %d | %g | %g | %dx%dx%d | %lld | %.1f | %.3f | %.3f |", o.room.c_str(),
                runtime.size(), o.f_max, o.ppw, s.grid().shape[0], s.grid().shape[1], s.grid().shape[2], steps,
                points * steps * samples / seconds / 1e6, seconds / samples, cpu / samples);
  runtime.print(row);
  return 0;
}
