// acoustic2d / acoustic3d (staggered FDTD, impedance walls) against what is known exactly:
// the free-field pulse in 3D and 2D before any reflection (second-order convergence), the
// normal-incidence reflection coefficient (Z - rho c) / (Z + rho c), the discrete energy with
// rigid walls, 1 rank against 2, the dispersion relation, and bad input.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <cmath>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/runtime.hpp"
#include "solvers/acoustic.hpp"
#include "tests/test_util.hpp"

using namespace pdestream;
using solvers::Acoustic;
using solvers::AcousticOptions;
using pdestream::testing::error_of;
using ::testing::HasSubstr;

namespace {

MPI_Comm world() { return MPI_COMM_WORLD; }

// A cube (or square) of side 11 sigma0 around a centred pulse, with receivers at `offsets`
// from the centre, run for c t = `reach` sigma0: no reflection reaches a receiver in time.
struct FreeField {
  int dim;
  double ppw;
  std::vector<std::vector<double>> offsets;
  double reach = 5.0;
};

// Max over receivers and time levels of |p - exact|, and the exact peak over the same set.
std::pair<double, double> free_field_error(const FreeField& f, MPI_Comm comm) {
  AcousticOptions o;
  o.dim = f.dim;
  o.f_max = 2000;
  o.ppw = f.ppw;
  const double s0 = o.sigma0(), side = 11 * s0;
  for (int d = 0; d < f.dim; ++d) o.size[d] = side;
  o.duration = o.dt_out = f.reach * s0 / o.c;
  for (const auto& off : f.offsets) {
    std::vector<double> x(f.dim);
    for (int d = 0; d < f.dim; ++d) x[d] = 0.5 * side + off[d] * s0;
    o.receivers.push_back(x);
  }
  Acoustic a(o, comm);
  a.advance();
  const auto rows = a.receiver_rows();
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(a.steps_per_output()) + 1);
  double err = 0, peak = 0;
  for (const auto& row : rows)
    for (std::size_t r = 0; r < f.offsets.size(); ++r) {
      double dist = 0;
      for (int d = 0; d < f.dim; ++d) dist += f.offsets[r][d] * f.offsets[r][d];
      const double exact = Acoustic::free_field(f.dim, std::sqrt(dist) * s0, row[0], s0, o.c);
      err = std::max(err, std::abs(row[1 + r] - exact));
      peak = std::max(peak, std::abs(exact));
    }
  return {err, peak};
}

}  // namespace

// The 2D exact solution at t = 0 is the pulse itself, and energy-like checks of the Hankel
// quadrature: far outside the pulse it vanishes; the 3D formula tends to f(r) at t = 0.
TEST(Acoustic, ExactFreeFieldStartsAsThePulse) {
  const double s0 = 0.2, c = 343;
  for (double r : {0.0, 0.1, 0.25, 0.5}) {
    EXPECT_NEAR(Acoustic::free_field(2, r, 0.0, s0, c), std::exp(-r * r / (s0 * s0)), 1e-10) << r;
    EXPECT_NEAR(Acoustic::free_field(3, r, 0.0, s0, c), std::exp(-r * r / (s0 * s0)), 1e-12) << r;
  }
  // At r = 0 the 3D pulse is f(ct) (1 - 2 (ct)^2 / s0^2): d/ds [s f(s)] at s = ct.
  const double t = 0.3 * s0 / c, s = c * t;
  EXPECT_NEAR(Acoustic::free_field(3, 0.0, t, s0, c), std::exp(-s * s / (s0 * s0)) * (1 - 2 * s * s / (s0 * s0)), 1e-6);
  // Causality in 2D: long before the front arrives, nothing (to the quadrature's accuracy).
  EXPECT_LT(std::abs(Acoustic::free_field(2, 20 * s0, 5 * s0 / c, s0, c)), 1e-8);
}

TEST(Acoustic, FreeField3dConvergesAtSecondOrder) {
  FreeField f{3, 8, {{1.8, 0.0, 0.0}, {-0.7, 1.1, 0.9}, {1.3, 1.3, -1.3}}};
  const auto [coarse, peak] = free_field_error(f, world());
  f.ppw = 16;
  const auto [fine, peak_fine] = free_field_error(f, world());
  const double order = std::log2(coarse / fine);
  RecordProperty("order", std::to_string(order));
  std::printf("3D free field: max error %.3e (ppw 8), %.3e (ppw 16) of peak %.3f: order %.2f\n", coarse, fine, peak,
              order);
  EXPECT_GT(order, 1.8);
  EXPECT_LT(order, 2.4);
  EXPECT_LT(fine / peak, 0.02);
}

