// ns2d verification: the exact decaying Taylor-Green vortex (second order in dt, velocity
// channels), a manufactured solution with an active nonlinear term (second order in dt),
// 1-rank vs many-rank agreement of the FFTW-MPI slab solve, statistics of the random
// initial vorticity against its covariance, and error paths.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "solvers/ns2d.hpp"

using namespace pdestream;
using solvers::Ns2d;
using solvers::Ns2dOptions;

namespace {

constexpr double pi = M_PI;

using Exact = std::function<double(double x, double y, double t)>;

// Max-norm error of channel c of the snapshot against exact(x, y, t), over all ranks.
double max_error(const Ns2d& s, int c, const Exact& exact) {
  Field f = s.snapshot();
  const Box& b = f.box();
  double err = 0;
  for (int i = b.lo[0]; i < b.hi[0]; ++i)
    for (int j = b.lo[1]; j < b.hi[1]; ++j)
      err = std::max(err, std::abs(f.at(i, j, 0, c) - exact(s.grid().coordinate(0, i), s.grid().coordinate(1, j),
                                                             s.time())));
  double global = 0;
  MPI_Allreduce(&err, &global, 1, MPI_DOUBLE, MPI_MAX, s.comm());
  return global;
}

// The whole output grid of channel 0 on every rank.
std::vector<double> gather(const Ns2d& s) {
  Field f = s.snapshot();
  const int n = s.grid().shape[0];
  std::vector<double> all(static_cast<std::size_t>(n) * n, 0.0), sum(all.size());
  for (int i = f.box().lo[0]; i < f.box().hi[0]; ++i)
    for (int j = 0; j < n; ++j) all[static_cast<std::size_t>(i) * n + j] = f.at(i, j, 0, 0);
  MPI_Allreduce(all.data(), sum.data(), static_cast<int>(all.size()), MPI_DOUBLE, MPI_SUM, s.comm());
  return sum;
}

// w_k = (1/n^2) sum w(x_i, y_j) e^{-2 pi i (kx i + ky j)/n} by direct summation.
std::complex<double> dft(const std::vector<double>& w, int n, int kx, int ky) {
  std::complex<double> c = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      c += w[static_cast<std::size_t>(i) * n + j] * std::polar(1.0, -2 * pi * (kx * i + ky * j) / n);
  return c / static_cast<double>(n * n);
}

// FNO's covariance for ns_2d.py: sigma = 7^1.5, tau = 7, alpha = 2.5, written out here.
double fno_mode_variance(double k2) { return 343.0 * std::pow(4 * pi * pi * k2 + 49.0, -2.5); }

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

}  // namespace

