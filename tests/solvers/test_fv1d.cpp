// The PDEBench 1D family (solvers/fv1d.hpp): advection against its exact solution, Burgers
// against Cole-Hopf, diffusion-reaction against a manufactured solution (each second order),
// the exact diffusion and logistic steps, PDEBench's random initial condition, 1 rank
// against all ranks, and the error paths.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "solvers/fv1d.hpp"
#include "tests/test_util.hpp"

using namespace pdestream;
using namespace pdestream::solvers;
using pdestream::testing::error_of;

namespace {

constexpr double pi = M_PI;

Fv1dOptions options(const std::string& solver, int nx, double t_final, double dt_out) {
  Fv1dOptions o = Fv1dOptions::defaults_of(solver);
  o.nx = nx;
  o.t_final = t_final;
  o.dt_out = dt_out;
  return o;
}

// Mean absolute error over the cells at the current time against exact(x, t) (every rank).
double l1_error(const FiniteVolume1d& s, const std::function<double(double, double)>& exact) {
  const auto u = s.gather();
  double e = 0;
  for (std::size_t i = 0; i < u.size(); ++i) e += std::abs(u[i] - exact(s.grid().coordinate(0, static_cast<int>(i)), s.time()));
  return e / static_cast<double>(u.size());
}

void run_to_end(FiniteVolume1d& s) {
  while (s.output_index() < s.num_outputs()) s.advance();
}

// Observed orders between successive resolutions.
std::vector<double> orders(const std::vector<double>& errors) {
  std::vector<double> p;
  for (std::size_t k = 1; k < errors.size(); ++k) p.push_back(std::log2(errors[k - 1] / errors[k]));
  return p;
}

// Cole-Hopf for u_t + u u_x = eps u_xx: u = -2 eps phi_x / phi, phi_t = eps phi_xx.
struct ColeHopf {
  double eps = 0.05;
  double operator()(double x, double t) const {
    const double b[2] = {0.6, 0.25}, theta[2] = {0.0, 1.3};
    double phi = 1.0, phi_x = 0;
    for (int m = 0; m < 2; ++m) {
      const double k = 2 * pi * (m + 1), d = std::exp(-eps * k * k * t);
      phi += b[m] * d * std::cos(k * x + theta[m]);
      phi_x -= b[m] * d * k * std::sin(k * x + theta[m]);
    }
    return -2 * eps * phi_x / phi;
  }
};

}  // namespace

// u0(x - beta t) for beta of either sign: second order (mean error) with the MC limiter.
TEST(Fv1d, AdvectionConvergesToTheExactSolutionAtSecondOrder) {
  for (double beta : {0.7, -1.3}) {
    auto u0 = [](double x) { return std::sin(2 * pi * x) + 0.5 * std::cos(4 * pi * x); };
    auto exact = [&](double x, double t) { return u0(x - beta * t); };
    std::vector<double> errors;
    for (int nx : {64, 128, 256, 512}) {
      Advection1d s(options("advection1d", nx, 1.0, 0.25), MPI_COMM_WORLD);
      s.set_initial(u0);
      s.reset({{"beta", beta}});
      run_to_end(s);
      EXPECT_DOUBLE_EQ(s.time(), 1.0);
      errors.push_back(l1_error(s, exact));
    }
    const auto p = orders(errors);
    if (comm_rank(MPI_COMM_WORLD) == 0)
      std::printf("[advection1d] beta %g: mean errors %.3e %.3e %.3e %.3e, orders %.2f %.2f %.2f\n", beta, errors[0],
                  errors[1], errors[2], errors[3], p[0], p[1], p[2]);
    EXPECT_GE(p.back(), 1.8) << "beta " << beta;
    EXPECT_LT(errors.back(), 1e-3);
  }
}

TEST(Fv1d, BurgersConvergesToColeHopfAtSecondOrder) {
  const ColeHopf exact;
  std::vector<double> errors;
  for (int nx : {64, 128, 256, 512}) {
    BurgersFv1d s(options("burgers1d_fv", nx, 0.2, 0.1), MPI_COMM_WORLD);
    s.set_initial([&](double x) { return exact(x, 0.0); });
    s.reset({{"nu", exact.eps * pi}});  // the equation's viscosity is nu / pi
    run_to_end(s);
    errors.push_back(l1_error(s, [&](double x, double t) { return exact(x, t); }));
  }
  const auto p = orders(errors);
  if (comm_rank(MPI_COMM_WORLD) == 0)
    std::printf("[burgers1d_fv] Cole-Hopf: mean errors %.3e %.3e %.3e %.3e, orders %.2f %.2f %.2f\n", errors[0],
                errors[1], errors[2], errors[3], p[0], p[1], p[2]);
  EXPECT_GE(p.back(), 1.8);
  EXPECT_LT(errors.back(), 1e-4);
}