TEST(Acoustic, FreeField2dConvergesAtSecondOrder) {
  FreeField f{2, 8, {{1.9, 0.3}, {-1.0, 1.2}, {0.4, -0.6}}};
  std::vector<double> errors;
  for (double ppw : {8.0, 16.0, 32.0}) {
    f.ppw = ppw;
    errors.push_back(free_field_error(f, world()).first);
  }
  const double o1 = std::log2(errors[0] / errors[1]), o2 = std::log2(errors[1] / errors[2]);
  std::printf("2D free field: max error %.3e, %.3e, %.3e (ppw 8, 16, 32): orders %.2f, %.2f\n", errors[0], errors[1],
              errors[2], o1, o2);
  EXPECT_GT(o1, 1.8);
  EXPECT_GT(o2, 1.9);
  EXPECT_LT(o2, 2.2);
}

// A plane pulse in a 2D channel (rigid sides, so plane waves stay plane) meets the x+ wall at
// normal incidence; the reflected pulse, fitted against a rigid wall's reflection over the same
// path, gives R against (Z - rho c) / (Z + rho c).
TEST(Acoustic, ImpedanceWallReflectsAtTheNormalIncidenceCoefficient) {
  const auto reflected = [](double z, double ppw) {
    AcousticOptions o;
    o.dim = 2;
    o.ppw = ppw;
    o.size = {3.0, 0.1, 0.0};
    o.impedance = {o.rho * o.c, z, INFINITY, INFINITY, INFINITY, INFINITY};
    o.dt_out = o.duration = 2.9 / o.c;
    o.receivers = {{2.25, 0.05}};
    Acoustic a(o, MPI_COMM_SELF);
    const double s0 = o.sigma0();
    a.set_initial([s0](const std::array<double, 3>& x) { return std::exp(-std::pow(x[0] - 1.5, 2) / (s0 * s0)); });
    a.reset({});
    a.advance();
    // The reflected pulse passes x = 2.25 at c t = 2.25 +- 0.65.
    std::vector<double> window;
    for (const auto& row : a.receiver_rows())
      if (o.c * row[0] > 1.6 && o.c * row[0] < 2.9) window.push_back(row[1]);
    return window;
  };
  const double rho_c = 1.2 * 343;
  std::vector<double> worst(2, 0.0);
  for (double ppw : {10.0, 20.0}) {
    const auto rigid = reflected(INFINITY, ppw);
    for (double ratio : {3.0, 1.0 / 3.0, 1.0, 10.0}) {
      const auto w = reflected(ratio * rho_c, ppw);
      double ab = 0, bb = 0;
      for (std::size_t t = 0; t < w.size(); ++t) ab += w[t] * rigid[t], bb += rigid[t] * rigid[t];
      const double r = ab / bb, exact = (ratio - 1) / (ratio + 1);
      std::printf("ppw %.0f  Z = %.3g rho c: R = %.5f, exact %.5f, error %.2e\n", ppw, ratio, r, exact, r - exact);
      worst[ppw == 20] = std::max(worst[ppw == 20], std::abs(r - exact));
    }
  }
  EXPECT_LT(worst[0], 2e-3);
  EXPECT_LT(worst[1], 5e-4);
  EXPECT_GT(worst[0] / worst[1], 3.5);  // second order
}

namespace {

// A 3D L-shaped room with a sofa-like block from a .npy mask would need a file; the L-shape
// exercises the same clipped cells (re-entrant edges, solid surfaces).
AcousticOptions small_lshape() {
  AcousticOptions o;
  o.dim = 3;
  o.size = {1.0, 0.8, 0.6};
  o.f_max = 1500;
  o.ppw = 6;
  o.room = "lshape";
  o.cut = {0.55, 0.45};
  o.dt_out = 2e-4;
  o.duration = 1e-3;
  o.receivers = {{0.3, 0.3, 0.3}, {0.9, 0.2, 0.1}, {0.2, 0.7, 0.55}};
  o.defaults = {{"x0", 0.4}, {"y0", 0.3}, {"z0", 0.25}};
  return o;
}

}  // namespace

