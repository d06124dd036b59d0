#pragma once
// Shared pieces of the pseudo-spectral solvers (burgers1d, ns2d) on the periodic unit
// torus: reproducible Gaussian random fields, seeds from real parameters, and a lock
// around FFTW's planner.
//
// Fourier convention: a real field is u(x) = sum_k u_k exp(2 pi i k.x) with u_{-k} =
// conj(u_k); the solvers store these u_k (FFTW's unnormalised forward transform divided by
// the number of points), so a backward (c2r) transform gives grid values directly.
//
// Gaussian random fields follow the FNO paper's data generators (GRF1.m for Burgers,
// random_fields.py GaussianRF for Navier-Stokes): a zero-mean field with covariance
// operator sigma^2 (-Laplacian + tau^2 I)^(-alpha) on the unit torus, no mean mode. On the
// Fourier basis that is E|u_k|^2 = sigma^2 (4 pi^2 |k|^2 + tau^2)^(-alpha) for k != 0, with
// independent real and imaginary parts, so the pointwise variance is the sum of those
// eigenvalues. (FNO's Burgers text writes 625 (-Laplacian + 25 I)^-2: sigma = 25, tau = 5,
// alpha = 2. Its Navier-Stokes code uses sigma = tau^(alpha - d/2) = 7^1.5 with tau = 7,
// alpha = 2.5; the paper's "7^(3/2)" is that sigma, i.e. a covariance 7^3 (...)^-2.5.)
//
// Every mode's random numbers come from a counter-based hash of (seed, kx, ky), not from a
// sequential stream: the same seed gives the same low modes at any resolution and on any
// number of ranks, and each rank draws only the modes it owns.

#include <array>
#include <complex>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"

struct fftw_plan_s;  // fftw3.h's plan type; the header itself stays in the .cpp files

namespace pdestream::solvers::spectral {

using Complex = std::complex<double>;

// Covariance parameters of sigma^2 (-Laplacian + tau^2 I)^(-alpha).
struct GrfSpec {
  double sigma = 1.0;
  double tau = 1.0;
  double alpha = 1.0;

  // E|u_k|^2 for a mode with |k|^2 = k2 (integer wavenumbers); 0 for the mean mode.
  double mode_variance(double k2) const;
};

// Two independent standard normal numbers determined by (seed, a, b) alone (splitmix64
// hashing + Box-Muller), identical on every platform and rank.
std::array<double, 2> gaussian_pair(std::uint64_t seed, std::int64_t a, std::int64_t b);

// The integer seed of a real parameter value (floored), so samplers that draw reals in
// [0, 1e9] give distinct seeds. Throws unless value is finite and in [0, 2^53).
std::uint64_t seed_from_parameter(const std::string& solver, const std::string& name, double value);

// FFTW's planner is not thread-safe; every plan creation and destruction takes this lock.
std::mutex& fftw_planner_mutex();

// A real 1D FFT of n points with its own aligned buffers and FFTW_ESTIMATE plans (no timing
// runs: every run and rank takes the same code path, so data are reproducible bit for bit).
// forward(): real() -> modes() (n/2 + 1, FFTW's unnormalised sum); backward(): modes() ->
// real(), destroying modes(). Plans are made and destroyed under fftw_planner_mutex().
class RealFft1d {
 public:
  explicit RealFft1d(int n, const std::string& owner);
  ~RealFft1d();
  RealFft1d(const RealFft1d&) = delete;
  RealFft1d& operator=(const RealFft1d&) = delete;

  int size() const { return n_; }
  int modes_size() const { return n_ / 2 + 1; }
  double* real() const { return real_; }
  Complex* modes() const { return modes_; }
  void forward() const;
  void backward() const;

 private:
  int n_;
  double* real_ = nullptr;
  Complex* modes_ = nullptr;
  fftw_plan_s* r2c_ = nullptr;
  fftw_plan_s* c2r_ = nullptr;
};

// ETDRK4 (Cox & Matthews 2002) for v_t = L v + N(v) with a diagonal, real linear part L_k per
// Fourier mode (diffusion -nu k^2, Kuramoto-Sivashinsky's k^2 - nu k^4, ...). The
// coefficients come from Kassam & Trefethen's (2005) contour integral: the phi-functions
// averaged over M = 32 points of a circle of radius 1 around z = h L_k, which avoids the
// cancellation of their closed forms near z = 0. The linear part is integrated exactly; a
// constant N is too (tested), and the scheme is fourth order in h otherwise.
class Etdrk4 {
 public:
  using Nonlinear = std::function<void(const std::vector<Complex>& v, std::vector<Complex>& n)>;
  // The coefficients for the symbol L_k (one per stored mode) and the step h.
  void set(const std::vector<double>& symbol, double h);
  bool ready() const { return !e_.empty(); }
  double step_size() const { return h_; }
  // One step of v (size of the symbol): n(v, out) writes N(v) into out.
  void step(std::vector<Complex>& v, const Nonlinear& n);

 private:
  double h_ = 0;
  std::vector<double> e_, e2_, q_, f1_, f2_, f3_;
  std::vector<Complex> nv_, na_, nb_, nc_, a_, b_, c_;
};

// The 2/3 rule for the n/2 + 1 stored modes of a real n-point field: 1 where |k| <= n/3 (products
// of those alias only onto discarded modes), 0 above and at the Nyquist mode (its derivative is
// not defined); without `dealias` only the Nyquist mode is dropped.
std::vector<double> dealias_mask(int n, bool dealias);

// Index -> signed wavenumber for an FFT of length n: 0..n/2 then -(n/2-1)..-1.
inline int wavenumber(int index, int n) { return index <= n / 2 ? index : index - n; }

// The [solver] keys burgers1d and ns2d share: output and solve grids, end time, outputs,
// largest step, the random initial field, and the sampled ic_seed and nu. `max_n` bounds
// both grids; ns2d's solve grid defaults to its output grid, burgers1d's to its own default.
template <class Options>
void read_spectral_options(SectionReader& s, Options& o, int min_nx, int min_solve_nx, int max_n,
                           bool solve_nx_defaults_to_nx) {
  o.nx = static_cast<int>(s.get_int("nx", o.nx, min_nx, max_n));
  o.solve_nx = static_cast<int>(
      s.get_int("solve_nx", solve_nx_defaults_to_nx ? o.nx : o.solve_nx, min_solve_nx, max_n));
  PDS_CHECK(o.solve_nx % 2 == 0, s.where("solve_nx") << ": expected an even number of points, got " << o.solve_nx);
  PDS_CHECK(o.solve_nx % o.nx == 0, s.where("nx") << ": expected a divisor of solve_nx = " << o.solve_nx
                                                  << " (the output subsamples the solve grid), got " << o.nx);
  o.t_final = s.get_double("t_final", o.t_final, 1e-12, 1e12);
  o.outputs = static_cast<int>(s.get_int("outputs", o.outputs, 1, 1 << 24));
  o.dt = s.get_double("dt", o.dt, 1e-12, 1e6);
  o.ic.sigma = s.get_double("ic_sigma", o.ic.sigma, 0.0, 1e12);
  o.ic.tau = s.get_double("ic_tau", o.ic.tau, 0.0, 1e12);
  o.ic.alpha = s.get_double("ic_alpha", o.ic.alpha, 0.0, 100.0);
  o.defaults["ic_seed"] = s.get_double("ic_seed", o.defaults["ic_seed"], 0.0, 9007199254740991.0);
  o.defaults["nu"] = s.get_double("nu", o.defaults["nu"], 1e-12, 1e6);
}

}  // namespace pdestream::solvers::spectral
