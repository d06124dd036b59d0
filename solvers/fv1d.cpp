#include "solvers/fv1d.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "core/random.hpp"
#include "core/runtime.hpp"
#include "solvers/spectral.hpp"

namespace pdestream::solvers {

namespace {

// Slope of the MUSCL reconstruction from the differences to the left and right neighbours.
double limited_slope(const std::string& limiter, double dl, double dr) {
  if (limiter == "none") return 0.5 * (dl + dr);
  if (dl * dr <= 0) return 0.0;
  const double s = dl > 0 ? 1.0 : -1.0;
  if (limiter == "minmod") return s * std::min(std::abs(dl), std::abs(dr));
  return s * std::min({2 * std::abs(dl), 2 * std::abs(dr), 0.5 * std::abs(dl + dr)});  // mc
}

}  // namespace

Fv1dOptions Fv1dOptions::defaults_of(const std::string& solver) {
  Fv1dOptions o;
  if (solver == "advection1d") {
    o.defaults = {{"ic_seed", 0.0}, {"beta", 0.4}};
  } else if (solver == "burgers1d_fv") {
    o.defaults = {{"ic_seed", 0.0}, {"nu", 0.01}};
  } else {
    o.t_final = 1.0;
    o.defaults = {{"ic_seed", 0.0}, {"nu", 0.5}, {"rho", 1.0}};
  }
  return o;
}

Fv1dOptions Fv1dOptions::from_section(const std::string& solver, SectionReader& s) {
  Fv1dOptions o = defaults_of(solver);
  o.nx = static_cast<int>(s.get_int("nx", o.nx, 8, 1 << 24));
  o.t_final = s.get_double("t_final", o.t_final, 1e-12, 1e9);
  o.dt_out = s.get_double("dt_out", o.dt_out, 1e-12, 1e9);
  if (solver != "diffreact1d") o.cfl = s.get_double("cfl", o.cfl, 1e-6, 1.0);
  if (solver == "diffreact1d") o.dt = s.get_double("dt", o.dt, 1e-12, 1e9);
  if (solver != "diffreact1d") o.limiter = s.get_string("limiter", o.limiter, {"mc", "minmod", "none"});
  o.defaults["ic_seed"] = s.get_double("ic_seed", o.defaults["ic_seed"], 0.0, 9007199254740991.0);
  for (auto& [name, value] : o.defaults)
    if (name != "ic_seed") value = s.get_double(name, value);
  return o;
}

std::vector<double> pdebench_initial_condition(const std::vector<double>& x, std::uint64_t seed, bool to_unit) {
  std::vector<double> u(x.size(), 0.0);
  for (int j = 0; j < 2; ++j) {
    const double k = 1 + std::floor(4 * uniform01(seed, 3 * j));
    const double a = uniform01(seed, 3 * j + 1), phi = 2 * M_PI * uniform01(seed, 3 * j + 2);
    for (std::size_t i = 0; i < x.size(); ++i) u[i] += a * std::sin(2 * M_PI * k * x[i] + phi);
  }
  if (uniform01(seed, 6) < 0.1)
    for (auto& v : u) v = std::abs(v);
  if (uniform01(seed, 7) < 0.5)
    for (auto& v : u) v = -v;
  if (uniform01(seed, 8) < 0.1) {
    const double xl = 0.1 + 0.35 * uniform01(seed, 9), xr = 0.55 + 0.35 * uniform01(seed, 10);
    for (std::size_t i = 0; i < x.size(); ++i)
      u[i] *= 0.5 * (std::tanh((x[i] - xl) / 0.01) - std::tanh((x[i] - xr) / 0.01));
  }
  if (to_unit && !u.empty()) {
    const auto [lo, hi] = std::minmax_element(u.begin(), u.end());
    const double a = *lo, range = *hi - *lo;
    for (auto& v : u) v = range > 0 ? (v - a) / range : 0.5;
  }
  return u;
}

FiniteVolume1d::FiniteVolume1d(std::string name, const Fv1dOptions& options, MPI_Comm comm)
    : name_(std::move(name)), options_(options), comm_(comm) {
  const auto& o = options_;
  rank_ = comm_rank(comm_);
  size_ = comm_size(comm_);
  PDS_CHECK(o.nx >= 2 * size_, name_ << " on " << size_ << " ranks needs nx >= " << 2 * size_
                                     << " (at least 2 cells per rank, the stencil's ghost width), got nx = " << o.nx);
  PDS_CHECK(o.limiter == "mc" || o.limiter == "minmod" || o.limiter == "none",
            name_ << ": limiter: expected mc, minmod or none, got \"" << o.limiter << "\"");
  PDS_CHECK(o.t_final > 0 && o.dt_out > 0 && o.cfl > 0 && o.dt > 0,
            name_ << ": expected t_final, dt_out, cfl and dt > 0, got " << o.t_final << ", " << o.dt_out << ", "
                  << o.cfl << ", " << o.dt);
  const double ratio = o.t_final / o.dt_out;
  outputs_ = static_cast<int>(std::llround(ratio));
  PDS_CHECK(outputs_ >= 1 && std::abs(ratio - outputs_) <= 1e-9 * ratio,
            name_ << ": t_final / dt_out must be a whole number of frames, got " << o.t_final << " / " << o.dt_out
                  << " = " << ratio);

  const double h = 1.0 / o.nx;
  grid_.dim = 1;
  grid_.shape = {o.nx, 1, 1};
  grid_.lower = {0.5 * h, 0.0, 0.0};  // cell centres: the grid's points are (i + 1/2) h
  grid_.upper = {1.0 + 0.5 * h, 0.0, 0.0};
  grid_.periodic = {true, false, false};
  grid_.validate();
  counts_.resize(size_);
  displs_.resize(size_);
  for (int r = 0; r < size_; ++r) {
    displs_[r] = static_cast<int>(static_cast<long long>(r) * o.nx / size_);
    counts_[r] = static_cast<int>(static_cast<long long>(r + 1) * o.nx / size_) - displs_[r];
  }
  box_.lo = {displs_[rank_], 0, 0};
  box_.hi = {displs_[rank_] + counts_[rank_], 1, 1};
  const int m = counts_[rank_];
  u_.assign(m, 0.0);
  ghost_.assign(m + 4, 0.0);
  stage_.assign(m, 0.0);
  rhs_.assign(m, 0.0);
  fft_ = std::make_unique<spectral::RealFft1d>(o.nx, name_);
  params_ = options_.defaults;
}

FiniteVolume1d::~FiniteVolume1d() = default;

std::vector<std::string> FiniteVolume1d::parameter_names() const {
  std::vector<std::string> names = {"ic_seed"};
  for (const auto& [name, value] : options_.defaults)
    if (name != "ic_seed") names.push_back(name);
  return names;
}

void FiniteVolume1d::reset(const Parameters& params) {
  Parameters next = merged_parameters(params);
  check_parameters(next);
  params_ = next;
  time_ = 0.0;
  output_index_ = 0;
  steps_ = 0;
  const int lo = box_.lo[0];
  if (initial_) {
    for (std::size_t i = 0; i < u_.size(); ++i) u_[i] = initial_(grid_.coordinate(0, lo + static_cast<int>(i)));
  } else {
    // The whole line on every rank (min and max for diffreact1d's mapping need all cells).
    const auto seed = spectral::seed_from_parameter(name_, "ic_seed", params_.at("ic_seed"));
    const auto all = pdebench_initial_condition(grid_.coordinates(0), seed, initial_to_unit());
    std::copy(all.begin() + lo, all.begin() + lo + static_cast<long>(u_.size()), u_.begin());
  }
  check_finite();
}

void FiniteVolume1d::advance() {
  PDS_CHECK(output_index_ < outputs_, name_ << ": advance() after the last frame (t = " << time_ << ")");
  const double target = (output_index_ + 1) * output_interval();
  long long steps_here = 0;
  while (time_ < target) {
    double dt = std::min(max_step(), options_.dt_out);
    PDS_CHECK(std::isfinite(dt) && dt > 0, name_ << ": the solution is not finite at t = " << time_
                                                 << " (diverged or NaN input)");
    const double remaining = target - time_;
    const bool last = dt >= remaining * (1 - 1e-12);
    if (last) dt = remaining;
    step(dt);
    time_ = last ? target : time_ + dt;
    ++steps_;
    PDS_CHECK(++steps_here <= 100000000, name_ << ": over 1e8 steps in one frame at t = " << time_
                                                << " (a step of " << dt << "): the state is blowing up");
  }
  ++output_index_;
  check_finite();
}

Field FiniteVolume1d::snapshot() const {
  Field f({"u"}, box_);
  for (int i = box_.lo[0]; i < box_.hi[0]; ++i) f.at(i, 0, 0, 0) = u_[i - box_.lo[0]];
  return f;
}

std::vector<double> FiniteVolume1d::gather() const {
  std::vector<double> all(options_.nx);
  MPI_Allgatherv(u_.data(), static_cast<int>(u_.size()), MPI_DOUBLE, all.data(), counts_.data(), displs_.data(),
                 MPI_DOUBLE, comm_);
  return all;
}

void FiniteVolume1d::check_finite() const {
  int bad = 0;
  for (double v : u_)
    if (!std::isfinite(v)) bad = 1;
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, comm_);
  PDS_CHECK(!bad, name_ << ": the solution is not finite at t = " << time_ << " (diverged or NaN input)");
}

