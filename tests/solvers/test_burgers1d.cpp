// burgers1d verification: the exact Cole-Hopf solution (spectral convergence in space,
// fourth order in time), energy decay of the FNO setting, 1-rank vs many-rank agreement,
// statistics of the random initial field against its covariance, and error paths.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "solvers/burgers1d.hpp"

using namespace pdestream;
using solvers::Burgers1d;
using solvers::Burgers1dOptions;

namespace {

constexpr double pi = M_PI;

// Cole-Hopf: u = -2 nu phi_x / phi with phi_t = nu phi_xx. phi = a0 + sum_m b_m e^{-nu (2 pi m)^2 t}
// cos(2 pi m x + theta_m) stays positive (a0 > sum |b_m|), so u is an exact, smooth,
// strongly nonlinear periodic solution (|u| reaches ~3 with these numbers at nu = 0.1).
struct ColeHopf {
  double nu = 0.1;
  double a0 = 1.0;
  std::vector<double> b = {0.6, 0.25};
  std::vector<double> theta = {0.0, 1.3};

  double operator()(double x, double t) const {
    double phi = a0, phi_x = 0;
    for (std::size_t m = 0; m < b.size(); ++m) {
      const double k = 2 * pi * (m + 1), decay = std::exp(-nu * k * k * t);
      phi += b[m] * decay * std::cos(k * x + theta[m]);
      phi_x -= b[m] * decay * k * std::sin(k * x + theta[m]);
    }
    return -2 * nu * phi_x / phi;
  }
};

// Max-norm error at the current time over the whole solve grid.
double cole_hopf_error(const Burgers1d& s, const ColeHopf& exact) {
  const auto u = s.solve_grid_values();
  double err = 0;
  for (std::size_t j = 0; j < u.size(); ++j)
    err = std::max(err, std::abs(u[j] - exact(static_cast<double>(j) / u.size(), s.time())));
  return err;
}

double run_cole_hopf(int n, double t_final, int steps, const ColeHopf& exact) {
  Burgers1dOptions o;
  o.nx = o.solve_nx = n;
  o.t_final = t_final;
  o.outputs = 1;
  o.dt = t_final / steps;
  o.defaults["nu"] = exact.nu;
  Burgers1d s(o, MPI_COMM_SELF);
  s.set_initial([&](double x) { return exact(x, 0.0); });
  s.reset({});
  EXPECT_EQ(s.steps_per_output(), steps);
  s.advance();
  EXPECT_DOUBLE_EQ(s.time(), t_final);
  return cole_hopf_error(s, exact);
}

// The whole output grid on every rank (blocks gathered).
std::vector<double> gather(const Burgers1d& s) {
  Field f = s.snapshot();
  std::vector<double> all(s.grid().shape[0], 0.0), sum(all.size());
  for (int i = f.box().lo[0]; i < f.box().hi[0]; ++i) all[i] = f.at(i, 0, 0, 0);
  MPI_Allreduce(all.data(), sum.data(), static_cast<int>(all.size()), MPI_DOUBLE, MPI_SUM, s.comm());
  return sum;
}

// Fourier coefficient u_k = (1/n) sum_j u_j e^{-2 pi i k j / n} by direct summation: the
// test does not trust the solver's FFT.
std::complex<double> dft(const std::vector<double>& u, int k) {
  std::complex<double> c = 0;
  const int n = static_cast<int>(u.size());
  for (int j = 0; j < n; ++j) c += u[j] * std::polar(1.0, -2 * pi * k * j / n);
  return c / static_cast<double>(n);
}

// The FNO covariance 625 (-Laplacian + 25 I)^-2, written out independently of the solver.
double fno_mode_variance(int k) {
  const double lambda = 4 * pi * pi * k * k + 25.0;
  return 625.0 / (lambda * lambda);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

}  // namespace

// Exponential convergence in N: the Cole-Hopf solution is analytic in a strip, so the error
// falls by a roughly constant factor per added mode until round-off (~1e-11 here). dt is
// small enough (ETDRK4 error ~1e-13, see the next test) that the error is spatial.
TEST(Burgers1d, ColeHopfSpectralConvergenceInSpace) {
  const ColeHopf exact;
  const double t_final = 0.1;
  std::vector<int> sizes = {16, 24, 32, 48, 64};
  std::vector<double> errors;
  for (int n : sizes) errors.push_back(run_cole_hopf(n, t_final, 200, exact));
  for (std::size_t k = 0; k < sizes.size(); ++k) std::printf("  N = %3d  max error %.3e\n", sizes[k], errors[k]);
  // Geometric decay: every step up in N gains at least a factor 8 (algebraic order p would
  // give only (N2/N1)^p, e.g. 1.5^4 = 5 for p = 4), down to near round-off.
  for (std::size_t k = 1; k < sizes.size(); ++k) {
    if (errors[k - 1] < 1e-9) break;
    EXPECT_GT(errors[k - 1] / errors[k], 8.0) << "N " << sizes[k - 1] << " -> " << sizes[k];
  }
  // The decay rate is exponential: log error is at least linear in N.
  const double rate = std::log(errors[0] / errors[3]) / (sizes[3] - sizes[0]);
  EXPECT_GT(rate, 0.25) << "errors decay like exp(-" << rate << " N)";
  EXPECT_LT(errors.back(), 1e-10);  // round-off level for |u| ~ 3, |u_x| ~ 40
  EXPECT_GT(errors.front(), 1e-4);  // the coarse grid really is under-resolved
}

// Fourth order in time: N = 64 is exact to round-off in space (see above).
TEST(Burgers1d, ColeHopfFourthOrderInTime) {
  const ColeHopf exact;
  const double t_final = 0.5;
  std::vector<int> steps = {5, 10, 20, 40};
  std::vector<double> errors;
  for (int s : steps) errors.push_back(run_cole_hopf(64, t_final, s, exact));
  for (std::size_t k = 0; k < steps.size(); ++k)
    std::printf("  dt = %.4f  max error %.3e\n", t_final / steps[k], errors[k]);
  for (std::size_t k = 1; k < errors.size(); ++k) {
    const double order = std::log2(errors[k - 1] / errors[k]);
    std::printf("  observed order %.3f\n", order);
    EXPECT_NEAR(order, 4.0, 0.35) << "errors " << errors[k - 1] << " -> " << errors[k];
  }
  EXPECT_LT(errors.back(), 2e-7);
}

// The FNO setting end to end (8192 points, T = 1, nu = 0.1): finite, mean preserved, and
// the energy of every output below the previous one (d/dt int u^2/2 = -nu int u_x^2).
TEST(Burgers1d, FnoSettingDissipatesEnergy) {
  Config c = Config::parse("[solver]\nname = \"burgers1d\"\nnx = 256\noutputs = 4\n", "b.toml");
  auto s = solvers::make_solver("", c, MPI_COMM_WORLD);
  auto* b = dynamic_cast<Burgers1d*>(s.get());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->options().solve_nx, 8192);
  EXPECT_DOUBLE_EQ(b->default_parameters().at("nu"), 0.1);
  s->reset({{"ic_seed", 12345.6}});
  auto energy_and_mean = [&] {
    const auto u = b->solve_grid_values();
    double e = 0, m = 0;
    for (double v : u) e += v * v, m += v;
    return std::make_pair(e / u.size(), m / u.size());
  };
  auto [e_prev, m0] = energy_and_mean();
  EXPECT_NEAR(m0, 0.0, 1e-14);
  EXPECT_GT(e_prev, 0.05);  // a genuinely O(1) random field
  while (s->output_index() < s->num_outputs()) {
    s->advance();
    auto [e, m] = energy_and_mean();
    EXPECT_LT(e, e_prev) << "t = " << s->time();
    EXPECT_NEAR(m, 0.0, 1e-12) << "mean not conserved at t = " << s->time();
    e_prev = e;
  }
  EXPECT_DOUBLE_EQ(s->time(), 1.0);
  EXPECT_TRUE(s->snapshot().all_finite());
}

