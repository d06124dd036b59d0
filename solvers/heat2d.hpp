#pragma once
// heat2d: u_t = alpha (u_xx + u_yy) + f on the unit square, Dirichlet values on each side.
//
// Vertex-centred 5-point finite differences on a PETSc DMDA (any number of ranks) and
// implicit theta-stepping: backward Euler (theta = 1) or Crank-Nicolson (theta = 1/2).
// Dirichlet unknowns are eliminated from the interior rows, so the matrix is SPD and
// -ksp_type cg works; PETSc options pass through (-ksp_type, -pc_type, -ksp_rtol, ...).
//
// Sampled parameters (the online-training paper's use case): alpha, t_init, t_left,
// t_right, t_bottom, t_top. Corner points take the mean of their two sides.
//
// Non-stationary variant (the "Learning to Relax" experiment, off by default):
//   diffusivity = "paper":  u_t = c(t) lap u + f with c(t) = alpha max(0.1 sin 2 pi t, -10 sin 2 pi t)
//   source = "moving":      f = A exp(-|x - x0(t)|^2 / (2 w^2)), x0(t) circling the centre
//                           with radius 1/4 once per unit time
// The operator then changes every step and is rebuilt as I + theta dt c(t) (-L_h) from a
// stored -L_h (a copy, a scale and a diagonal shift; the constant path is untouched).
// Before every solve heat2d offers c(t_new) as context to an omega bandit on its PC (see
// linear_systems/relaxation_tuner.hpp) through a composed PETSc method, so it needs no link to
// linear_systems: -pc_type sor -pc_sor_omega_bandit chebcb just works.

#include <petscdmda.h>
#include <petscksp.h>

#include <functional>
#include <string>
#include <vector>

#include "solvers/solver.hpp"

namespace pdestream::solvers {

struct Heat2dOptions {
  int nx = 64;
  int ny = 64;
  double dt = 1e-3;
  std::string scheme = "cn";  // "be" | "cn"
  int outputs = 20;           // output intervals per trajectory
  int steps_per_output = 5;   // time steps per output interval
  double rtol = 1e-12;        // KSP default, tight enough for rank-count independence; -ksp_rtol overrides
  std::string options_prefix; // PETSc options prefix of the KSP
  std::string diffusivity = "constant";  // "constant" | "paper"
  std::string source = "none";           // "none" | "moving"
  double source_amplitude = 10.0;
  double source_width = 0.1;
  Parameters defaults = {{"alpha", 1.0},   {"t_init", 0.0}, {"t_left", 0.0},
                         {"t_right", 0.0}, {"t_bottom", 0.0}, {"t_top", 0.0}};

  static Heat2dOptions from_section(SectionReader& section);
};

class Heat2d : public Solver {
 public:
  using SpaceTimeFunction = std::function<double(double x, double y, double t)>;

  Heat2d(const Heat2dOptions& options, MPI_Comm comm);
  ~Heat2d() override;
  Heat2d(const Heat2d&) = delete;
  Heat2d& operator=(const Heat2d&) = delete;

  std::string name() const override { return "heat2d"; }
  MPI_Comm comm() const override { return comm_; }
  const Grid& grid() const override { return grid_; }
  std::vector<std::string> channels() const override { return {"u"}; }
  Box local_box() const override { return box_; }
  std::vector<std::string> parameter_names() const override;
  Parameters default_parameters() const override { return options_.defaults; }

  void reset(const Parameters& params) override;
  void advance() override;
  double time() const override { return time_; }
  int output_index() const override { return output_index_; }
  int num_outputs() const override { return options_.outputs; }
  double output_interval() const override { return options_.dt * options_.steps_per_output; }
  Field snapshot() const override;

  // Optional space-time data, e.g. for manufactured solutions or a moving source. When a
  // boundary function is set it replaces the four side values; an initial function
  // replaces t_init (and the boundary values at t = 0). Take effect at the next reset().
  // A source set here replaces the configured moving source.
  void set_source(SpaceTimeFunction f) { source_ = std::move(f); }
  void set_boundary(SpaceTimeFunction g) { boundary_ = std::move(g); }
  void set_initial(SpaceTimeFunction u0) { initial_ = std::move(u0); }

  const Heat2dOptions& options() const { return options_; }
  // The diffusion coefficient at time t (alpha, or the paper's c(t)).
  double diffusivity(double t) const;
  // Total KSP iterations since reset (for benchmarks and tuning).
  long long ksp_iterations() const { return ksp_iterations_; }
  KSP ksp() const { return ksp_; }

 private:
  void assemble_operator();
  void assemble_operator_at(double c);
  void offer_bandit_context(double c);
  void build_rhs(double t_old, double t_new, double c_old, double c_new);
  double boundary_value(int i, int j, double t) const;
  void check_finite(const char* when) const;

  Heat2dOptions options_;
  MPI_Comm comm_;
  Grid grid_;
  Box box_;
  Parameters params_;
  double theta_ = 0.5;
  double time_ = 0.0;
  int output_index_ = 0;
  long long steps_ = 0;
  long long ksp_iterations_ = 0;
  SpaceTimeFunction source_, boundary_, initial_;
  bool varying_ = false;       // diffusivity changes with time: A rebuilt per step
  double assembled_c_ = -1.0;  // the c the current A was built with

  DM da_ = nullptr;
  Mat A_ = nullptr;
  Mat minus_laplacian_ = nullptr;  // -L_h with zero boundary rows (varying diffusivity only)
  KSP ksp_ = nullptr;
  Vec u_ = nullptr, b_ = nullptr, u_local_ = nullptr;
};

}  // namespace pdestream::solvers
