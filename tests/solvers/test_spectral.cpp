// The shared spectral pieces on problems with exact answers: the 1D real FFT's round trip
// and convention, and ETDRK4 (any real diagonal symbol, e.g. Kuramoto-Sivashinsky's
// k^2 - nu k^4) exact for the linear part and for a constant forcing, and fourth order on a
// nonlinear scalar ODE per mode.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <vector>

#include "solvers/spectral.hpp"

using namespace pdestream::solvers::spectral;

TEST(RealFft1d, ForwardIsTheUnnormalisedSumAndBackwardInvertsIt) {
  const int n = 16;
  RealFft1d fft(n, "test");
  ASSERT_EQ(fft.modes_size(), 9);
  for (int j = 0; j < n; ++j) fft.real()[j] = 1.5 + std::cos(2 * M_PI * 3 * j / n) - 2 * std::sin(2 * M_PI * 5 * j / n);
  fft.forward();
  // u = 1.5 + (e^{3} + e^{-3}) / 2 + i (e^{5} - e^{-5}): FFTW's sum is n times the coefficients.
  EXPECT_NEAR(fft.modes()[0].real(), 1.5 * n, 1e-12);
  EXPECT_NEAR(fft.modes()[3].real(), 0.5 * n, 1e-12);
  EXPECT_NEAR(fft.modes()[5].imag(), 1.0 * n, 1e-12);
  EXPECT_NEAR(std::abs(fft.modes()[1]), 0.0, 1e-12);
  for (int k = 0; k < fft.modes_size(); ++k) fft.modes()[k] /= n;
  fft.backward();
  for (int j = 0; j < n; ++j)
    EXPECT_NEAR(fft.real()[j], 1.5 + std::cos(2 * M_PI * 3 * j / n) - 2 * std::sin(2 * M_PI * 5 * j / n), 1e-12);
}

// A Kuramoto-Sivashinsky-like symbol: growing, neutral, decaying and very stiff modes.
std::vector<double> ks_symbol() {
  std::vector<double> l;
  for (int k = 0; k < 40; ++k) {
    const double q = 2 * M_PI * k / 22.0;
    l.push_back(q * q - q * q * q * q);
  }
  return l;
}

TEST(Etdrk4, ExactForTheLinearPartAndForAConstantForcing) {
  const auto l = ks_symbol();
  const double h = 0.25;
  Etdrk4 scheme;
  scheme.set(l, h);
  std::vector<Complex> v(l.size()), f(l.size());
  for (std::size_t k = 0; k < l.size(); ++k) {
    v[k] = Complex(1.0 / (1 + k), 0.5 - 0.01 * k);
    f[k] = Complex(0.3, -0.2 * std::sin(k));
  }
  const auto v0 = v;
  // v' = L v + f: v(h) = e^{Lh} v0 + (e^{Lh} - 1) / L f, and v0 + h f where L = 0.
  scheme.step(v, [&](const std::vector<Complex>&, std::vector<Complex>& out) { out = f; });
  double worst = 0;
  for (std::size_t k = 0; k < l.size(); ++k) {
    const double e = std::exp(l[k] * h), phi = l[k] == 0 ? h : std::expm1(l[k] * h) / l[k];
    worst = std::max(worst, std::abs(v[k] - (e * v0[k] + phi * f[k])) / (1 + std::abs(v0[k])));
  }
  EXPECT_LT(worst, 1e-13) << "the linear part and a constant forcing are integrated exactly";
  // N = 0 with the stiffest mode at h L = -1e5: e^{Lh} underflows to 0, no NaN.
  std::vector<double> stiff = {-4e5, -1.0, 0.0, 2.0};
  scheme.set(stiff, h);
  std::vector<Complex> w = {1.0, 1.0, 1.0, 1.0};
  scheme.step(w, [](const std::vector<Complex>& x, std::vector<Complex>& out) { out.assign(x.size(), 0.0); });
  EXPECT_EQ(w[0], Complex(0.0));
  EXPECT_NEAR(w[1].real(), std::exp(-h), 1e-15);
  EXPECT_EQ(w[2], Complex(1.0));
  EXPECT_NEAR(w[3].real(), std::exp(2 * h), 1e-14);
}

// v' = L v - v^2 per mode (real), solved to t = 1 against a fine-step reference: the error
// falls 16-fold when h halves.
TEST(Etdrk4, FourthOrderOnANonlinearProblem) {
  const std::vector<double> l = {-3.0, -0.5, 0.0, 0.7};
  auto solve = [&](int steps) {
    Etdrk4 scheme;
    scheme.set(l, 1.0 / steps);
    std::vector<Complex> v = {0.8, 0.5, 0.3, 0.2};
    for (int s = 0; s < steps; ++s)
      scheme.step(v, [](const std::vector<Complex>& x, std::vector<Complex>& out) {
        out.resize(x.size());
        for (std::size_t k = 0; k < x.size(); ++k) out[k] = -x[k] * x[k];
      });
    return v;
  };
  // Exact: the logistic-type Bernoulli equation v' = L v - v^2 has
  // v(t) = L v0 e^{Lt} / (L + v0 (e^{Lt} - 1)), and v0 / (1 + v0 t) for L = 0.
  std::vector<double> exact;
  for (std::size_t k = 0; k < l.size(); ++k) {
    const double v0 = std::vector<double>{0.8, 0.5, 0.3, 0.2}[k], L = l[k];
    exact.push_back(L == 0 ? v0 / (1 + v0) : L * v0 * std::exp(L) / (L + v0 * std::expm1(L)));
  }
  std::vector<double> errors;
  for (int steps : {4, 8, 16, 32}) {
    const auto v = solve(steps);
    double e = 0;
    for (std::size_t k = 0; k < l.size(); ++k) e = std::max(e, std::abs(v[k].real() - exact[k]));
    errors.push_back(e);
  }
  for (std::size_t i = 1; i < errors.size(); ++i) {
    const double order = std::log2(errors[i - 1] / errors[i]);
    std::printf("ETDRK4 h = 1/%d: error %.3e, order %.2f\n", 4 << i, errors[i], order);
    EXPECT_GT(order, 3.7);
  }
}