// The output subsamples the solve grid: output point i is solve point i * solve_nx / nx.
TEST(Burgers1d, OutputSubsamplesSolveGrid) {
  Burgers1dOptions o;
  o.nx = 32;
  o.solve_nx = 256;
  o.outputs = 2;
  o.t_final = 0.2;
  Burgers1d s(o, MPI_COMM_SELF);
  s.reset({{"ic_seed", 7}});
  s.advance();
  const auto fine = s.solve_grid_values();
  Field f = s.snapshot();
  ASSERT_EQ(f.box().lo[0], 0);
  ASSERT_EQ(f.box().hi[0], 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(f.at(i, 0, 0, 0), fine[i * 8]);
  EXPECT_TRUE(s.grid().periodic[0]);
  EXPECT_DOUBLE_EQ(s.grid().coordinate(0, 31), 31.0 / 32);
}

// One trajectory on all ranks of the world (replicated, each rank returns its slab) and on
// each rank alone: identical, and the slabs tile the output grid.
TEST(Burgers1d, SameFieldOnOneAndManyRanks) {
  Burgers1dOptions o;
  o.nx = 50;
  o.solve_nx = 400;
  o.outputs = 3;
  o.t_final = 0.3;
  Burgers1d parallel(o, MPI_COMM_WORLD), serial(o, MPI_COMM_SELF);
  const Parameters p = {{"ic_seed", 99.0}, {"nu", 0.05}};
  parallel.reset(p);
  serial.reset(p);
  double worst = 0;
  for (int k = 0; k < o.outputs; ++k) {
    parallel.advance();
    serial.advance();
    Field mine = parallel.snapshot(), whole = serial.snapshot();
    ASSERT_TRUE(whole.box().contains(mine.box()));
    for (int i = mine.box().lo[0]; i < mine.box().hi[0]; ++i)
      worst = std::max(worst, std::abs(mine.at(i, 0, 0, 0) - whole.at(i, 0, 0, 0)));
  }
  double global = 0;
  MPI_Allreduce(&worst, &global, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_EQ(global, 0.0);
  unsigned long long points = parallel.local_box().num_points(), total = 0;
  MPI_Allreduce(&points, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(total, 50u);
  EXPECT_EQ(parallel.local_box().extent(0) > 0, true);
}

// The initial field against N(0, 625 (-Laplacian + 25 I)^-2): per-mode power E|u_k|^2 / mu_k
// = 1 (each ratio is Exp(1)-distributed), zero mean, the pointwise variance sum_k mu_k, and
// the real and imaginary parts uncorrelated. 400 seeds: the tolerances are ~5 standard
// errors, so a wrong sigma, tau, alpha or a factor 2 in the normalisation fails.
TEST(Burgers1d, RandomInitialFieldMatchesCovariance) {
  Burgers1dOptions o;
  o.nx = o.solve_nx = 64;
  Burgers1d s(o, MPI_COMM_WORLD);
  const int seeds = 400, kmax = 6;
  std::vector<double> power(kmax + 1, 0.0);
  double var_sum = 0, mean_sum = 0, cross = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    s.reset({{"ic_seed", seed * 1000.0 + 0.5}});
    const auto u = gather(s);
    for (int k = 1; k <= kmax; ++k) {
      const auto c = dft(u, k);
      power[k] += std::norm(c) / fno_mode_variance(k);
      cross += c.real() * c.imag() / fno_mode_variance(k);
    }
    double m = 0, v = 0;
    for (double x : u) m += x, v += x * x;
    mean_sum += m / u.size();
    var_sum += v / u.size();
  }
  double pooled = 0;
  for (int k = 1; k <= kmax; ++k) {
    power[k] /= seeds;
    pooled += power[k] / kmax;
    EXPECT_NEAR(power[k], 1.0, 5.0 / std::sqrt(seeds)) << "mode " << k;
  }
  EXPECT_NEAR(pooled, 1.0, 5.0 / std::sqrt(seeds * kmax));
  EXPECT_NEAR(cross / (seeds * kmax), 0.0, 5.0 * 0.5 / std::sqrt(seeds * kmax));
  EXPECT_LT(std::abs(mean_sum / seeds), 1e-14);
  double expected_var = 0;  // modes 0 < |k| < n/2
  for (int k = 1; k < 32; ++k) expected_var += 2 * fno_mode_variance(k);
  // The pointwise variance is dominated by k = 1 (Exp-distributed power): relative
  // standard error about 0.75 / sqrt(seeds).
  EXPECT_NEAR(var_sum / seeds / expected_var, 1.0, 5 * 0.75 / std::sqrt(seeds));
  std::printf("  E|u_k|^2/mu_k pooled %.3f; pointwise variance %.4f (expected %.4f)\n", pooled, var_sum / seeds,
              expected_var);
}

// ic_seed is floored; the field's modes depend on the seed only, not on the resolution.
TEST(Burgers1d, SeedsAreFlooredAndResolutionIndependent) {
  Burgers1dOptions o;
  o.nx = o.solve_nx = 64;
  Burgers1d coarse(o, MPI_COMM_SELF);
  o.nx = o.solve_nx = 256;
  Burgers1d fine(o, MPI_COMM_SELF);
  coarse.reset({{"ic_seed", 3.2}});
  const auto a = coarse.solve_grid_values();
  coarse.reset({{"ic_seed", 3.9}});
  EXPECT_EQ(a, coarse.solve_grid_values());
  coarse.reset({{"ic_seed", 4.0}});
  EXPECT_NE(a, coarse.solve_grid_values());
  fine.reset({{"ic_seed", 3.0}});
  const auto b = fine.solve_grid_values();
  for (int k = 1; k < 31; ++k) EXPECT_LT(std::abs(dft(a, k) - dft(b, k)), 1e-14) << "mode " << k;
}

TEST(Burgers1d, BadInputGivesClearErrors) {
  auto make = [](const std::string& body) {
    Config c = Config::parse("[solver]\nname = \"burgers1d\"\n" + body, "b.toml");
    return solvers::make_solver("", c, MPI_COMM_WORLD);
  };
  EXPECT_NE(message_of([&] { make("nxx = 3\n"); }).find("b.toml: [solver] nxx: unknown key"), std::string::npos);
  EXPECT_EQ(message_of([&] { make("nx = 1000\n"); }),
            "b.toml: [solver] nx: expected a divisor of solve_nx = 8192 (the output subsamples the solve grid), "
            "got 1000");
  EXPECT_EQ(message_of([&] { make("nx = 9\nsolve_nx = 81\n"); }),
            "b.toml: [solver] solve_nx: expected an even number of points, got 81");
  EXPECT_NE(message_of([&] { make("nu = -1\n"); }).find("b.toml: [solver] nu: expected"), std::string::npos);
  EXPECT_NE(message_of([&] { make("dealias = 3\n"); }).find("b.toml: [solver] dealias"), std::string::npos);

  Burgers1dOptions o;
  o.nx = o.solve_nx = 32;
  o.t_final = 0.1;
  Burgers1d s(o, MPI_COMM_WORLD);
  EXPECT_EQ(message_of([&] { s.reset({{"alpha", 1.0}}); }),
            "burgers1d has no parameter 'alpha'; expected ic_seed, nu");
  EXPECT_EQ(message_of([&] { s.reset({{"nu", 0.0}}); }), "burgers1d parameter nu must be > 0, got 0");
  EXPECT_EQ(message_of([&] { s.reset({{"ic_seed", -1.0}}); }),
            "burgers1d parameter ic_seed must be a number in [0, 2^53), got -1");
  EXPECT_NE(message_of([&] { s.reset({{"nu", std::nan("")}}); }).find("must be finite"), std::string::npos);
  s.reset({});
  s.advance();
  EXPECT_NE(message_of([&] { s.advance(); }).find("already has all 1 outputs"), std::string::npos);

  // An unresolved, unstable run (tiny viscosity, huge step) stops with a clear message.
  Burgers1dOptions wild = o;
  wild.t_final = 50.0;
  wild.dt = 1.0;
  wild.defaults["nu"] = 1e-6;
  wild.ic.sigma = 1e4;
  Burgers1d w(wild, MPI_COMM_WORLD);
  EXPECT_NE(message_of([&] { w.advance(); }).find("burgers1d: the solution is not finite at t = 50"),
            std::string::npos);
}
