#include "solvers/spectral.hpp"

#include <fftw3.h>

#include <cmath>

#include "core/error.hpp"
#include "core/random.hpp"

namespace pdestream::solvers::spectral {

double GrfSpec::mode_variance(double k2) const {
  if (k2 <= 0) return 0.0;
  const double lambda = 4.0 * M_PI * M_PI * k2 + tau * tau;
  return sigma * sigma * std::pow(lambda, -alpha);
}

namespace {

// Uniform in (0, 1]: never 0, so the logarithm of Box-Muller is finite.
double unit_open_closed(std::uint64_t bits) { return (static_cast<double>(bits >> 11) + 1.0) * 0x1.0p-53; }

}  // namespace

std::array<double, 2> gaussian_pair(std::uint64_t seed, std::int64_t a, std::int64_t b) {
  // Chained hashing keeps (seed, a, b) and (seed, b, a) apart.
  const std::uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ static_cast<std::uint64_t>(a)) ^
                                     static_cast<std::uint64_t>(b) * 0xD1B54A32D192ED03ULL);
  const double u1 = unit_open_closed(splitmix64(h ^ 0x243F6A8885A308D3ULL));
  const double u2 = unit_open_closed(splitmix64(h ^ 0x13198A2E03707344ULL));
  const double r = std::sqrt(-2.0 * std::log(u1)), phi = 2.0 * M_PI * u2;
  return {r * std::cos(phi), r * std::sin(phi)};
}

std::uint64_t seed_from_parameter(const std::string& solver, const std::string& name, double value) {
  constexpr double limit = 9007199254740992.0;  // 2^53: every integer below is exact
  PDS_CHECK(std::isfinite(value) && value >= 0.0 && value < limit,
            solver << " parameter " << name << " must be a number in [0, 2^53), got " << value);
  return static_cast<std::uint64_t>(std::floor(value));
}

std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

RealFft1d::RealFft1d(int n, const std::string& owner) : n_(n) {
  PDS_CHECK(n >= 2, owner << ": expected an FFT of at least 2 points, got " << n);
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  real_ = fftw_alloc_real(n);
  modes_ = reinterpret_cast<Complex*>(fftw_alloc_complex(n / 2 + 1));
  if (real_ && modes_) {
    r2c_ = fftw_plan_dft_r2c_1d(n, real_, reinterpret_cast<fftw_complex*>(modes_), FFTW_ESTIMATE);
    c2r_ = fftw_plan_dft_c2r_1d(n, reinterpret_cast<fftw_complex*>(modes_), real_, FFTW_ESTIMATE);
  }
  if (!(r2c_ && c2r_)) {
    if (r2c_) fftw_destroy_plan(r2c_);
    if (c2r_) fftw_destroy_plan(c2r_);
    fftw_free(real_);
    fftw_free(modes_);
    PDS_FAIL(owner << ": cannot allocate or plan an FFT of " << n << " points");
  }
}

RealFft1d::~RealFft1d() {
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  fftw_destroy_plan(r2c_);
  fftw_destroy_plan(c2r_);
  fftw_free(real_);
  fftw_free(modes_);
}

std::vector<double> dealias_mask(int n, bool dealias) {
  std::vector<double> mask(n / 2 + 1, 1.0);
  for (int k = 0; k <= n / 2; ++k)
    if (k == n / 2 || (dealias && 3 * k > n)) mask[k] = 0.0;
  return mask;
}

void RealFft1d::forward() const { fftw_execute(r2c_); }
void RealFft1d::backward() const { fftw_execute(c2r_); }

void Etdrk4::set(const std::vector<double>& symbol, double h) {
  constexpr int M = 32;
  const std::size_t n = symbol.size();
  h_ = h;
  for (auto* c : {&e_, &e2_, &q_, &f1_, &f2_, &f3_}) c->assign(n, 0.0);
  for (auto* w : {&nv_, &na_, &nb_, &nc_, &a_, &b_, &c_}) w->assign(n, 0.0);
  for (std::size_t k = 0; k < n; ++k) {
    const double z = symbol[k] * h;
    e_[k] = std::exp(z);
    e2_[k] = std::exp(z / 2);
    double q = 0, f1 = 0, f2 = 0, f3 = 0;
    for (int j = 1; j <= M; ++j) {
      // The upper half circle: the integrands are real on the real axis, so the real part of
      // the mean over it is the mean over the whole circle.
      const Complex r = std::polar(1.0, M_PI * (j - 0.5) / M);
      const Complex lr = z + r, el = std::exp(lr), lr3 = lr * lr * lr;
      q += ((std::exp(lr / 2.0) - 1.0) / lr).real();
      f1 += ((-4.0 - lr + el * (4.0 - 3.0 * lr + lr * lr)) / lr3).real();
      f2 += ((2.0 + lr + el * (-2.0 + lr)) / lr3).real();
      f3 += ((-4.0 - 3.0 * lr - lr * lr + el * (4.0 - lr)) / lr3).real();
    }
    q_[k] = h * q / M;
    f1_[k] = h * f1 / M;
    f2_[k] = h * f2 / M;
    f3_[k] = h * f3 / M;
  }
}

void Etdrk4::step(std::vector<Complex>& v, const Nonlinear& n) {
  const std::size_t m = e_.size();
  PDS_CHECK(v.size() == m, "ETDRK4: expected a state of " << m << " modes, got " << v.size());
  n(v, nv_);
  for (std::size_t k = 0; k < m; ++k) a_[k] = e2_[k] * v[k] + q_[k] * nv_[k];
  n(a_, na_);
  for (std::size_t k = 0; k < m; ++k) b_[k] = e2_[k] * v[k] + q_[k] * na_[k];
  n(b_, nb_);
  for (std::size_t k = 0; k < m; ++k) c_[k] = e2_[k] * a_[k] + q_[k] * (2.0 * nb_[k] - nv_[k]);
  n(c_, nc_);
  for (std::size_t k = 0; k < m; ++k)
    v[k] = e_[k] * v[k] + f1_[k] * nv_[k] + 2.0 * f2_[k] * (na_[k] + nb_[k]) + f3_[k] * nc_[k];
}

}  // namespace pdestream::solvers::spectral