// Taylor-Green: w = 4 pi sin(2 pi x) sin(2 pi y) e^{-8 pi^2 nu t}, velocity (sin cos, -cos sin)
// with the same decay, exact with zero forcing (u . grad w = 0). The Fourier
// discretisation is exact, so the error is Crank-Nicolson's: second order in dt.
TEST(Ns2d, TaylorGreenDecaysExactlySecondOrderInTime) {
  const double nu = 0.02, t_final = 1.0;
  const Exact w = [nu](double x, double y, double t) {
    return 4 * pi * std::sin(2 * pi * x) * std::sin(2 * pi * y) * std::exp(-8 * pi * pi * nu * t);
  };
  const Exact u = [nu](double x, double y, double t) {
    return std::sin(2 * pi * x) * std::cos(2 * pi * y) * std::exp(-8 * pi * pi * nu * t);
  };
  const Exact v = [nu](double x, double y, double t) {
    return -std::cos(2 * pi * x) * std::sin(2 * pi * y) * std::exp(-8 * pi * pi * nu * t);
  };
  std::vector<double> errors;
  for (int steps : {10, 20, 40, 80}) {
    Ns2dOptions o;
    o.nx = o.solve_nx = 16;
    o.t_final = t_final;
    o.outputs = 2;
    o.dt = t_final / steps;
    o.forcing = 0.0;
    o.initial = "taylor_green";
    o.velocity = true;
    o.cfl_max = 100;  // u . grad w vanishes identically: no advective limit to respect
    o.defaults["nu"] = nu;
    Ns2d s(o, MPI_COMM_WORLD);
    EXPECT_NEAR(max_error(s, 0, w), 0.0, 1e-13);
    while (s.output_index() < s.num_outputs()) s.advance();
    EXPECT_DOUBLE_EQ(s.time(), t_final);
    errors.push_back(max_error(s, 0, w));
    // More precisely, the error is exactly that of CN's amplification factor on this mode.
    const double a = 0.5 * s.step_size() * nu * 8 * pi * pi;
    const double cn = std::pow((1 - a) / (1 + a), steps) - std::exp(-8 * pi * pi * nu * t_final);
    EXPECT_NEAR(errors.back(), 4 * pi * std::abs(cn), 1e-12);
    // The velocity channels decay with w: relative errors agree (and their signs are right).
    EXPECT_NEAR(max_error(s, 1, u), errors.back() / (4 * pi), 1e-12);
    EXPECT_NEAR(max_error(s, 2, v), errors.back() / (4 * pi), 1e-12);
  }
  for (std::size_t k = 1; k < errors.size(); ++k) {
    const double order = std::log2(errors[k - 1] / errors[k]);
    std::printf("  Taylor-Green dt = %.4f  error %.3e  order %.3f\n", t_final / (10 << k), errors[k], order);
    EXPECT_NEAR(order, 2.0, 0.05) << "errors " << errors[k - 1] << " -> " << errors[k];
  }
  EXPECT_LT(errors.back(), 2e-4);  // |w| = 2.6 at t = 1
}

// A manufactured solution whose advection term does not vanish:
//   psi = a(t) sin(2 pi x) sin(4 pi y) + b(t) cos(4 pi x),  w = -Laplacian psi,
// and f = w_t + u . grad w - nu Laplacian w. It is band-limited (exact on a 32^2 grid after
// dealiasing), so the error is the time integrator's: second order (Heun + CN). A sign
// or orientation error in the velocity or the Jacobian gives an O(1) error here.
TEST(Ns2d, ManufacturedSolutionSecondOrderInTime) {
  const double nu = 0.01, t_final = 0.5, s = 2 * pi;
  auto a = [](double t) { return 0.05 * std::cos(t); };
  auto da = [](double t) { return -0.05 * std::sin(t); };
  auto b = [](double t) { return 0.04 * (1 + std::sin(2 * t)); };
  auto db = [](double t) { return 0.08 * std::cos(2 * t); };
  const Exact w = [=](double x, double y, double t) {
    return 5 * s * s * a(t) * std::sin(s * x) * std::sin(2 * s * y) + 4 * s * s * b(t) * std::cos(2 * s * x);
  };
  auto forcing = [=](double x, double y, double t) {
    const double u = 2 * s * a(t) * std::sin(s * x) * std::cos(2 * s * y);
    const double v = -s * a(t) * std::cos(s * x) * std::sin(2 * s * y) + 2 * s * b(t) * std::sin(2 * s * x);
    const double wx = 5 * s * s * s * a(t) * std::cos(s * x) * std::sin(2 * s * y) -
                      8 * s * s * s * b(t) * std::sin(2 * s * x);
    const double wy = 10 * s * s * s * a(t) * std::sin(s * x) * std::cos(2 * s * y);
    const double wt = 5 * s * s * da(t) * std::sin(s * x) * std::sin(2 * s * y) + 4 * s * s * db(t) * std::cos(2 * s * x);
    const double lap_w = -25 * s * s * s * s * a(t) * std::sin(s * x) * std::sin(2 * s * y) -
                         16 * s * s * s * s * b(t) * std::cos(2 * s * x);
    return wt + u * wx + v * wy - nu * lap_w;
  };
  std::vector<double> errors;
  for (int steps : {20, 40, 80, 160}) {
    Ns2dOptions o;
    o.nx = o.solve_nx = 32;
    o.t_final = t_final;
    o.outputs = 1;
    o.dt = t_final / steps;
    o.cfl_max = 10;  // the coarsest steps exceed 1 but stay stable on this smooth solution
    o.defaults["nu"] = nu;
    Ns2d solver(o, MPI_COMM_WORLD);
    solver.set_initial([&](double x, double y) { return w(x, y, 0.0); });
    solver.set_forcing(forcing);
    solver.reset({});
    solver.advance();
    errors.push_back(max_error(solver, 0, w));
  }
  for (std::size_t k = 1; k < errors.size(); ++k) {
    const double order = std::log2(errors[k - 1] / errors[k]);
    std::printf("  manufactured dt = %.5f  error %.3e  order %.3f\n", t_final / (20 << k), errors[k], order);
    EXPECT_NEAR(order, 2.0, 0.15) << "errors " << errors[k - 1] << " -> " << errors[k];
  }
  EXPECT_LT(errors.back(), 1e-3);  // |w| ~ 10
}

