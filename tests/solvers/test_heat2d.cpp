// heat2d verification: manufactured solutions (orders in space and time), the analytic
// Laplace series at steady state, 1-rank vs 2-rank agreement, and error paths.
#include <gtest/gtest.h>
#include <petscsys.h>

#include <cmath>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "solvers/heat2d.hpp"
#include "tests/test_util.hpp"

using namespace pdestream;
using solvers::Heat2d;
using solvers::Heat2dOptions;

namespace {

// Max-norm error of the solver's current state against u(x, y, t), over all ranks.
double max_error(const Heat2d& s, const std::function<double(double, double, double)>& u) {
  Field f = s.snapshot();
  const Box& b = f.box();
  double err = 0;
  for (int i = b.lo[0]; i < b.hi[0]; ++i)
    for (int j = b.lo[1]; j < b.hi[1]; ++j)
      err = std::max(err, std::abs(f.at(i, j, 0, 0) -
                                   u(s.grid().coordinate(0, i), s.grid().coordinate(1, j), s.time())));
  double global = 0;
  MPI_Allreduce(&err, &global, 1, MPI_DOUBLE, MPI_MAX, s.comm());
  return global;
}

void run_to_end(Heat2d& s) {
  while (s.output_index() < s.num_outputs()) s.advance();
}

constexpr double pi = M_PI;

}  // namespace

// Steady manufactured solution: the error at steady state is purely spatial, O(h^2).
TEST(Heat2d, SecondOrderInSpace) {
  const double alpha = 0.7;
  auto u = [](double x, double y, double) { return std::sin(pi * x) * std::sin(2 * pi * y) + x * x * y; };
  auto f = [alpha](double x, double y, double) {
    return alpha * (5 * pi * pi * std::sin(pi * x) * std::sin(2 * pi * y) - 2 * y);
  };
  std::vector<double> errors;
  for (int n : {17, 33, 65}) {
    Heat2dOptions o;
    o.nx = o.ny = n;
    o.scheme = "be";
    o.dt = 50.0;  // transients decay by ~1/(1 + dt alpha 2 pi^2) per step
    o.outputs = 1;
    o.steps_per_output = 12;
    o.rtol = 1e-13;
    o.defaults["alpha"] = alpha;
    Heat2d s(o, MPI_COMM_WORLD);
    s.set_source(f);
    s.set_boundary(u);
    s.set_initial(u);
    s.reset({});
    run_to_end(s);
    errors.push_back(max_error(s, u));
  }
  for (std::size_t k = 1; k < errors.size(); ++k) {
    const double order = std::log2(errors[k - 1] / errors[k]);
    EXPECT_NEAR(order, 2.0, 0.1) << "errors " << errors[k - 1] << " -> " << errors[k];
  }
  EXPECT_LT(errors.back(), 2e-3);
}

// Quadratic in space (the 5-point Laplacian is exact), smooth in time: the error is purely
// temporal, O(dt) for backward Euler and O(dt^2) for Crank-Nicolson.
class Heat2dTimeOrder : public ::testing::TestWithParam<std::pair<const char*, double>> {};

TEST_P(Heat2dTimeOrder, MatchesExpectedOrder) {
  const auto [scheme, expected] = GetParam();
  const double alpha = 0.5;
  auto q = [](double x, double y) { return 1 + x * x + x * y + 2 * y * y; };
  auto u = [q](double x, double y, double t) { return q(x, y) * std::exp(-t); };
  auto f = [q, alpha](double x, double y, double t) { return (-q(x, y) - alpha * 6.0) * std::exp(-t); };
  std::vector<double> errors;
  for (int steps : {10, 20, 40, 80}) {
    Heat2dOptions o;
    o.nx = o.ny = 9;
    o.scheme = scheme;
    o.dt = 1.0 / steps;
    o.outputs = 1;
    o.steps_per_output = steps;
    o.rtol = 1e-13;
    o.defaults["alpha"] = alpha;
    Heat2d s(o, MPI_COMM_WORLD);
    s.set_source(f);
    s.set_boundary(u);
    s.set_initial(u);
    s.reset({});
    run_to_end(s);
    EXPECT_DOUBLE_EQ(s.time(), 1.0);
    errors.push_back(max_error(s, u));
  }
  for (std::size_t k = 1; k < errors.size(); ++k)
    EXPECT_NEAR(std::log2(errors[k - 1] / errors[k]), expected, 0.1)
        << scheme << " errors " << errors[k - 1] << " -> " << errors[k];
}

