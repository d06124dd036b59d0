// pdestream poisson: linear solves from the command line. With --sequence, a sequence of
// related systems solved one after the other, SOR's omega chosen per system by a policy
// (see linear_systems/sequences.hpp for the sequences and the folder format).
//
// Sample runs:
//   pdestream poisson --sequence heat2d --steps 200 --omega bandit:tsallis
//   pdestream poisson --sequence heat2d --steps 200 --omega grid --csv grid.csv
//   pdestream poisson --sequence shifted-laplacian --steps 300 --omega bandit:chebcb --seed 3
//   mpirun -np 2 pdestream poisson --sequence systems/ --omega fixed:1.5 -ksp_monitor
//
// Prints the total iterations and time, omega over time, and with --omega grid the best
// fixed omega in hindsight and the instance-optimal total. Writes a CSV of every system
// (step, context, omega, iterations, converged, seconds) into the run directory.
// The single-system modes (--grid with --matrix/--obstacle/--rhs, DCDM) join this command
// with issue 5; --grid already names the points per axis of the generated sequences.

#include <cmath>
#include <filesystem>
#include <sstream>

#include "apps/cli.hpp"
#include "core/error.hpp"
#include "linear_systems/sequences.hpp"
#include "solvers/heat2d.hpp"

namespace pdestream::apps {

namespace {

struct PoissonArgs {
  ConfigOptions config;
  std::string sequence;
  std::string grid = "26";
  int steps = -1;  // -1: 100 for generated sequences, every system of a folder
  std::string omega = "bandit:tsallis";
  std::uint64_t seed = 0;
  int arms = 20;
  std::vector<double> omega_range = {1.0, 1.95};
  double rtol = 1e-8;
  std::string csv;
};

int parse_grid(const std::string& text) {
  const auto x = text.find('x');
  const std::string a = text.substr(0, x), b = x == std::string::npos ? a : text.substr(x + 1);
  int n = 0, m = 0;
  try {
    std::size_t pa = 0, pb = 0;
    n = std::stoi(a, &pa);
    m = std::stoi(b, &pb);
    PDS_CHECK(pa == a.size() && pb == b.size(), "");
  } catch (const std::exception&) {
    PDS_FAIL("--grid: expected N or NxN grid points per axis, got '" << text << "'");
  }
  PDS_CHECK(n == m, "--grid: expected a square grid NxN for a sequence, got " << text);
  PDS_CHECK(n >= 3, "--grid: expected at least 3 points per axis, got " << n);
  return n;
}

std::string sequence_name(const std::string& s) {
  if (s == "heat2d" || s == "shifted-laplacian") return s;
  auto name = std::filesystem::path(s).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(s).lexically_normal().parent_path().filename().string();
  return name.empty() ? "dir" : name;
}

void run_poisson(const PoissonArgs& args, MPI_Comm world) {
  linear_systems::SequenceOptions o;
  linear_systems::OmegaPolicy policy;
  OutputOptions out;
  collective_try(world, [&] {
    PDS_CHECK(!args.sequence.empty(),
              "expected --sequence heat2d|shifted-laplacian|DIR (single-system modes come with issue 5)");
    policy = linear_systems::OmegaPolicy::parse(args.omega);
    PDS_CHECK(args.omega_range.size() == 2, "--omega-range: expected lo,hi, got " << args.omega_range.size()
                                                                                 << " numbers");
    o.sequence = args.sequence;
    o.grid = parse_grid(args.grid);
    o.steps = args.steps >= 0 ? args.steps : (o.sequence == "heat2d" || o.sequence == "shifted-laplacian" ? 100 : 0);
    PDS_CHECK(args.steps != 0, "--steps: expected a number of systems >= 1, got 0");
    o.seed = args.seed;
    o.rtol = args.rtol;
    o.tuner.arms = args.arms;
    o.tuner.omega_lo = args.omega_range[0];
    o.tuner.omega_hi = args.omega_range[1];
    o.tuner.validate();
    Config config = args.config.load();
    if (o.sequence == "heat2d") {
      // The paper's experiment unless the config or --set says otherwise.
      config.set_default("solver.diffusivity", "\"paper\"");
      config.set_default("solver.source", "\"moving\"");
      config.set_default("solver.scheme", "\"cn\"");
      config.set_default("solver.dt", "1e-3");
      SectionReader s(config, "solver");
      s.accept("name");
      o.heat = solvers::Heat2dOptions::from_section(s);
      s.finish();
    }
    out = read_output_options(config, "poisson-" + sequence_name(o.sequence));
  });
  make_dir(out.dir, world);
  const std::string csv = args.csv.empty() ? out.dir + "/instances.csv" : args.csv;

  linear_systems::SequenceReport report;
  collective_try(world, [&] { report = linear_systems::run_sequence(o, policy, world); });

  std::ostringstream os;
  os << "[poisson] " << sequence_name(o.sequence) << " sequence: " << report.unknowns << " unknowns, "
     << report.records.size() << " systems, CG" << (policy.kind == "none" ? "" : " + SSOR") << ", omega "
     << policy.describe();
  if (policy.kind == "bandit" || policy.kind == "grid")
    os << " (" << o.tuner.arms << " arms in [" << o.tuner.omega_lo << ", " << o.tuner.omega_hi << "])";
  os << ", rtol " << o.rtol << ", " << comm_size(world) << " rank(s)\n";
  os.setf(std::ios::fixed);
  os.precision(1);
  os << "[poisson] total iterations " << report.total_iterations << " ("
     << static_cast<double>(report.total_iterations) / std::max<std::size_t>(1, report.records.size())
     << " per system) in " << format_seconds(report.wall_seconds) << " (solves "
     << format_seconds(report.solve_seconds) << "); " << report.failed << " did not converge\n";
  if (policy.kind != "none")
    os << "[poisson] omega over time (mean per tenth of the sequence): " << linear_systems::omega_over_time(report)
       << "\n";
  if (policy.kind == "grid") {
    os.precision(3);
    os << "[poisson] best fixed omega in hindsight: " << report.arms[report.best_arm] << " ("
       << report.arm_totals[report.best_arm] << " iterations); omega = " << report.arms.front() << ": "
       << report.arm_totals.front() << "; instance-optimal total: " << report.instance_optimal << "\n";
    os << "[poisson] total per omega:";
    for (std::size_t a = 0; a < report.arms.size(); ++a)
      os << " " << report.arms[a] << ":" << report.arm_totals[a];
    os << "\n";
  }
  std::string error;
  if (comm_rank(world) == 0) {
    try {
      linear_systems::write_csv(report, csv);
    } catch (const Error& e) {
      error = e.message();
    }
  }
  agree_on_error(world, error);
  os << "[poisson] wrote " << csv;
  print0(world, os.str());
}

}  // namespace

SubcommandRegistration add_poisson(CLI::App& root) {
  auto args = std::make_shared<PoissonArgs>();
  auto* cmd = root.add_subcommand("poisson", "Linear solves; --sequence: SOR omega tuned across a sequence of systems");
  args->config.add_to(*cmd, false);
  cmd->add_option("--sequence", args->sequence,
                  "heat2d | shifted-laplacian | DIR (A_0000.bin, b_0000.bin, ... and optional context.txt)");
  cmd->add_option("--grid", args->grid, "Grid points per axis (N or NxN) of a generated sequence")
      ->capture_default_str();
  cmd->add_option("--steps", args->steps, "Number of systems (default 100; a folder: all)");
  cmd->add_option("--omega", args->omega, "bandit:tsallis|exp3|ucb1|chebcb|binned, fixed:W, grid or none")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the learner and of generated data")->capture_default_str();
  cmd->add_option("--arms", args->arms, "Number of omega values of the bandits and of grid")->capture_default_str();
  cmd->add_option("--omega-range", args->omega_range, "lo,hi of the omega grid")->delimiter(',')->expected(2);
  cmd->add_option("--rtol", args->rtol, "Relative tolerance of every solve")->capture_default_str();
  cmd->add_option("--csv", args->csv, "CSV of every system (default <output.dir>/instances.csv)");
  return {cmd, [args](MPI_Comm world) { run_poisson(*args, world); }};
}

}  // namespace pdestream::apps