// The FFTW-MPI slab solve on all ranks of the world against the same solve on each rank
// alone: the FNO setting (random initial field, forcing, nu = 1e-3) over several outputs.
TEST(Ns2d, SameFieldOnOneAndManyRanks) {
  Ns2dOptions o;
  o.nx = 32;
  o.solve_nx = 64;
  o.t_final = 2.0;
  o.outputs = 4;
  o.dt = 1e-2;
  o.velocity = true;
  Ns2d parallel(o, MPI_COMM_WORLD), serial(o, MPI_COMM_SELF);
  const Parameters p = {{"ic_seed", 2024.0}, {"nu", 1e-3}};
  parallel.reset(p);
  serial.reset(p);
  double worst = 0, scale = 0;
  for (int k = 0; k < o.outputs; ++k) {
    parallel.advance();
    serial.advance();
    Field mine = parallel.snapshot(), whole = serial.snapshot();
    ASSERT_TRUE(whole.box().contains(mine.box()));
    const Box& b = mine.box();
    for (int i = b.lo[0]; i < b.hi[0]; ++i)
      for (int j = b.lo[1]; j < b.hi[1]; ++j)
        for (int c = 0; c < 3; ++c) {
          worst = std::max(worst, std::abs(mine.at(i, j, 0, c) - whole.at(i, j, 0, c)));
          scale = std::max(scale, std::abs(whole.at(i, j, 0, c)));
        }
  }
  double global[2] = {0, 0}, local[2] = {worst, scale};
  MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  std::printf("  1 vs %d ranks: max difference %.3e (max |field| %.3f)\n", comm_size(MPI_COMM_WORLD), global[0],
              global[1]);
  EXPECT_LT(global[0], 1e-12 * global[1]);
  EXPECT_GT(global[1], 0.1);
  unsigned long long points = parallel.local_box().num_points(), total = 0;
  MPI_Allreduce(&points, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(total, 32u * 32u);
  if (comm_size(MPI_COMM_WORLD) > 1) EXPECT_LT(parallel.local_box().extent(0), 32);  // really split
  EXPECT_LE(parallel.max_cfl(), 1.0);
  EXPECT_GT(parallel.max_cfl(), 0.0);
}

// The output subsamples the solve grid (rows and columns every solve_nx / nx points).
TEST(Ns2d, OutputSubsamplesSolveGrid) {
  Ns2dOptions o;
  o.nx = 16;
  o.solve_nx = 64;
  o.t_final = 0.5;
  o.outputs = 1;
  o.dt = 0.05;
  Ns2d s(o, MPI_COMM_WORLD);
  s.reset({{"ic_seed", 5}});
  s.advance();
  const auto [r0, r1] = s.solve_rows();
  const auto fine = s.solve_grid_vorticity();
  Field f = s.snapshot();
  ASSERT_FALSE(f.box().empty());
  for (int i = f.box().lo[0]; i < f.box().hi[0]; ++i) {
    ASSERT_TRUE(4 * i >= r0 && 4 * i < r1);
    for (int j = 0; j < 16; ++j) EXPECT_EQ(f.at(i, j, 0, 0), fine[(4 * i - r0) * 64 + 4 * j]);
  }
  EXPECT_TRUE(s.grid().periodic[0] && s.grid().periodic[1]);
  EXPECT_DOUBLE_EQ(s.grid().coordinate(1, 15), 15.0 / 16);
}

// Initial vorticity against N(0, 7^3 (-Laplacian + 49 I)^-2.5): E|w_k|^2 / mu_k = 1 per
// mode (200 seeds x 8 modes, Exp(1) ratios), zero mean, pointwise variance sum_k mu_k. Drawn
// on the world communicator, so each rank draws only its own modes.
TEST(Ns2d, RandomInitialVorticityMatchesCovariance) {
  Ns2dOptions o;
  o.nx = o.solve_nx = 16;
  Ns2d s(o, MPI_COMM_WORLD);
  const int seeds = 200;
  const std::vector<std::pair<int, int>> modes = {{1, 0}, {0, 1}, {1, 1}, {1, -1}, {2, 0}, {0, 2}, {2, 1}, {-1, 2}};
  std::vector<double> power(modes.size(), 0.0);
  double var_sum = 0, mean_sum = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    s.reset({{"ic_seed", 1e6 + seed}});
    const auto w = gather(s);
    for (std::size_t m = 0; m < modes.size(); ++m) {
      const auto [kx, ky] = modes[m];
      power[m] += std::norm(dft(w, 16, kx, ky)) / fno_mode_variance(kx * kx + ky * ky);
    }
    double mean = 0, var = 0;
    for (double x : w) mean += x, var += x * x;
    mean_sum += mean / w.size();
    var_sum += var / w.size();
  }
  double pooled = 0;
  for (std::size_t m = 0; m < modes.size(); ++m) {
    power[m] /= seeds;
    pooled += power[m] / modes.size();
    EXPECT_NEAR(power[m], 1.0, 5.0 / std::sqrt(seeds)) << "mode " << modes[m].first << "," << modes[m].second;
  }
  EXPECT_NEAR(pooled, 1.0, 5.0 / std::sqrt(seeds * modes.size()));
  EXPECT_LT(std::abs(mean_sum / seeds), 1e-14);
  double expected_var = 0;  // all modes but the mean and the Nyquist lines
  for (int kx = -7; kx <= 7; ++kx)
    for (int ky = -7; ky <= 7; ++ky) expected_var += fno_mode_variance(kx * kx + ky * ky) * (kx || ky);
  // Many modes carry the variance (the 4 of |k| = 1 about 40%): relative standard error
  // below 0.4 / sqrt(seeds).
  EXPECT_NEAR(var_sum / seeds / expected_var, 1.0, 5 * 0.4 / std::sqrt(seeds));
  std::printf("  E|w_k|^2/mu_k pooled %.3f; pointwise variance %.5f (expected %.5f)\n", pooled, var_sum / seeds,
              expected_var);
}