INSTANTIATE_TEST_SUITE_P(Schemes, Heat2dTimeOrder,
                         ::testing::Values(std::make_pair("be", 1.0), std::make_pair("cn", 2.0)));

namespace {

// sinh(a) / sinh(b) for 0 <= a <= b without overflow.
double sinh_ratio(double a, double b) {
  return std::exp(a - b) * (1 - std::exp(-2 * a)) / (1 - std::exp(-2 * b));
}

// Laplace's equation on the unit square with constant side values: separable series.
double laplace_series(double x, double y, double left, double right, double bottom, double top) {
  double u = 0;
  for (int n = 1; n < 400; n += 2) {
    const double c = 4.0 / (n * pi), k = n * pi;
    u += c * (top * std::sin(k * x) * sinh_ratio(k * y, k) + bottom * std::sin(k * x) * sinh_ratio(k * (1 - y), k) +
              right * std::sin(k * y) * sinh_ratio(k * x, k) + left * std::sin(k * y) * sinh_ratio(k * (1 - x), k));
  }
  return u;
}

}  // namespace

TEST(Heat2d, SteadyStateMatchesLaplaceSeries) {
  Heat2dOptions o;
  o.nx = o.ny = 65;
  o.scheme = "be";
  o.dt = 50.0;
  o.outputs = 1;
  o.steps_per_output = 12;
  o.rtol = 1e-13;
  Heat2d s(o, MPI_COMM_WORLD);
  const double left = 1.0, right = -0.5, bottom = 0.25, top = 2.0;
  s.reset({{"alpha", 0.3}, {"t_init", 5.0}, {"t_left", left}, {"t_right", right}, {"t_bottom", bottom}, {"t_top", top}});
  run_to_end(s);
  Field f = s.snapshot();
  double err = 0;
  const Box& b = f.box();
  for (int i = b.lo[0]; i < b.hi[0]; ++i)
    for (int j = b.lo[1]; j < b.hi[1]; ++j) {
      const double x = s.grid().coordinate(0, i), y = s.grid().coordinate(1, j);
      // The corners are discontinuous; compare away from them.
      if (x < 0.125 || x > 0.875 || y < 0.125 || y > 0.875) continue;
      err = std::max(err, std::abs(f.at(i, j, 0, 0) - laplace_series(x, y, left, right, bottom, top)));
    }
  double global = 0;
  MPI_Allreduce(&err, &global, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_LT(global, 1e-3);
}

// The same trajectory on all ranks of the world and on each rank alone.
TEST(Heat2d, SameFieldOnOneAndManyRanks) {
  Heat2dOptions o;
  o.nx = 48;
  o.ny = 40;
  o.outputs = 4;
  o.steps_per_output = 5;
  o.dt = 2e-3;
  Parameters p = {{"alpha", 0.8}, {"t_init", 0.3}, {"t_left", 1.0}, {"t_right", -1.0}, {"t_bottom", 0.5}, {"t_top", 0.0}};
  Heat2d parallel(o, MPI_COMM_WORLD);
  Heat2d serial(o, MPI_COMM_SELF);
  parallel.reset(p);
  serial.reset(p);
  double worst = 0;
  for (int k = 0; k < o.outputs; ++k) {
    parallel.advance();
    serial.advance();
    worst = std::max(worst, pdestream::testing::max_block_difference(parallel.snapshot(), serial.snapshot()));
  }
  double global = 0;
  MPI_Allreduce(&worst, &global, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_LT(global, 1e-10);
  // The blocks tile the grid.
  unsigned long long points = parallel.local_box().num_points(), total = 0;
  MPI_Allreduce(&points, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(total, parallel.grid().num_points());
  EXPECT_EQ(parallel.output_times().size(), 5u);
  EXPECT_DOUBLE_EQ(parallel.output_times().back(), 4 * 5 * 2e-3);
}

TEST(Heat2d, BuiltFromConfigThroughRegistry) {
  Config c = Config::parse(R"(
[solver]
name = "heat2d"
nx = 16
ny = 12
dt = 0.01
scheme = "be"
outputs = 3
steps_per_output = 2
t_left = 1.0
)", "heat.toml");
  auto s = solvers::make_solver("", c, MPI_COMM_WORLD);
  EXPECT_EQ(s->name(), "heat2d");
  EXPECT_EQ(s->grid().shape[0], 16);
  EXPECT_EQ(s->grid().shape[1], 12);
  EXPECT_EQ(s->num_outputs(), 3);
  EXPECT_DOUBLE_EQ(s->output_interval(), 0.02);
  EXPECT_DOUBLE_EQ(s->default_parameters().at("t_left"), 1.0);
  s->advance();
  EXPECT_NEAR(s->time(), 0.02, 1e-15);
}

TEST(Heat2d, BadInputGivesClearErrors) {
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {  // CollectiveError included
      return e.message();
    }
    return "";
  };
  Config typo = Config::parse("[solver]\nname = \"heat2d\"\nnx = 16\nstepz = 3\n", "typo.toml");
  EXPECT_NE(message([&] { solvers::make_solver("", typo, MPI_COMM_WORLD); })
                .find("typo.toml: [solver] stepz: unknown key"),
            std::string::npos);
  Config wrong = Config::parse("[solver]\nname = \"heat3d\"\n", "w.toml");
  // The list grows as solvers register; heat2d is always on it.
  const std::string unknown = message([&] { solvers::make_solver("", wrong, MPI_COMM_WORLD); });
  EXPECT_EQ(unknown.rfind("unknown solver 'heat3d'; expected one of: ", 0), 0u) << unknown;
  EXPECT_NE(unknown.find("heat2d"), std::string::npos) << unknown;
  Config neg = Config::parse("[solver]\nname = \"heat2d\"\nnx = 2\n", "n.toml");
  EXPECT_EQ(message([&] { solvers::make_solver("", neg, MPI_COMM_WORLD); }),
            "n.toml: [solver] nx: expected an integer in [3, 1048576], got 2");

  Heat2dOptions o;
  o.nx = o.ny = 9;
  Heat2d s(o, MPI_COMM_WORLD);
  EXPECT_NE(message([&] { s.reset({{"beta", 1.0}}); }).find("heat2d has no parameter 'beta'"), std::string::npos);
  EXPECT_NE(message([&] { s.reset({{"t_top", std::nan("")}}); }).find("must be finite"), std::string::npos);

  // A linear solve that cannot converge is reported with the KSP's reason.
  PetscOptionsSetValue(nullptr, "-starved_ksp_max_it", "1");
  Heat2dOptions starved = o;
  starved.options_prefix = "starved_";
  starved.rtol = 1e-14;
  Heat2d t(starved, MPI_COMM_WORLD);
  t.reset({{"t_left", 1.0}});
  EXPECT_NE(message([&] { t.advance(); }).find("linear solve failed"), std::string::npos);
  PetscOptionsClearValue(nullptr, "-starved_ksp_max_it");
}

// ---- Non-stationary options: the paper's time-varying diffusivity and a moving source ----

TEST(Heat2d, PaperDiffusivityFollowsItsDefinition) {
  Heat2dOptions o;
  o.nx = o.ny = 5;
  o.diffusivity = "paper";
  o.defaults["alpha"] = 2.0;
  Heat2d s(o, MPI_COMM_WORLD);
  // c(t) = alpha max(0.1 sin 2 pi t, -10 sin 2 pi t)
  EXPECT_NEAR(s.diffusivity(0.25), 2.0 * 0.1, 1e-14);
  EXPECT_NEAR(s.diffusivity(0.75), 2.0 * 10.0, 1e-12);
  EXPECT_NEAR(s.diffusivity(0.5), 0.0, 1e-12);
  EXPECT_NEAR(s.diffusivity(1.25), 2.0 * 0.1, 1e-12);
  for (double t = 0; t < 2; t += 0.01) EXPECT_GE(s.diffusivity(t), 0.0);
  Heat2dOptions c = o;
  c.diffusivity = "constant";
  Heat2d k(c, MPI_COMM_WORLD);
  EXPECT_EQ(k.diffusivity(0.75), 2.0);
}

// u = q(x, y) e^{-t} with q quadratic (the 5-point Laplacian is exact) under c(t) varying
// smoothly on [0, 0.4]: the operator is rebuilt every step and the schemes keep their order.
class Heat2dVaryingTimeOrder : public ::testing::TestWithParam<std::pair<const char*, double>> {};

TEST_P(Heat2dVaryingTimeOrder, MatchesExpectedOrder) {
  const auto [scheme, expected] = GetParam();
  const double alpha = 20.0, T = 0.4;
  auto c = [alpha](double t) { return alpha * 0.1 * std::sin(2 * pi * t); };
  auto q = [](double x, double y) { return 1 + x * x + x * y + 2 * y * y; };
  auto u = [q](double x, double y, double t) { return q(x, y) * std::exp(-t); };
  auto f = [q, c](double x, double y, double t) { return (-q(x, y) - c(t) * 6.0) * std::exp(-t); };
  std::vector<double> errors;
  for (int steps : {10, 20, 40}) {
    Heat2dOptions o;
    o.nx = o.ny = 9;
    o.scheme = scheme;
    o.diffusivity = "paper";
    o.dt = T / steps;
    o.outputs = 1;
    o.steps_per_output = steps;
    o.rtol = 1e-13;
    o.defaults["alpha"] = alpha;
    Heat2d s(o, MPI_COMM_WORLD);
    s.set_source(f);
    s.set_boundary(u);
    s.set_initial(u);
    s.reset({});
    run_to_end(s);
    errors.push_back(max_error(s, u));
  }
  for (std::size_t k = 1; k < errors.size(); ++k)
    EXPECT_NEAR(std::log2(errors[k - 1] / errors[k]), expected, 0.15)
        << scheme << " errors " << errors[k - 1] << " -> " << errors[k];
}

INSTANTIATE_TEST_SUITE_P(Schemes, Heat2dVaryingTimeOrder,
                         ::testing::Values(std::make_pair("be", 1.0), std::make_pair("cn", 2.0)));

// Over a short interval the heat added is centred where the source is: on its circle of
// radius 1/4 around the centre, at angle 2 pi t.
TEST(Heat2d, MovingSourceHeatsWhereItIs) {
  Heat2dOptions o;
  o.nx = o.ny = 41;
  o.scheme = "cn";
  o.dt = 0.005;
  o.outputs = 60;
  o.steps_per_output = 2;  // outputs every 0.01
  o.source = "moving";
  o.source_amplitude = 5.0;
  o.source_width = 0.06;
  o.defaults["alpha"] = 1e-3;
  Heat2d s(o, MPI_COMM_WORLD);
  for (double t_mid : {0.25, 0.5}) {
    s.reset({});
    Field before;
    while (s.time() < t_mid - 0.01 - 1e-12) s.advance();
    before = s.snapshot();
    s.advance();
    s.advance();  // now at t_mid + 0.01
    const Field after = s.snapshot();
    double sums[3] = {0, 0, 0};
    const Box& b = after.box();
    for (int i = b.lo[0]; i < b.hi[0]; ++i)
      for (int j = b.lo[1]; j < b.hi[1]; ++j) {
        const double d = std::max(0.0, after.at(i, j, 0, 0) - before.at(i, j, 0, 0));
        sums[0] += d;
        sums[1] += d * s.grid().coordinate(0, i);
        sums[2] += d * s.grid().coordinate(1, j);
      }
    double global[3];
    MPI_Allreduce(sums, global, 3, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    ASSERT_GT(global[0], 0.0);
    EXPECT_NEAR(global[1] / global[0], 0.5 + 0.25 * std::cos(2 * pi * t_mid), 0.02) << "t = " << t_mid;
    EXPECT_NEAR(global[2] / global[0], 0.5 + 0.25 * std::sin(2 * pi * t_mid), 0.02) << "t = " << t_mid;
  }
}

TEST(Heat2d, NonStationaryOptionsFromConfig) {
  Config c = Config::parse(R"(
[solver]
name = "heat2d"
nx = 12
ny = 12
diffusivity = "paper"
source = "moving"
source_amplitude = 2.0
source_width = 0.05
outputs = 2
)", "ns.toml");
  auto s = solvers::make_solver("", c, MPI_COMM_WORLD);
  auto* h = dynamic_cast<Heat2d*>(s.get());
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->options().diffusivity, "paper");
  EXPECT_EQ(h->options().source, "moving");
  EXPECT_EQ(h->options().source_amplitude, 2.0);
  s->advance();
  s->advance();
  auto message = [](const Config& bad) -> std::string {
    try {
      solvers::make_solver("", bad, MPI_COMM_WORLD);
    } catch (const Error& e) {
      return e.message();
    }
    return "";
  };
  EXPECT_NE(message(Config::parse("[solver]\nname = \"heat2d\"\ndiffusivity = \"sine\"\n", "d.toml"))
                .find("d.toml: [solver] diffusivity: expected one of: constant, paper, got \"sine\""),
            std::string::npos);
  EXPECT_NE(message(Config::parse("[solver]\nname = \"heat2d\"\nsource = \"fixed\"\n", "s.toml"))
                .find("[solver] source: expected one of: none, moving"),
            std::string::npos);
  EXPECT_NE(message(Config::parse("[solver]\nname = \"heat2d\"\nsource_width = 0.0\n", "w.toml"))
                .find("[solver] source_width"),
            std::string::npos);
}