// With rigid walls the staggered leapfrog energy is an exact invariant: it may change only by
// rounding, over hundreds of steps and many reflections; any impedance makes it decrease.
TEST(Acoustic, EnergyConstantWithRigidWallsAndDecreasingWithImpedance) {
  auto o = small_lshape();
  o.duration = 20e-3;
  o.dt_out = 1e-3;
  Acoustic rigid(o, world());
  const double e0 = rigid.energy();
  ASSERT_GT(e0, 0);
  double drift = 0;
  for (int k = 0; k < rigid.num_outputs(); ++k) {
    rigid.advance();
    drift = std::max(drift, std::abs(rigid.energy() - e0) / e0);
  }
  std::printf("rigid L-shape: %lld steps, largest relative energy change %.2e\n",
              static_cast<long long>(rigid.num_outputs()) * rigid.steps_per_output(), drift);
  EXPECT_LT(drift, 1e-12);

  o.impedance.fill(5.0 * o.rho * o.c);
  o.solid_impedance = 2.0 * o.rho * o.c;
  Acoustic lossy(o, world());
  double previous = lossy.energy();
  for (int k = 0; k < lossy.num_outputs(); ++k) {
    lossy.advance();
    const double e = lossy.energy();
    EXPECT_LE(e, previous * (1 + 1e-14)) << "output " << k;
    previous = e;
  }
  EXPECT_LT(previous, 0.8 * e0);
}

// The same trajectory on all ranks of the world and on each rank alone, bit for bit: every
// point's update reads the same values in the same order on any partition.
TEST(Acoustic, SameFieldAndReceiversOnOneAndManyRanks) {
  auto o = small_lshape();
  o.impedance = {800, INFINITY, 1500, 3000, 600, INFINITY};
  o.solid_impedance = 1000;
  Acoustic parallel(o, world());
  Acoustic serial(o, MPI_COMM_SELF);
  const Parameters source = {{"x0", 0.35}, {"y0", 0.62}, {"z0", 0.3}};
  parallel.reset(source);
  serial.reset(source);
  EXPECT_EQ(parallel.active_points(), serial.active_points());
  EXPECT_LT(serial.active_points(), static_cast<long long>(serial.grid().num_points()));
  double worst = 0;
  for (int k = 0; k < parallel.num_outputs(); ++k) {
    parallel.advance();
    serial.advance();
    worst = std::max(worst, pdestream::testing::max_block_difference(parallel.snapshot(), serial.snapshot()));
  }
  double global = 0;
  MPI_Allreduce(&worst, &global, 1, MPI_DOUBLE, MPI_MAX, world());
  EXPECT_EQ(global, 0.0);
  EXPECT_EQ(parallel.receiver_rows(), serial.receiver_rows());
  EXPECT_EQ(parallel.receiver_rows().size(),
            static_cast<std::size_t>(parallel.num_outputs() * parallel.steps_per_output() + 1));
  EXPECT_EQ(parallel.energy(), parallel.energy());
  unsigned long long points = parallel.local_box().num_points(), total = 0;
  MPI_Allreduce(&points, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, world());
  EXPECT_EQ(total, parallel.grid().num_points());
}

// A mask file that carves the same L-shape gives the same room, at a different resolution of
// its own (nearest-cell sampling), and a mask of the wrong rank is a one-line error.
TEST(Acoustic, MaskRoomMatchesTheLShape) {
  const std::string dir = pdestream::testing::scratch_dir("acoustic_mask", world());
  // 20 x 16 x 12 voxels of 5 cm over 1.0 x 0.8 x 0.6 m: solid where x > 0.55 and y > 0.45.
  std::vector<unsigned char> solid(12 * 16 * 20, 0);
  for (int z = 0; z < 12; ++z)
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 20; ++x) solid[(z * 16 + y) * 20 + x] = (x + 0.5) * 0.05 > 0.55 && (y + 0.5) * 0.05 > 0.45;
  pdestream::testing::write_npy(dir + "/l.npy", {12, 16, 20}, solid, world());
  auto o = small_lshape();
  o.ppw = 8;  // cells of 2.8 cm: each samples the 5 cm mask cell holding its centre
  Acoustic lshape(o, world());
  o.room = "mask";
  o.mask = dir + "/l.npy";
  Acoustic masked(o, world());
  lshape.advance();
  masked.advance();
  EXPECT_EQ(masked.active_points(), lshape.active_points());
  EXPECT_NEAR(masked.energy(), lshape.energy(), 1e-12 * lshape.energy());

  pdestream::testing::write_npy(dir + "/flat.npy", {16, 20}, std::vector<unsigned char>(16 * 20, 0), world());
  o.mask = dir + "/flat.npy";
  EXPECT_THAT(error_of([&] { Acoustic a(o, world()); }),
              HasSubstr("flat.npy: expected a 3D mask (nz, ny, nx) for acoustic3d, got 2 dimensions"));
  o.mask = dir + "/missing.npy";
  EXPECT_THAT(error_of([&] { Acoustic a(o, world()); }), HasSubstr("missing.npy: expected a NumPy .npy mask"));
}

