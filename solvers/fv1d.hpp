#pragma once
// The PDEBench 1D family (issue 13): advection1d, burgers1d_fv and diffreact1d, periodic on
// x in [0, 1) with N cells and values at the cell centres x_i = (i + 1/2) / N, frames every
// dt_out up to t_final, and PDEBench's random initial condition drawn from ic_seed.
//
//   advection1d   u_t + beta u_x = 0                  t_final 2   parameters ic_seed, beta
//   burgers1d_fv  u_t + (u^2/2)_x = (nu / pi) u_xx     t_final 2   parameters ic_seed, nu
//   diffreact1d   u_t = nu u_xx + rho u (1 - u)        t_final 1   parameters ic_seed, nu, rho
//
// Method. Second-order finite volumes: MUSCL reconstruction with a slope limiter (`limiter`:
// "mc", the monotonised central limiter PDEBench uses; "minmod"; "none": unlimited central
// slopes) and an upwind (advection) or Rusanov (Burgers) flux, stepped by SSP-RK2 (Heun) at
// CFL number `cfl` (<= 0.4 by default; the step shrinks so that frames fall on steps).
// Diffusion is stiff at N = 1024 (an explicit step for nu = 2 would be ~1e-7, 1e7 steps per
// trajectory), so it is solved exactly instead: the semi-discrete diffusion
// u_t = c D2 u with the central second difference D2 is diagonal in Fourier space, with
// symbol -(4 / dx^2) sin^2(pi k / N), and one step multiplies mode k by
// exp(-c (4 / dx^2) sin^2(pi k / N) dt) (unconditionally stable, damping every mode as
// the PDE does; Crank-Nicolson would leave the stiff modes oscillating). The reaction
// u_t = rho u (1 - u) has the exact logistic step u <- u e / (1 - u + u e), e = exp(rho dt).
// The operators are combined by Strang splitting, second order in time:
//   burgers1d_fv: D(dt/2) A(dt) D(dt/2), A the MUSCL/Rusanov SSP-RK2 step at CFL `cfl`
//                 on max |u| (the step is the same on every rank: an exact allreduce)
//   diffreact1d:  R(dt/2) D(dt) R(dt/2) with dt <= `dt` (no stability limit: both parts are
//                 exact; dt sets the splitting error only)
// Tested: the exact solution u0(x - beta t) (second order), Cole-Hopf for Burgers (second
// order), a manufactured solution for diffusion-reaction (second order), the exact logistic
// and diffusion steps, 1 rank against 2 ranks.
//
// Parallelism: the cells are split into contiguous slabs, one per rank (each holds at least
// 2 cells); the MUSCL stencil's two ghost cells per side come from the neighbours by MPI
// messages (a periodic ring). The diffusion step gathers the N values to every rank
// (MPI_Allgatherv: 8 KiB at N = 1024), transforms them with FFTW and keeps the rank's slab,
// so every rank computes the same numbers: results are identical on any number of ranks.
//
// The random initial condition (PDEBench's init_multi with k_tot = 4, two modes), from
// counter-based draws of ic_seed alone (the same field on any rank count):
//   u0(x) = sum_{j=1,2} A_j sin(2 pi k_j x + phi_j),  k_j in {1, .., 4}, A_j ~ U(0, 1),
//           phi_j ~ U(0, 2 pi); then with probability 0.1 u0 <- |u0|; with probability 1/2
//           u0 <- -u0; with probability 0.1 u0 <- u0 (tanh((x - xL) / 0.01) - tanh((x - xR) /
//           0.01)) / 2, xL ~ U(0.1, 0.45), xR ~ U(0.55, 0.9); diffreact1d then maps u0 to
//           [0, 1] by (u0 - min) / (max - min) over the cells.
// (PDEBench sums all k_tot modes with zero wavenumber for the ones not drawn, which adds
// constants, and divides by L - dx instead of L; we take the periodic form the issue states.)
//
// A state that stops being finite (a diverging run, a NaN parameter) is a one-line error
// naming the solver and the time.

#include <mpi.h>

#include <complex>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "solvers/solver.hpp"
#include "solvers/spectral.hpp"

namespace pdestream::solvers {

struct Fv1dOptions {
  int nx = 1024;           // cells on [0, 1)
  double t_final = 2.0;
  double dt_out = 0.01;    // time between frames; t_final / dt_out must be a whole number
  double cfl = 0.4;        // advective CFL number (advection1d, burgers1d_fv)
  double dt = 1e-3;        // largest step of diffreact1d's splitting
  std::string limiter = "mc";  // mc | minmod | none
  Parameters defaults;     // the solver's parameters and their values when not sampled