// u = 1/2 + 1/4 sin(2 pi x) cos(pi t) with the source that makes it exact; dt refined with dx.
TEST(Fv1d, DiffusionReactionConvergesToAManufacturedSolutionAtSecondOrder) {
  const double nu = 0.02, rho = 3.0;
  auto exact = [](double x, double t) { return 0.5 + 0.25 * std::sin(2 * pi * x) * std::cos(pi * t); };
  auto source = [&](double x, double t) {
    const double u = exact(x, t);
    const double u_t = -0.25 * pi * std::sin(2 * pi * x) * std::sin(pi * t);
    const double u_xx = -0.25 * 4 * pi * pi * std::sin(2 * pi * x) * std::cos(pi * t);
    return u_t - nu * u_xx - rho * u * (1 - u);
  };
  std::vector<double> errors;
  for (int nx : {32, 64, 128, 256}) {
    auto o = options("diffreact1d", nx, 0.5, 0.25);
    o.dt = 0.8 / nx;
    DiffReact1d s(o, MPI_COMM_WORLD);
    s.set_initial([&](double x) { return exact(x, 0.0); });
    s.set_source(source);
    s.reset({{"nu", nu}, {"rho", rho}});
    run_to_end(s);
    errors.push_back(l1_error(s, exact));
  }
  const auto p = orders(errors);
  if (comm_rank(MPI_COMM_WORLD) == 0)
    std::printf("[diffreact1d] manufactured: mean errors %.3e %.3e %.3e %.3e, orders %.2f %.2f %.2f\n", errors[0],
                errors[1], errors[2], errors[3], p[0], p[1], p[2]);
  EXPECT_GE(p.back(), 1.8);
  EXPECT_GE(p[p.size() - 2], 1.8);
}

// Each split part is exact: a Fourier mode decays by the discrete Laplacian's symbol, and a
// uniform state follows the logistic curve, both to rounding.
TEST(Fv1d, DiffusionAndReactionStepsAreExact) {
  const int nx = 64, k = 3;
  const double nu = 0.3, t = 0.2;
  auto o = options("diffreact1d", nx, t, 0.1);
  o.dt = 0.013;  // steps that do not divide the frame interval
  DiffReact1d d(o, MPI_COMM_WORLD);
  d.set_initial([&](double x) { return std::cos(2 * pi * k * x); });
  d.reset({{"nu", nu}, {"rho", 0.0}});
  run_to_end(d);
  const double h = 1.0 / nx, s = std::sin(pi * k / nx);
  const double decay = std::exp(-nu * 4 / (h * h) * s * s * t);
  EXPECT_LT(l1_error(d, [&](double x, double) { return decay * std::cos(2 * pi * k * x); }), 1e-14);

  const double rho = 4.0, u0 = 0.1;
  d.set_initial([&](double) { return u0; });
  d.reset({{"nu", nu}, {"rho", rho}});
  run_to_end(d);
  const double logistic = u0 * std::exp(rho * t) / (1 - u0 + u0 * std::exp(rho * t));
  EXPECT_LT(l1_error(d, [&](double, double) { return logistic; }), 1e-14);
}

// A random trajectory of each solver on all ranks of the world equals the one-rank run.
TEST(Fv1d, SameResultOnOneAndManyRanks) {
  for (const std::string name : {"advection1d", "burgers1d_fv", "diffreact1d"}) {
    Config c = Config::parse("[solver]\nname = \"" + name + "\"\nnx = 256\nt_final = 0.2\ndt_out = 0.05\n", "fv.toml");
    auto many = make_solver("", c, MPI_COMM_WORLD);
    auto one = make_solver("", c, MPI_COMM_SELF);
    const Parameters p = {{"ic_seed", 11.0}};
    many->reset(p);
    one->reset(p);
    for (int f = 0; f < many->num_outputs(); ++f) {
      many->advance();
      one->advance();
    }
    const auto a = dynamic_cast<FiniteVolume1d&>(*many).gather(), b = dynamic_cast<FiniteVolume1d&>(*one).gather();
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::abs(a[i] - b[i])), norm = std::max(norm, std::abs(b[i]));
    EXPECT_EQ(diff, 0.0) << name << " on " << comm_size(MPI_COMM_WORLD) << " ranks";
    EXPECT_GT(norm, 0.01) << name;
    EXPECT_EQ(many->num_outputs(), 4);
    // The slabs tile the grid.
    long long points = static_cast<long long>(many->local_box().num_points());
    MPI_Allreduce(MPI_IN_PLACE, &points, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    EXPECT_EQ(points, 256);
  }
}