double FiniteVolume1d::max_abs() const {
  double m = 0;
  for (double v : u_) m = std::max(m, std::abs(v));  // a NaN leaves m, caught by check_finite
  for (double v : u_)
    if (!std::isfinite(v)) m = std::numeric_limits<double>::infinity();
  MPI_Allreduce(MPI_IN_PLACE, &m, 1, MPI_DOUBLE, MPI_MAX, comm_);
  return m;
}

void FiniteVolume1d::exchange_ghosts() {
  const int m = static_cast<int>(u_.size());
  std::copy(u_.begin(), u_.end(), ghost_.begin() + 2);
  if (size_ == 1) {
    ghost_[0] = u_[m - 2], ghost_[1] = u_[m - 1];
    ghost_[m + 2] = u_[0], ghost_[m + 3] = u_[1];
    return;
  }
  const int left = (rank_ + size_ - 1) % size_, right = (rank_ + 1) % size_;
  // My first two cells are my left neighbour's right ghosts, my last two its left ghosts.
  MPI_Sendrecv(u_.data(), 2, MPI_DOUBLE, left, 0, ghost_.data() + m + 2, 2, MPI_DOUBLE, right, 0, comm_,
               MPI_STATUS_IGNORE);
  MPI_Sendrecv(u_.data() + m - 2, 2, MPI_DOUBLE, right, 1, ghost_.data(), 2, MPI_DOUBLE, left, 1, comm_,
               MPI_STATUS_IGNORE);
}

