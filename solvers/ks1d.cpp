#include "solvers/ks1d.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "core/random.hpp"
#include "core/runtime.hpp"

namespace pdestream::solvers {

Ks1dOptions Ks1dOptions::from_section(SectionReader& s) {
  Ks1dOptions o;
  o.nx = static_cast<int>(s.get_int("nx", o.nx, 8, 1 << 22));
  PDS_CHECK(o.nx % 2 == 0, s.where("nx") << ": expected an even number of points, got " << o.nx);
  o.dt = s.get_double("dt", o.dt, 1e-9, 1e3);
  o.dt_out = s.get_double("dt_out", o.dt_out, 1e-9, 1e6);
  o.t_final = s.get_double("t_final", o.t_final, 1e-9, 1e9);
  o.burn_in = s.get_double("burn_in", o.burn_in, 0.0, 1e9);
  o.dealias = s.get_bool("dealias", o.dealias);
  o.defaults["ic_seed"] = s.get_double("ic_seed", o.defaults["ic_seed"], 0.0, 9007199254740991.0);
  o.defaults["L"] = s.get_double("L", o.defaults["L"], 1e-6, 1e9);
  o.defaults["nu"] = s.get_double("nu", o.defaults["nu"], 1e-9, 1e9);
  return o;
}

std::vector<double> Ks1d::random_initial_state(int n, double, std::uint64_t seed) {
  std::vector<double> u(n, 0.0);
  for (int j = 0; j < 10; ++j) {
    const double a = uniform01(seed, 3 * j) - 0.5;
    const double l = uniform01(seed, 3 * j + 1) < 0.5 ? 1.0 : 2.0;
    const double phi = 2 * M_PI * uniform01(seed, 3 * j + 2);
    for (int i = 0; i < n; ++i) u[i] += a * std::sin(2 * M_PI * l * i / n + phi);  // x_i / L = i / n
  }
  return u;
}

Ks1d::Ks1d(const Ks1dOptions& options, MPI_Comm comm) : options_(options), comm_(comm) {
  const auto& o = options_;
  const int size = comm_size(comm_), rank = comm_rank(comm_);
  PDS_CHECK(o.nx >= 8 && o.nx % 2 == 0, "ks1d needs an even nx >= 8, got " << o.nx);
  PDS_CHECK(o.nx >= size, "ks1d on " << size << " ranks needs nx >= " << size
                                     << " (each rank returns a slab of the grid), got nx = " << o.nx);
  PDS_CHECK(o.dt > 0 && o.dt_out > 0 && o.t_final > 0 && o.burn_in >= 0,
            "ks1d needs dt, dt_out, t_final > 0 and burn_in >= 0, got " << o.dt << ", " << o.dt_out << ", "
                                                                      << o.t_final << ", " << o.burn_in);
  const double ratio = o.t_final / o.dt_out;
  outputs_ = static_cast<int>(std::llround(ratio));
  PDS_CHECK(outputs_ >= 1 && std::abs(ratio - outputs_) <= 1e-9 * ratio,
            "ks1d: t_final / dt_out must be a whole number of frames, got " << o.t_final << " / " << o.dt_out << " = "
                                                                           << ratio);
  // Whole steps per frame interval, no larger than dt, so frames fall exactly on steps.
  steps_per_output_ = std::max(1, static_cast<int>(std::ceil(o.dt_out / o.dt * (1.0 - 1e-12))));
  h_ = o.dt_out / steps_per_output_;

  grid_.dim = 1;
  grid_.shape = {o.nx, 1, 1};
  grid_.lower = {0.0, 0.0, 0.0};
  grid_.upper = {o.defaults.at("L"), 0.0, 0.0};
  grid_.periodic = {true, false, false};
  grid_.validate();
  box_.lo = {static_cast<int>(static_cast<long long>(rank) * o.nx / size), 0, 0};
  box_.hi = {static_cast<int>(static_cast<long long>(rank + 1) * o.nx / size), 1, 1};

  nk_ = o.nx / 2 + 1;
  v_.assign(nk_, 0.0);
  mask_ = spectral::dealias_mask(o.nx, o.dealias);
  fft_ = std::make_unique<spectral::RealFft1d>(o.nx, "ks1d");
  params_ = o.defaults;
  reset(o.defaults);
}

Ks1d::~Ks1d() = default;

void Ks1d::reset(const Parameters& params) {
  Parameters next = merged_parameters(params);
  PDS_CHECK(next["L"] > 0 && next["nu"] > 0,
            "ks1d parameters L and nu must be > 0, got L = " << next["L"] << ", nu = " << next["nu"]);
  const std::uint64_t seed = spectral::seed_from_parameter("ks1d", "ic_seed", next["ic_seed"]);
  params_ = next;
  const double length = params_["L"], nu = params_["nu"];
  if (length != coefficients_for_[0] || nu != coefficients_for_[1]) {
    q_.assign(nk_, 0.0);
    std::vector<double> symbol(nk_);
    for (int k = 0; k < nk_; ++k) {
      q_[k] = 2 * M_PI * k / length;
      symbol[k] = q_[k] * q_[k] - nu * q_[k] * q_[k] * q_[k] * q_[k];
    }
    etdrk4_.set(symbol, h_);
    coefficients_for_[0] = length;
    coefficients_for_[1] = nu;
  }
  const int n = options_.nx;
  std::vector<double> u0;
  if (initial_) {
    for (int i = 0; i < n; ++i) u0.push_back(initial_(i * length / n, length));
  } else {
    u0 = random_initial_state(n, length, seed);
  }
  std::copy(u0.begin(), u0.end(), fft_->real());
  fft_->forward();
  for (int k = 0; k < nk_; ++k) v_[k] = fft_->modes()[k] / static_cast<double>(n);
  v_[nk_ - 1] = 0.0;  // the Nyquist mode has no derivative; the dynamics never excite it
  time_ = 0.0;
  output_index_ = 0;
  // The burn-in: whole steps of h, the time then restarts at the first stored frame.
  steps(std::llround(options_.burn_in / h_));
  check_finite("after the burn-in");
}

void Ks1d::nonlinear(const std::vector<Complex>& v, std::vector<Complex>& out) const {
  const int n = options_.nx;
  double* u = fft_->real();
  Complex* modes = fft_->modes();
  std::copy(v.begin(), v.end(), modes);  // c2r overwrites its input
  fft_->backward();
  for (int j = 0; j < n; ++j) u[j] = 0.5 * u[j] * u[j];
  fft_->forward();
  // -(u^2/2)_x: -i q_k times the coefficients of u^2/2.
  for (int k = 0; k < nk_; ++k) out[k] = Complex(0.0, -q_[k] * mask_[k] / n) * modes[k];
}

void Ks1d::steps(long long count) {
  const auto n = [this](const std::vector<Complex>& v, std::vector<Complex>& out) { nonlinear(v, out); };
  for (long long s = 0; s < count; ++s) etdrk4_.step(v_, n);
}

void Ks1d::check_finite(const char* where) const {
  bool finite = true;
  for (const auto& c : v_) finite = finite && std::isfinite(c.real()) && std::isfinite(c.imag());
  PDS_CHECK(finite, "ks1d: the state is not finite " << where << " (L = " << params_.at("L")
                                                     << ", nu = " << params_.at("nu") << ", dt = " << h_
                                                     << "): reduce dt");
}

void Ks1d::advance() {
  PDS_CHECK(output_index_ < outputs_,
            "ks1d: trajectory already has all " << outputs_ << " frames after the first; call reset() first");
  steps(steps_per_output_);
  ++output_index_;
  time_ = output_index_ * options_.dt_out;
  // Replicas compute the same thing; the broadcast makes "the same" exact.
  if (comm_size(comm_) > 1) MPI_Bcast(v_.data(), 2 * nk_, MPI_DOUBLE, 0, comm_);
  std::ostringstream where;
  where << "at t = " << time_ << " after the burn-in";
  check_finite(where.str().c_str());
}

std::vector<double> Ks1d::values() const {
  std::copy(v_.begin(), v_.end(), fft_->modes());
  fft_->backward();
  return std::vector<double>(fft_->real(), fft_->real() + options_.nx);
}

Field Ks1d::snapshot() const {
  const auto u = values();
  Field f({"u"}, box_);
  for (int i = box_.lo[0]; i < box_.hi[0]; ++i) f.at(i, 0, 0, 0) = u[i];
  return f;
}

}  // namespace pdestream::solvers