TEST(Fv1d, PdebenchInitialConditionIsSeededAndShaped) {
  std::vector<double> x(1024);
  for (int i = 0; i < 1024; ++i) x[i] = (i + 0.5) / 1024;
  int windowed_or_abs = 0, negative_mean = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const auto u = pdebench_initial_condition(x, seed, false);
    EXPECT_EQ(u, pdebench_initial_condition(x, seed, false));
    double mx = 0, mean = 0;
    for (double v : u) mx = std::max(mx, std::abs(v)), mean += v / u.size();
    EXPECT_LE(mx, 2.0);
    EXPECT_GT(mx, 0.0);
    bool one_sign = std::all_of(u.begin(), u.end(), [](double v) { return v >= 0; }) ||
                    std::all_of(u.begin(), u.end(), [](double v) { return v <= 0; });
    windowed_or_abs += one_sign || std::abs(u.front()) < 1e-6;
    negative_mean += mean < 0;
    const auto unit = pdebench_initial_condition(x, seed, true);
    EXPECT_DOUBLE_EQ(*std::min_element(unit.begin(), unit.end()), 0.0);
    EXPECT_DOUBLE_EQ(*std::max_element(unit.begin(), unit.end()), 1.0);
  }
  EXPECT_NE(pdebench_initial_condition(x, 1, false), pdebench_initial_condition(x, 2, false));
  // |u| (p = 0.1) or a window (p = 0.1): about 19% of fields; sign flips about half.
  EXPECT_GT(windowed_or_abs, 15);
  EXPECT_LT(windowed_or_abs, 70);
  EXPECT_GT(negative_mean, 50);
  EXPECT_LT(negative_mean, 150);
}

TEST(Fv1d, BadInputGivesClearErrors) {
  auto make = [](const std::string& name, const std::string& body) {
    Config c = Config::parse("[solver]\nname = \"" + name + "\"\n" + body, "fv.toml");
    return make_solver("", c, MPI_COMM_WORLD);
  };
  EXPECT_NE(error_of([&] { make("advection1d", "nu = 1\n"); }).find("fv.toml: [solver] nu: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of([&] { make("diffreact1d", "cfl = 0.3\n"); }).find("[solver] cfl: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of([&] { make("burgers1d_fv", "limiter = \"superbee\"\n"); }).find("[solver] limiter"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { make("advection1d", "t_final = 1\ndt_out = 0.3\n"); }),
            "advection1d: t_final / dt_out must be a whole number of frames, got 1 / 0.3 = 3.33333");
  EXPECT_EQ(error_of([&] { make("burgers1d_fv", "nx = 8\nnu = -1\n"); }),
            "burgers1d_fv parameter nu must be >= 0, got -1");
  auto s = make("advection1d", "nx = 16\nt_final = 0.1\ndt_out = 0.1\n");
  EXPECT_EQ(error_of([&] { s->reset({{"nu", 1.0}}); }), "advection1d has no parameter 'nu'; expected ic_seed, beta");
  EXPECT_NE(error_of([&] { s->reset({{"beta", std::nan("")}}); }).find("must be finite"), std::string::npos);
  s->reset({});
  s->advance();
  EXPECT_NE(error_of([&] { s->advance(); }).find("advance() after the last frame"), std::string::npos);

  // A reaction rate so large that the logistic step overflows: the run stops at the first
  // frame with one line instead of writing NaN.
  DiffReact1d d(options("diffreact1d", 16, 1.0, 0.1), MPI_COMM_WORLD);
  d.reset({{"rho", 1e300}});
  EXPECT_EQ(error_of([&] { run_to_end(d); }), "diffreact1d: the solution is not finite at t = 0.1 (diverged or NaN input)");
  // A NaN in the initial state is caught at reset.
  d.set_initial([](double x) { return x > 0.5 ? std::nan("") : 0.5; });
  EXPECT_EQ(error_of([&] { d.reset({}); }), "diffreact1d: the solution is not finite at t = 0 (diverged or NaN input)");
  const int size = comm_size(MPI_COMM_WORLD);
  EXPECT_NE(error_of([&] { Advection1d a(options("advection1d", 2 * size - 1, 0.1, 0.1), MPI_COMM_WORLD); })
                .find("needs nx >= " + std::to_string(2 * size)),
            std::string::npos);
}
