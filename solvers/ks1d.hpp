#pragma once
// ks1d: the Kuramoto-Sivashinsky equation u_t + u u_x + u_xx + nu u_xxxx = 0 on [0, L),
// periodic, in PDE-Refiner's setting (Lippe et al., NeurIPS 2023, data from the LPSDA
// generator): nx = 256 points, the initial state a sum of 10 sines
// A sin(2 pi l x / L + phi) with A ~ U(-0.5, 0.5), l in {1, 2}, phi ~ U(0, 2 pi) (from
// ic_seed), `burn_in` time units (72) dropped before the first stored frame, then frames every
// dt_out = 0.2 up to t_final after it. L (64) and nu (1) are sampled parameters; the paper
// varies L by 10% and its conditional set nu in [0.5, 1.5].
//
// Method: Fourier pseudo-spectral, the nonlinear term -(u^2/2)_x on the grid with 2/3-rule
// dealiasing, ETDRK4 with the linear symbol L_k = q^2 - nu q^4 (q = 2 pi k / L) integrated
// exactly: the same scheme and coefficients as burgers1d (solvers/spectral.hpp). (LPSDA
// itself integrates with scipy's Radau; any accurate integrator gives the same dynamics up to
// the chaotic divergence of nearby states.)
//
// Grid: x_i = i L / nx for the configured L; a trajectory with a sampled L keeps the same
// points (i / nx of its own length) and records its L among the parameters.
//
// Parallelism: as burgers1d, every rank of a group integrates the same 256-point problem (rank
// 0's state is broadcast after every frame) and snapshot() returns this rank's slab, so 1 and
// p ranks give identical data.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "solvers/solver.hpp"
#include "solvers/spectral.hpp"

namespace pdestream::solvers {

struct Ks1dOptions {
  int nx = 256;             // points (even)
  double dt = 0.05;         // largest ETDRK4 step; each frame interval takes whole steps
  double dt_out = 0.2;      // time between stored frames
  double t_final = 27.8;    // stored span after the burn-in: 139 intervals, 140 frames
  double burn_in = 72.0;    // integrated and dropped before the first stored frame
  bool dealias = true;      // 2/3-rule dealiasing of the nonlinear term
  Parameters defaults = {{"ic_seed", 0.0}, {"L", 64.0}, {"nu", 1.0}};

  static Ks1dOptions from_section(SectionReader& section);
};

class Ks1d : public Solver {
 public:
  using InitialFunction = std::function<double(double x, double length)>;

  Ks1d(const Ks1dOptions& options, MPI_Comm comm);
  ~Ks1d() override;
  Ks1d(const Ks1d&) = delete;
  Ks1d& operator=(const Ks1d&) = delete;

  std::string name() const override { return "ks1d"; }
  MPI_Comm comm() const override { return comm_; }
  const Grid& grid() const override { return grid_; }
  std::vector<std::string> channels() const override { return {"u"}; }
  Box local_box() const override { return box_; }
  std::vector<std::string> parameter_names() const override { return {"ic_seed", "L", "nu"}; }
  Parameters default_parameters() const override { return options_.defaults; }

  void reset(const Parameters& params) override;
  void advance() override;
  double time() const override { return time_; }
  int output_index() const override { return output_index_; }
  int num_outputs() const override { return outputs_; }
  double output_interval() const override { return options_.dt_out; }
  Field snapshot() const override;

  // Replace the random initial state by u0(x, L) (tests: a single mode, exact solutions);
  // takes effect at the next reset(). An empty function restores the random state.
  void set_initial(InitialFunction u0) { initial_ = std::move(u0); }
  const Ks1dOptions& options() const { return options_; }
  double step_size() const { return h_; }
  // The whole state on the grid, on every rank.
  std::vector<double> values() const;
  // The PDE-Refiner / LPSDA random initial state on n points of [0, length).
  static std::vector<double> random_initial_state(int n, double length, std::uint64_t seed);

 private:
  using Complex = spectral::Complex;
  void nonlinear(const std::vector<Complex>& v, std::vector<Complex>& out) const;
  void steps(long long count);
  void check_finite(const char* where) const;

  Ks1dOptions options_;
  MPI_Comm comm_;
  Grid grid_;
  Box box_;
  Parameters params_;
  InitialFunction initial_;
  int outputs_ = 1;
  int steps_per_output_ = 1;
  double h_ = 0.0;
  double time_ = 0.0;
  int output_index_ = 0;
  int nk_ = 0;
  std::vector<Complex> v_;     // Fourier coefficients of the state (u_k, see spectral.hpp)
  std::vector<double> mask_;   // 2/3 rule
  std::vector<double> q_;      // 2 pi k / L of the current trajectory
  spectral::Etdrk4 etdrk4_;
  double coefficients_for_[2] = {-1.0, -1.0};  // (L, nu) of etdrk4_
  std::unique_ptr<spectral::RealFft1d> fft_;
};

}  // namespace pdestream::solvers
