// pdestream poisson: linear solves from the command line.
//
// One system (issue 5): a Poisson problem on a grid (--grid NX NY [NZ] cells, 2D 5-point or
// 3D 7-point, cell-centred; see linear_systems/poisson.hpp) or any SPD matrix from a file
// (--matrix, PETSc binary or Matrix Market; see linear_systems/matrix_io.hpp), solved with
// a PETSc KSP: CG to rtol 1e-6 on the unpreconditioned residual norm (for the CG family and
// dcdm; other -ksp_type keep their default norm) unless PETSc options say otherwise
// (-ksp_type, -pc_type, -ksp_rtol, -ksp_norm_type, ... pass through). Prints the iterations,
// the converged reason, the true relative residual ||b - Ax|| / ||b|| (recomputed), and the
// setup (KSPSetUp) and solve (KSPSolve) times; with --out DIR writes
// DIR/solution.bin (PETSc binary, natural ordering) and, for grids, DIR/poisson.pvd (u, b,
// mask, and u_exact, u_error for a manufactured solution) and with --save-system the system
// itself (DIR/system.bin). A solve that does not converge prints its numbers, then fails.
//
// A sequence (issue 6, --sequence): related systems solved one after the other, SOR's omega
// chosen per system by a policy (see linear_systems/sequences.hpp for the sequences and the
// folder format). Prints the total iterations and time, omega over time, and with --omega
// grid the best fixed omega in hindsight and the instance-optimal total. Writes a CSV of
// every system (step, context, omega, iterations, converged, seconds) into the run directory.
//
// Sample runs:
//   pdestream poisson --grid 64 64 64 -pc_type gamg
//   pdestream poisson --grid 128 128 --bc neumann --obstacle sphere --rhs smooth --out runs/pois2d --save-system
//   pdestream poisson --matrix runs/pois2d/system.bin -pc_type icc
//   mpirun -np 2 pdestream poisson --grid 32 32 32 --obstacle random-boxes:12 --seed 4 -pc_type hypre
//   pdestream poisson --matrix system.mtx --rhs b.mtx -ksp_type cg -pc_type icc -ksp_monitor
//   pdestream poisson --sequence heat2d --steps 200 --omega bandit:tsallis
//   pdestream poisson --sequence heat2d --steps 200 --omega grid --csv grid.csv
//   pdestream poisson --sequence shifted-laplacian --grid 51 --steps 300 --omega bandit:chebcb --seed 3
//   mpirun -np 2 pdestream poisson --sequence systems/ --omega fixed:1.5 -ksp_monitor

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>

#include "apps/cli.hpp"
#include "core/error.hpp"
#include "linear_systems/poisson.hpp"
#include "linear_systems/sequences.hpp"
#include "linear_systems/single_solve.hpp"
#include "solvers/heat2d.hpp"