// The same seed gives the same low modes at any resolution and on any rank count; seeds are
// floored.
TEST(Ns2d, SeedsAreFlooredAndResolutionIndependent) {
  Ns2dOptions o;
  o.nx = o.solve_nx = 16;
  Ns2d coarse(o, MPI_COMM_WORLD);
  o.nx = o.solve_nx = 32;
  Ns2d fine(o, MPI_COMM_SELF);
  coarse.reset({{"ic_seed", 41.9}});
  const auto a = gather(coarse);
  coarse.reset({{"ic_seed", 41.0}});
  EXPECT_EQ(a, gather(coarse));
  coarse.reset({{"ic_seed", 42.0}});
  EXPECT_NE(a, gather(coarse));
  fine.reset({{"ic_seed", 41.5}});
  const auto b = gather(fine);
  for (int kx = -7; kx <= 7; ++kx)
    for (int ky = 0; ky <= 7; ++ky)
      EXPECT_LT(std::abs(dft(a, 16, kx, ky) - dft(b, 32, kx, ky)), 1e-14) << kx << "," << ky;
}

// The FNO setting from a config: defaults, registry, a short run with the forcing on.
TEST(Ns2d, FnoSettingFromConfig) {
  Config c = Config::parse("[solver]\nname = \"ns2d\"\nt_final = 1.0\noutputs = 2\n", "ns.toml");
  auto s = solvers::make_solver("", c, MPI_COMM_WORLD);
  EXPECT_EQ(s->channels(), std::vector<std::string>{"w"});
  EXPECT_EQ(s->grid().shape[0], 64);
  EXPECT_EQ(s->grid().shape[1], 64);
  EXPECT_DOUBLE_EQ(s->default_parameters().at("nu"), 1e-3);
  EXPECT_EQ(s->parameter_names(), (std::vector<std::string>{"ic_seed", "nu"}));
  s->reset({{"ic_seed", 3}});
  while (s->output_index() < s->num_outputs()) s->advance();
  EXPECT_DOUBLE_EQ(s->time(), 1.0);
  EXPECT_TRUE(s->snapshot().all_finite());
  auto* ns = dynamic_cast<Ns2d*>(s.get());
  ASSERT_NE(ns, nullptr);
  EXPECT_EQ(ns->steps_per_output(), 500);
}

