#include "solvers/burgers1d.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/runtime.hpp"

namespace pdestream::solvers {

Burgers1dOptions Burgers1dOptions::from_section(SectionReader& s) {
  Burgers1dOptions o;
  spectral::read_spectral_options(s, o, 2, 8, 1 << 24, false);
  o.dealias = s.get_bool("dealias", o.dealias);
  return o;
}

Burgers1d::Burgers1d(const Burgers1dOptions& options, MPI_Comm comm) : options_(options), comm_(comm) {
  const auto& o = options_;
  PDS_CHECK(o.solve_nx >= 8 && o.solve_nx % 2 == 0,
            "burgers1d needs an even solve_nx >= 8, got " << o.solve_nx);
  PDS_CHECK(o.nx >= 2 && o.solve_nx % o.nx == 0,
            "burgers1d needs nx dividing solve_nx = " << o.solve_nx << ", got nx = " << o.nx);
  PDS_CHECK(o.t_final > 0 && o.dt > 0 && o.outputs >= 1,
            "burgers1d needs t_final > 0, dt > 0 and outputs >= 1, got " << o.t_final << ", " << o.dt << ", "
                                                                       << o.outputs);
  const int size = comm_size(comm_), rank = comm_rank(comm_);
  PDS_CHECK(o.nx >= size, "burgers1d on " << size << " ranks needs nx >= " << size
                                          << " (each rank returns a slab of the output grid), got nx = " << o.nx);

  grid_.dim = 1;
  grid_.shape = {o.nx, 1, 1};
  grid_.lower = {0.0, 0.0, 0.0};
  grid_.upper = {1.0, 0.0, 0.0};
  grid_.periodic = {true, false, false};
  grid_.validate();
  box_.lo = {static_cast<int>(static_cast<long long>(rank) * o.nx / size), 0, 0};
  box_.hi = {static_cast<int>(static_cast<long long>(rank + 1) * o.nx / size), 1, 1};

  // Whole steps per output interval, no larger than dt, so outputs fall exactly on steps.
  const double interval = output_interval();
  steps_per_output_ = static_cast<int>(std::ceil(interval / o.dt * (1.0 - 1e-12)));
  steps_per_output_ = std::max(steps_per_output_, 1);
  h_ = interval / steps_per_output_;

  n_ = o.solve_nx;
  nk_ = n_ / 2 + 1;
  v_.assign(nk_, 0.0);
  mask_ = spectral::dealias_mask(n_, o.dealias);
  fft_ = std::make_unique<spectral::RealFft1d>(n_, "burgers1d");
  params_ = options_.defaults;
  reset(options_.defaults);
}

Burgers1d::~Burgers1d() = default;

void Burgers1d::reset(const Parameters& params) {
  Parameters next = merged_parameters(params);
  PDS_CHECK(next["nu"] > 0, "burgers1d parameter nu must be > 0, got " << next["nu"]);
  const std::uint64_t seed = spectral::seed_from_parameter("burgers1d", "ic_seed", next["ic_seed"]);
  params_ = next;
  if (params_["nu"] != nu_) {
    // Diffusion is the linear part: L_k = -nu (2 pi k)^2.
    std::vector<double> symbol(nk_);
    for (int k = 0; k < nk_; ++k) symbol[k] = -params_["nu"] * std::pow(2.0 * M_PI * k, 2);
    etdrk4_.set(symbol, h_);
    nu_ = params_["nu"];
  }

  time_ = 0.0;
  output_index_ = 0;
  steps_ = 0;
  if (initial_) {
    for (int j = 0; j < n_; ++j) fft_->real()[j] = initial_(static_cast<double>(j) / n_);
    fft_->forward();
    for (int k = 0; k < nk_; ++k) v_[k] = fft_->modes()[k] / static_cast<double>(n_);
  } else {
    // u_k = sqrt(mu_k / 2) (xi + i eta) for 0 < k < n/2: E|u_k|^2 = mu_k, as GRF1.m's
    // alpha_k cos + beta_k sin with alpha, beta ~ N(0, 2 mu_k). Mean and Nyquist mode zero.
    v_.assign(nk_, 0.0);
    for (int k = 1; k < n_ / 2; ++k) {
      const auto g = spectral::gaussian_pair(seed, k, 0);
      v_[k] = std::sqrt(options_.ic.mode_variance(static_cast<double>(k) * k) / 2.0) * Complex(g[0], g[1]);
    }
  }
}

void Burgers1d::nonlinear(const std::vector<Complex>& v, std::vector<Complex>& out) const {
  double* u = fft_->real();
  Complex* modes = fft_->modes();
  std::copy(v.begin(), v.end(), modes);  // c2r overwrites its input
  fft_->backward();
  for (int j = 0; j < n_; ++j) u[j] = 0.5 * u[j] * u[j];
  fft_->forward();
  const double scale = 1.0 / n_;
  for (int k = 0; k < nk_; ++k) out[k] = Complex(0.0, -2.0 * M_PI * k * scale * mask_[k]) * modes[k];
}

void Burgers1d::advance() {
  PDS_CHECK(output_index_ < options_.outputs,
            "burgers1d: trajectory already has all " << options_.outputs << " outputs; call reset() first");
  const auto n = [this](const std::vector<Complex>& v, std::vector<Complex>& out) { nonlinear(v, out); };
  for (int s = 0; s < steps_per_output_; ++s) {
    etdrk4_.step(v_, n);
    ++steps_;
    time_ = steps_ * h_;
  }
  ++output_index_;
  time_ = output_index_ * output_interval();
  // Replicas compute the same thing; the broadcast makes "the same" exact even if a rank's
  // floating point differed (another CPU of a heterogeneous job).
  if (comm_size(comm_) > 1) MPI_Bcast(v_.data(), 2 * nk_, MPI_DOUBLE, 0, comm_);
  bool finite = true;
  for (const auto& c : v_) finite = finite && std::isfinite(c.real()) && std::isfinite(c.imag());
  PDS_CHECK(finite, "burgers1d: the solution is not finite at t = "
                        << time_ << " (nu = " << params_.at("nu") << ", dt = " << h_
                        << "): reduce dt or raise solve_nx");
}

std::vector<double> Burgers1d::solve_grid_values() const {
  std::copy(v_.begin(), v_.end(), fft_->modes());
  fft_->backward();
  return std::vector<double>(fft_->real(), fft_->real() + n_);
}

Field Burgers1d::snapshot() const {
  const std::vector<double> u = solve_grid_values();
  const int stride = n_ / options_.nx;
  Field f({"u"}, box_);
  for (int i = box_.lo[0]; i < box_.hi[0]; ++i) f.at(i, 0, 0, 0) = u[static_cast<std::size_t>(i) * stride];
  return f;
}

}  // namespace pdestream::solvers