void FiniteVolume1d::flux_divergence(const std::function<double(double, double)>& flux, std::vector<double>& out) {
  exchange_ghosts();
  const int m = static_cast<int>(u_.size());
  const auto& g = ghost_;
  const std::string& lim = options_.limiter;
  // Face j + 1/2 between ghost-indexed cells j and j + 1, for j = 1 .. m + 1 (faces of the
  // rank's cells: left face of local cell i is face i + 1, right face i + 2).
  std::vector<double> f(m + 3, 0.0);
  for (int j = 1; j <= m + 1; ++j) {
    const double sl = limited_slope(lim, g[j] - g[j - 1], g[j + 1] - g[j]);
    const double sr = limited_slope(lim, g[j + 1] - g[j], g[j + 2] - g[j + 1]);
    f[j] = flux(g[j] + 0.5 * sl, g[j + 1] - 0.5 * sr);
  }
  const double inv = 1.0 / dx();
  for (int i = 0; i < m; ++i) out[i] = -(f[i + 2] - f[i + 1]) * inv;
}

void FiniteVolume1d::ssp_rk2(const std::function<double(double, double)>& flux, double dt) {
  const std::size_t m = u_.size();
  flux_divergence(flux, rhs_);
  for (std::size_t i = 0; i < m; ++i) {
    stage_[i] = u_[i];
    u_[i] += dt * rhs_[i];
  }
  flux_divergence(flux, rhs_);
  for (std::size_t i = 0; i < m; ++i) u_[i] = 0.5 * stage_[i] + 0.5 * (u_[i] + dt * rhs_[i]);
}