namespace pdestream::apps {

namespace {

struct PoissonArgs {
  ConfigOptions config;
  // one system
  std::vector<int> grid;  // empty: 32 32 32 (or the mask file's shape); a sequence: 26
  std::string matrix;
  std::string obstacle = "none";
  std::string bc = "dirichlet";
  std::string rhs;  // empty: random, or the matrix file's own right-hand side
  std::string out;
  bool save_system = false;
  double rtol = -1;  // -1: 1e-6 for one system, 1e-8 for a sequence
  std::uint64_t seed = 0;
  // a sequence
  std::string sequence;
  int steps = -1;  // -1: 100 for generated sequences, every system of a folder
  std::string omega = "bandit:tsallis";
  int arms = 20;
  std::vector<double> omega_range = {1.0, 1.95};
  std::string csv;
  // which options the user gave (CLI11 knows)
  std::function<bool(const char*)> given;
};

std::string sequence_name(const std::string& s) {
  if (s == "heat2d" || s == "shifted-laplacian") return s;
  auto name = std::filesystem::path(s).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(s).lexically_normal().parent_path().filename().string();
  return name.empty() ? "dir" : name;
}

std::string grid_text(const std::vector<int>& g) {
  std::ostringstream os;
  for (std::size_t a = 0; a < g.size(); ++a) os << (a ? " " : "") << g[a];
  return os.str();
}

// --grid for a sequence: N (or N N) points per axis of a square grid.
int sequence_grid(const std::vector<int>& g) {
  if (g.empty()) return 26;
  PDS_CHECK(g.size() == 1 || (g.size() == 2 && g[0] == g[1]),
            "--grid: expected N (points per axis of a square grid) for a sequence, got " << grid_text(g));
  PDS_CHECK(g[0] >= 3, "--grid: expected at least 3 points per axis, got " << g[0]);
  return g[0];
}

void run_sequence(const PoissonArgs& args, MPI_Comm world) {
  linear_systems::SequenceOptions o;
  linear_systems::OmegaPolicy policy;
  OutputOptions out;
  collective_try(world, [&] {
    for (const char* single : {"--matrix", "--obstacle", "--bc", "--rhs", "--out", "--save-system"})
      PDS_CHECK(!args.given(single), single << " applies to single systems (--grid, --matrix), not to --sequence");
    policy = linear_systems::OmegaPolicy::parse(args.omega);
    PDS_CHECK(args.omega_range.size() == 2, "--omega-range: expected lo,hi, got " << args.omega_range.size()
                                                                                 << " numbers");
    o.sequence = args.sequence;
    o.grid = sequence_grid(args.grid);
    o.steps = args.steps >= 0 ? args.steps : (o.sequence == "heat2d" || o.sequence == "shifted-laplacian" ? 100 : 0);
    PDS_CHECK(args.steps != 0, "--steps: expected a number of systems >= 1, got 0");
    o.seed = args.seed;
    o.rtol = args.rtol > 0 ? args.rtol : 1e-8;
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
  os << linear_systems::summary(report, o, sequence_name(o.sequence), comm_size(world));
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

void run_single(const PoissonArgs& args, MPI_Comm world) {
  linear_systems::SingleSolveOptions o;
  collective_try(world, [&] {
    for (const char* seq : {"--steps", "--omega", "--arms", "--omega-range", "--csv"})
      PDS_CHECK(!args.given(seq), seq << " applies to --sequence runs only");
    o.seed = args.seed;
    o.rtol = args.rtol > 0 ? args.rtol : 1e-6;
    o.out = args.out;
    o.save_system = args.save_system;
    if (!args.matrix.empty()) {
      PDS_CHECK(args.grid.empty(), "--grid and --matrix: expected one of them, got both");
      for (const char* grid_only : {"--obstacle", "--bc", "--save-system"})
        PDS_CHECK(!args.given(grid_only), grid_only << " applies to --grid problems, not to --matrix");
      PDS_CHECK(args.rhs != "smooth", "--rhs smooth applies to --grid problems; expected random or a vector file "
                                      "with --matrix");
      o.matrix = args.matrix;
      o.matrix_rhs = args.rhs;
      return;
    }
    auto& p = o.poisson;
    linear_systems::parse_obstacle(args.obstacle, p.obstacle);
    std::vector<int> g = args.grid;
    if (g.empty() && p.obstacle.kind == "file") {
      g = linear_systems::PoissonOptions::mask_file_shape(p.obstacle.file);
      std::reverse(g.begin(), g.end());  // (nz, ny, nx) -> nx ny nz
    }
    if (g.empty()) g = {32, 32, 32};
    p.set_grid(g);
    p.set_boundaries(args.bc);
    const std::string rhs = args.rhs.empty() ? "random" : args.rhs;
    if (rhs == "random" || rhs == "smooth") {
      p.rhs = rhs;
    } else {
      p.rhs = "file";
      p.rhs_file = rhs;
    }
    p.seed = args.seed;
  });
  linear_systems::solve_single(o, world);
}

void run_poisson(const PoissonArgs& args, MPI_Comm world) {
  if (!args.sequence.empty())
    run_sequence(args, world);
  else
    run_single(args, world);
}

}  // namespace

SubcommandRegistration add_poisson(CLI::App& root) {
  auto args = std::make_shared<PoissonArgs>();
  auto* cmd = root.add_subcommand(
      "poisson", "Linear solves: one Poisson problem (--grid) or SPD matrix (--matrix) with PETSc; --sequence: "
                 "SOR omega tuned across a sequence of systems");
  args->config.add_to(*cmd, false);
  cmd->add_option("--grid", args->grid,
                  "Cells per axis NX NY [NZ] of a Poisson problem (default 32 32 32, or the mask file's shape); "
                  "with --sequence: N points per axis (default 26)")
      ->expected(1, 3);
  cmd->add_option("--matrix", args->matrix, "SPD matrix file: PETSc binary (MatView) or Matrix Market .mtx");
  cmd->add_option("--obstacle", args->obstacle,
                  "none | sphere | box | random-boxes[:COUNT] | FILE.npy (uint8/bool [nz][ny][nx], nonzero = solid)")
      ->capture_default_str();
  cmd->add_option("--bc", args->bc,
                  "dirichlet | neumann | comma-separated SIDE=KIND with SIDE in x-,x+,y-,y+,z-,z+,x,y,z "
                  "(e.g. neumann,x-=dirichlet)")
      ->capture_default_str();
  cmd->add_option("--rhs", args->rhs,
                  "random | smooth (manufactured solution, grids) | FILE (PETSc binary or .mtx vector, natural "
                  "ordering); default random, or the matrix file's own right-hand side");
  cmd->add_option("--out", args->out, "Write DIR/solution.bin (PETSc binary) and, for grids, DIR/poisson.pvd");
  cmd->add_flag("--save-system", args->save_system,
                "Also write DIR/system.bin: A and b of the grid problem (natural ordering), readable by --matrix");
  cmd->add_option("--rtol", args->rtol, "Relative tolerance (default 1e-6; 1e-8 for --sequence)");
  cmd->add_option("--seed", args->seed, "Seed of random right-hand sides, random boxes, learners and sequences")
      ->capture_default_str();
  cmd->add_option("--sequence", args->sequence,
                  "heat2d | shifted-laplacian | DIR (A_0000.bin, b_0000.bin, ... and optional context.txt)");
  cmd->add_option("--steps", args->steps, "Number of systems of a sequence (default 100; a folder: all)");
  cmd->add_option("--omega", args->omega, "bandit:tsallis|exp3|ucb1|chebcb|binned, fixed:W, grid or none")
      ->capture_default_str();
  cmd->add_option("--arms", args->arms, "Number of omega values of the bandits and of grid")->capture_default_str();
  cmd->add_option("--omega-range", args->omega_range, "lo,hi of the omega grid")->delimiter(',')->expected(2);
  cmd->add_option("--csv", args->csv, "CSV of every system of a sequence (default <output.dir>/instances.csv)");
  args->given = [cmd](const char* name) { return cmd->count(name) > 0; };
  return {cmd, [args](MPI_Comm world) { run_poisson(*args, world); }};
}

}  // namespace pdestream::apps