  // The solver's defaults: t_final and the parameters of `solver`.
  static Fv1dOptions defaults_of(const std::string& solver);
  static Fv1dOptions from_section(const std::string& solver, SectionReader& section);
};

// PDEBench's random initial condition at the unit coordinates x (see above); `to_unit` maps
// it to [0, 1] over the given points.
std::vector<double> pdebench_initial_condition(const std::vector<double>& x, std::uint64_t seed, bool to_unit);

class FiniteVolume1d : public Solver {
 public:
  using InitialFunction = std::function<double(double x)>;
  using SourceFunction = std::function<double(double x, double t)>;

  FiniteVolume1d(std::string name, const Fv1dOptions& options, MPI_Comm comm);
  ~FiniteVolume1d() override;
  FiniteVolume1d(const FiniteVolume1d&) = delete;
  FiniteVolume1d& operator=(const FiniteVolume1d&) = delete;

  std::string name() const override { return name_; }
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
  int num_outputs() const override { return outputs_; }
  double output_interval() const override { return options_.t_final / outputs_; }
  Field snapshot() const override;

  // Replace the random initial condition by point values u0(x) at the cell centres (tests,
  // exact solutions); takes effect at the next reset(). Empty: the random one again.
  void set_initial(InitialFunction u0) { initial_ = std::move(u0); }
  // An extra source term s(x, t) (manufactured solutions; diffreact1d splits it in
  // symmetrically, the other solvers ignore it).
  void set_source(SourceFunction s) { source_ = std::move(s); }

  const Fv1dOptions& options() const { return options_; }
  const Parameters& parameters() const { return params_; }
  long long steps() const { return steps_; }
  // The whole state (every cell), on every rank.
  std::vector<double> gather() const;

 protected:
  // One step of length dt from time_ (time_ is advanced by the caller).
  virtual void step(double dt) = 0;
  // The largest stable step of the explicit part (infinity: none).
  virtual double max_step() const = 0;
  // Checks the parameters (named in the error).
  virtual void check_parameters(const Parameters& p) const = 0;
  virtual bool initial_to_unit() const { return false; }

  // du/dt of the conservation law with flux `flux(uL, uR)` at every face, into out (local).
  void flux_divergence(const std::function<double(double, double)>& flux, std::vector<double>& out);
  // SSP-RK2 of the conservation law over dt.
  void ssp_rk2(const std::function<double(double, double)>& flux, double dt);
  // Exact step of u_t = c D2 u over dt (gathers, transforms, keeps the slab).
  void diffuse(double c, double dt);
  // u += dt s(x, t_mid), if a source is set.
  void add_source(double t_mid, double dt);
  // The largest |u| over all ranks.
  double max_abs() const;
  double dx() const { return 1.0 / options_.nx; }
  // Local values (without ghosts): u()[i - lo].
  std::vector<double>& u() { return u_; }

 private:
  void exchange_ghosts();
  void check_finite() const;

  std::string name_;
  Fv1dOptions options_;
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  Grid grid_;
  Box box_;
  int outputs_ = 1;
  Parameters params_;
  InitialFunction initial_;
  SourceFunction source_;
  double time_ = 0.0;
  int output_index_ = 0;
  long long steps_ = 0;
  std::vector<double> u_;      // this rank's cells
  std::vector<double> ghost_;  // u with 2 ghosts per side: ghost_[i - lo + 2]
  std::vector<double> stage_, rhs_;
  std::vector<int> counts_, displs_;  // the slabs, for MPI_Allgatherv
  std::unique_ptr<spectral::RealFft1d> fft_;  // the diffusion step's (scratch only)
};

class Advection1d : public FiniteVolume1d {
 public:
  Advection1d(const Fv1dOptions& options, MPI_Comm comm) : FiniteVolume1d("advection1d", options, comm) {
    reset(default_parameters());
  }

 protected:
  void step(double dt) override;
  double max_step() const override;
  void check_parameters(const Parameters& p) const override;
};

class BurgersFv1d : public FiniteVolume1d {
 public:
  BurgersFv1d(const Fv1dOptions& options, MPI_Comm comm) : FiniteVolume1d("burgers1d_fv", options, comm) {
    reset(default_parameters());
  }

 protected:
  void step(double dt) override;
  double max_step() const override;
  void check_parameters(const Parameters& p) const override;
};

class DiffReact1d : public FiniteVolume1d {
 public:
  DiffReact1d(const Fv1dOptions& options, MPI_Comm comm) : FiniteVolume1d("diffreact1d", options, comm) {
    reset(default_parameters());
  }

 protected:
  void step(double dt) override;
  double max_step() const override;
  void check_parameters(const Parameters& p) const override;
  bool initial_to_unit() const override { return true; }
};

}  // namespace pdestream::solvers