void FiniteVolume1d::diffuse(double c, double dt) {
  if (c == 0) return;
  const int n = options_.nx;
  const auto all = gather();
  std::copy(all.begin(), all.end(), fft_->real());
  fft_->forward();
  const double h = dx();
  for (int k = 0; k <= n / 2; ++k) {
    const double s = std::sin(M_PI * k / n);
    fft_->modes()[k] *= std::exp(-c * 4.0 / (h * h) * s * s * dt) / n;
  }
  fft_->backward();
  std::copy(fft_->real() + box_.lo[0], fft_->real() + box_.hi[0], u_.begin());
}

void FiniteVolume1d::add_source(double t_mid, double dt) {
  if (!source_) return;
  for (std::size_t i = 0; i < u_.size(); ++i)
    u_[i] += dt * source_(grid_.coordinate(0, box_.lo[0] + static_cast<int>(i)), t_mid);
}

// ---------------------------------------------------------------------------------------

void Advection1d::check_parameters(const Parameters&) const {}

double Advection1d::max_step() const {
  const double beta = std::abs(parameters().at("beta"));
  return beta > 0 ? options().cfl * dx() / beta : std::numeric_limits<double>::infinity();
}

void Advection1d::step(double dt) {
  const double beta = parameters().at("beta");
  // Upwind: the face takes the reconstruction from the side the wind comes from.
  ssp_rk2([beta](double ul, double ur) { return beta * (beta >= 0 ? ul : ur); }, dt);
}

void BurgersFv1d::check_parameters(const Parameters& p) const {
  PDS_CHECK(p.at("nu") >= 0, name() << " parameter nu must be >= 0, got " << p.at("nu"));
}

double BurgersFv1d::max_step() const {
  const double a = max_abs();
  if (!std::isfinite(a)) return a;  // advance() reports the non-finite state
  return a > 0 ? options().cfl * dx() / a : std::numeric_limits<double>::infinity();
}

void BurgersFv1d::step(double dt) {
  const double c = parameters().at("nu") / M_PI;
  diffuse(c, 0.5 * dt);
  // Rusanov: the central flux plus dissipation at the larger local wave speed.
  ssp_rk2(
      [](double ul, double ur) {
        return 0.25 * (ul * ul + ur * ur) - 0.5 * std::max(std::abs(ul), std::abs(ur)) * (ur - ul);
      },
      dt);
  diffuse(c, 0.5 * dt);
}

void DiffReact1d::check_parameters(const Parameters& p) const {
  PDS_CHECK(p.at("nu") >= 0 && p.at("rho") >= 0,
            name() << " parameters nu and rho must be >= 0, got nu = " << p.at("nu") << ", rho = " << p.at("rho"));
}

double DiffReact1d::max_step() const { return options().dt; }

void DiffReact1d::step(double dt) {
  const double nu = parameters().at("nu"), rho = parameters().at("rho");
  // The exact logistic step u' = rho u (1 - u) over tau.
  auto react = [&](double tau) {
    const double e = std::exp(rho * tau);
    for (auto& v : u()) v = v * e / (1.0 - v + v * e);
  };
  // A source (manufactured solutions) enters symmetrically, so the splitting stays second order.
  react(0.5 * dt);
  add_source(time() + 0.25 * dt, 0.5 * dt);
  diffuse(nu, dt);
  add_source(time() + 0.75 * dt, 0.5 * dt);
  react(0.5 * dt);
}

}  // namespace pdestream::solvers