TEST(Acoustic, DispersionErrorOfTheScheme) {
  // Along an axis, sin(omega dt/2) = lambda sin(k h/2) in closed form.
  const double lambda = 1 / std::sqrt(3.0), k = 2 * M_PI / 10;
  const double axis = 2 * std::asin(lambda * std::sin(k / 2)) / (lambda * k) - 1;
  EXPECT_NEAR(Acoustic::dispersion_error(3, 10, 1.0), std::abs(axis), 1e-12);
  // Second order in h: twice the points, a quarter of the error.
  EXPECT_NEAR(Acoustic::dispersion_error(3, 20, 1.0) / Acoustic::dispersion_error(3, 10, 1.0), 0.25, 0.01);
  // 1D-like magic step: at cfl = 1 in 2D the diagonal is exact, the axes are not.
  EXPECT_GT(Acoustic::dispersion_error(2, 10, 1.0), 1e-3);
}

TEST(Acoustic, BuiltFromConfigAndBadInputIsOneLine) {
  const auto make = [](const std::string& extra, const std::string& receivers = "[[0.5, 0.4, 0.3]]") {
    Config c = Config::parse("[solver]\nname = \"acoustic3d\"\nlx = 1.0\nly = 0.8\nlz = 0.6\nf_max = 800\nppw = 6\n"
                             "duration = 1e-3\ndt_out = 5e-4\nreceivers = " + receivers + "\n" + extra);
    return solvers::make_solver("", c, MPI_COMM_WORLD);
  };
  auto s = make("impedance = [2000.0]\nx0 = 0.3\n");
  EXPECT_EQ(s->name(), "acoustic3d");
  EXPECT_EQ(s->parameter_names(), (std::vector<std::string>{"x0", "y0", "z0"}));
  EXPECT_EQ(s->default_parameters().at("x0"), 0.3);
  EXPECT_EQ(s->receiver_names(), std::vector<std::string>{"r0"});
  s->advance();
  EXPECT_EQ(s->receiver_rows().back().size(), 2u);

  EXPECT_THAT(error_of([&] { make("cfl = 1.2\n"); }), HasSubstr("cfl = 1.2 is unstable: expected cfl <= 1"));
  EXPECT_THAT(error_of([&] { make("", "[[0.5, 0.4, 0.9]]"); }),
              HasSubstr("receiver r0 is outside the room: expected coordinate 2 in [0, 0.6] m, got 0.9"));
  EXPECT_THAT(error_of([&] { make("", "[[0.5, 0.4]]"); }),
              HasSubstr("expected a list of points with 3 coordinates each"));
  EXPECT_THAT(error_of([&] { make("impedance = [1.0, 2.0]\n"); }),
              HasSubstr("expected one Z for every wall or 6 (x-, x+, y-, y+, z-, z+)"));
  EXPECT_THAT(error_of([&] { make("impedance = [-3.0]\n"); }), HasSubstr("expected Z > 0"));
  EXPECT_THAT(error_of([&] { make("room = \"mask\"\n"); }), HasSubstr("room = \"mask\" needs mask = \"FILE.npy\""));
  EXPECT_THAT(error_of([&] { make("room = \"lshape\"\ncut = [1.5, 0.2]\n"); }),
              HasSubstr("expected the L-shape's cut inside the room"));
  EXPECT_THAT(error_of([&] { make("speed = 3\n"); }), HasSubstr("speed"));
  EXPECT_THAT(error_of([&] { s->reset({{"z0", 0.7}}); }),
              HasSubstr("expected the source inside the room, z0 in [0, 0.6] m, got 0.7"));
  EXPECT_THAT(error_of([&] { s->reset({{"w0", 0.1}}); }), HasSubstr("acoustic3d has no parameter 'w0'"));
}

TEST(Acoustic, NonFiniteStateStopsWithOneLine) {
  auto o = small_lshape();
  Acoustic a(o, world());
  a.set_initial([](const std::array<double, 3>& x) { return x[0] > 0.5 ? NAN : 0.0; });
  a.reset({});
  EXPECT_THAT(error_of([&] { a.advance(); }), HasSubstr("acoustic3d: the solution is not finite at t = "));
}