TEST(Ns2d, BadInputGivesClearErrors) {
  auto make = [](const std::string& body) {
    Config c = Config::parse("[solver]\nname = \"ns2d\"\n" + body, "n.toml");
    return solvers::make_solver("", c, MPI_COMM_WORLD);
  };
  EXPECT_NE(message_of([&] { make("viscosity = 3\n"); }).find("n.toml: [solver] viscosity: unknown key"),
            std::string::npos);
  EXPECT_EQ(message_of([&] { make("nx = 48\nsolve_nx = 64\n"); }),
            "n.toml: [solver] nx: expected a divisor of solve_nx = 64 (the output subsamples the solve grid), got 48");
  EXPECT_EQ(message_of([&] { make("nx = 63\n"); }), "n.toml: [solver] solve_nx: expected an even number of points, got 63");
  EXPECT_NE(message_of([&] { make("initial = \"vortex\"\n"); }).find("n.toml: [solver] initial: expected one of: grf, taylor_green"),
            std::string::npos);

  Ns2dOptions o;
  o.nx = 16;
  o.t_final = 1.0;
  o.outputs = 1;
  o.dt = 0.01;
  Ns2d s(o, MPI_COMM_WORLD);
  EXPECT_EQ(message_of([&] { s.reset({{"visc", 1.0}}); }), "ns2d has no parameter 'visc'; expected ic_seed, nu");
  EXPECT_EQ(message_of([&] { s.reset({{"nu", -1e-3}}); }), "ns2d parameter nu must be > 0, got -0.001");
  EXPECT_EQ(message_of([&] { s.reset({{"ic_seed", 1e300}}); }),
            "ns2d parameter ic_seed must be a number in [0, 2^53), got 1e+300");
  s.reset({});
  s.advance();
  EXPECT_NE(message_of([&] { s.advance(); }).find("already has all 1 outputs"), std::string::npos);

  // A time step far beyond the advective limit is refused with the CFL number, on every rank.
  Ns2dOptions fast = o;
  fast.initial = "taylor_green";
  fast.dt = 0.5;
  Ns2d t(fast, MPI_COMM_WORLD);
  const std::string msg = message_of([&] { t.advance(); });
  EXPECT_NE(msg.find("ns2d: CFL number dt (|u| + |v|) / h = "), std::string::npos) << msg;
  EXPECT_NE(msg.find("exceeds cfl_max = 1"), std::string::npos) << msg;
}
