#pragma once
// burgers1d: viscous Burgers u_t + (u^2/2)_x = nu u_xx on the periodic unit interval, with
// the Fourier Neural Operator paper's data: u0 ~ N(0, 625 (-Laplacian + 25 I)^-2), nu = 0.1,
// T = 1, solved at 8192 points and subsampled to the output resolution.
//
// Method: Fourier pseudo-spectral (FFTW r2c/c2r), the nonlinear term evaluated on the grid
// and 2/3-rule dealiased, and ETDRK4 (Cox & Matthews 2002) in time with its coefficients by
// Kassam & Trefethen's contour integral. ETDRK4 integrates the stiff diffusion exactly
// (nu k^2 reaches 7e7 at 8192 points, so no explicit scheme is usable and an implicit
// low-order one would need tiny steps for accuracy), is fourth order for the nonlinear
// part, and is what chebfun's spin -- the FNO data generator -- uses.
//
// Parallelism: one simulation is one 8192-point FFT problem, far too small to distribute.
// On a communicator of p > 1 ranks every rank integrates the same trajectory (rank 0's state
// is broadcast after every output, so replicas can never drift apart) and snapshot() returns
// this rank's slab of the output grid. Results are identical on any rank count; there is no
// speed-up, so spread an ensemble with `generate` and simulation.ranks_per_sim = 1.
//
// Sampled parameters: ic_seed (floored to an integer seed of the random initial field) and
// nu.

#include <complex>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "solvers/solver.hpp"
#include "solvers/spectral.hpp"

namespace pdestream::solvers {

struct Burgers1dOptions {
  int nx = 1024;          // output points (periodic: x = i / nx); must divide solve_nx
  int solve_nx = 8192;    // points of the pseudo-spectral solve (even)
  double t_final = 1.0;   // end time
  int outputs = 1;        // output intervals (Nt = outputs + 1 frames, u0 included)
  double dt = 1e-3;       // largest time step; each output interval takes whole steps
  bool dealias = true;    // 2/3-rule dealiasing of the nonlinear term
  spectral::GrfSpec ic{25.0, 5.0, 2.0};  // sigma, tau, alpha of the initial field
  Parameters defaults = {{"ic_seed", 0.0}, {"nu", 0.1}};

  static Burgers1dOptions from_section(SectionReader& section);
};

class Burgers1d : public Solver {
 public:
  using InitialFunction = std::function<double(double x)>;

  Burgers1d(const Burgers1dOptions& options, MPI_Comm comm);
  ~Burgers1d() override;
  Burgers1d(const Burgers1d&) = delete;
  Burgers1d& operator=(const Burgers1d&) = delete;

  std::string name() const override { return "burgers1d"; }
  MPI_Comm comm() const override { return comm_; }
  const Grid& grid() const override { return grid_; }
  std::vector<std::string> channels() const override { return {"u"}; }
  Box local_box() const override { return box_; }
  std::vector<std::string> parameter_names() const override { return {"ic_seed", "nu"}; }
  Parameters default_parameters() const override { return options_.defaults; }

  void reset(const Parameters& params) override;
  void advance() override;
  double time() const override { return time_; }
  int output_index() const override { return output_index_; }
  int num_outputs() const override { return options_.outputs; }
  double output_interval() const override { return options_.t_final / options_.outputs; }
  Field snapshot() const override;

  // Replace the random initial field by u0(x) (e.g. for exact solutions); takes effect at
  // the next reset(). An empty function restores the random field.
  void set_initial(InitialFunction u0) { initial_ = std::move(u0); }

  const Burgers1dOptions& options() const { return options_; }
  // The time step actually used (output_interval / steps_per_output).
  double step_size() const { return h_; }
  int steps_per_output() const { return steps_per_output_; }
  // The whole solution on the solve grid (solve_nx points), on every rank.
  std::vector<double> solve_grid_values() const;

 private:
  using Complex = spectral::Complex;
  // Dealiased Fourier coefficients of -(u^2/2)_x for the state v.
  void nonlinear(const std::vector<Complex>& v, std::vector<Complex>& out) const;

  Burgers1dOptions options_;
  MPI_Comm comm_;
  Grid grid_;
  Box box_;
  Parameters params_;
  InitialFunction initial_;
  double nu_ = -1.0;  // nu the ETDRK4 coefficients were computed for
  double h_ = 0.0;
  int steps_per_output_ = 1;
  double time_ = 0.0;
  int output_index_ = 0;
  long long steps_ = 0;

  int n_ = 0, nk_ = 0;  // solve points, stored modes n/2 + 1
  std::vector<Complex> v_;  // Fourier coefficients of the state
  std::vector<double> mask_;  // 2/3 rule
  spectral::Etdrk4 etdrk4_;
  std::unique_ptr<spectral::RealFft1d> fft_;  // scratch only: transforms are logically const
};

}  // namespace pdestream::solvers
