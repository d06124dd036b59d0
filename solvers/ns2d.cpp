#include "solvers/ns2d.hpp"

#include <fftw3-mpi.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/runtime.hpp"

namespace pdestream::solvers {

Ns2dOptions Ns2dOptions::from_section(SectionReader& s) {
  Ns2dOptions o;
  spectral::read_spectral_options(s, o, 4, 4, 1 << 16, true);
  o.forcing = s.get_double("forcing", o.forcing);
  o.initial = s.get_string("initial", o.initial, {"grf", "taylor_green"});
  o.velocity = s.get_bool("velocity", o.velocity);
  o.cfl_max = s.get_double("cfl_max", o.cfl_max, 1e-6, 100.0);
  return o;
}

namespace {

void fftw_mpi_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { fftw_mpi_init(); });
}

}  // namespace

Ns2d::Ns2d(const Ns2dOptions& options, MPI_Comm comm) : options_(options), comm_(comm) {
  auto& o = options_;
  if (o.solve_nx == 0) o.solve_nx = o.nx;
  PDS_CHECK(o.solve_nx >= 4 && o.solve_nx % 2 == 0, "ns2d needs an even solve_nx >= 4, got " << o.solve_nx);
  PDS_CHECK(o.nx >= 2 && o.solve_nx % o.nx == 0,
            "ns2d needs nx dividing solve_nx = " << o.solve_nx << ", got nx = " << o.nx);
  PDS_CHECK(o.t_final > 0 && o.dt > 0 && o.outputs >= 1,
            "ns2d needs t_final > 0, dt > 0 and outputs >= 1, got " << o.t_final << ", " << o.dt << ", " << o.outputs);
  PDS_CHECK(o.initial == "grf" || o.initial == "taylor_green",
            "ns2d initial must be grf or taylor_green, got '" << o.initial << "'");

  n_ = o.solve_nx;
  nky_ = n_ / 2 + 1;
  const int sub = n_ / o.nx;
  grid_ = Grid::make_2d(o.nx, o.nx);
  grid_.periodic = {true, true, false};

  const double interval = output_interval();
  steps_per_output_ = std::max(1, static_cast<int>(std::ceil(interval / o.dt * (1.0 - 1e-12))));
  h_ = interval / steps_per_output_;

  ptrdiff_t alloc = 0;
  {
    std::lock_guard<std::mutex> lock(spectral::fftw_planner_mutex());
    fftw_mpi_init_once();
    ptrdiff_t ln0 = 0, s0 = 0, ln1 = 0, s1 = 0;
    // Complex dimensions n x (n/2+1): FFTW-MPI's r2c sizes are given in complex entries.
    alloc = fftw_mpi_local_size_2d_transposed(n_, nky_, comm_, &ln0, &s0, &ln1, &s1);
    row0_ = static_cast<int>(s0);
    rows_ = static_cast<int>(ln0);
    ky0_ = static_cast<int>(s1);
    kys_ = static_cast<int>(ln1);
  }
  // Output rows: output row I is solve row I * sub; this rank owns those among its slab.
  box_.lo = {(row0_ + sub - 1) / sub, 0, 0};
  box_.hi = {(row0_ + rows_ + sub - 1) / sub, o.nx, 1};
  int ok = rows_ > 0 && kys_ > 0 && box_.extent(0) > 0, all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm_);
  PDS_CHECK(all_ok, "ns2d on " << comm_size(comm_) << " ranks: every rank needs at least one row of the "
                               << o.nx << "-point output grid and of the " << n_
                               << "-point solve grid; use fewer ranks per simulation or a larger grid");
  {
    std::lock_guard<std::mutex> lock(spectral::fftw_planner_mutex());
    alloc_ = static_cast<std::size_t>(std::max<ptrdiff_t>(alloc, 1));
    real_ = fftw_alloc_real(2 * alloc_);
    spec_ = reinterpret_cast<Complex*>(fftw_alloc_complex(alloc_));
    // FFTW_ESTIMATE: the plan does not depend on timing runs, so a rerun gives the same bits.
    // Transposed Fourier layout: the inverse transform starts from it, saving two of the
    // four global transposes per forward/backward pair.
    // The batched layout distributes exactly like the single one (same block sizes).
    ptrdiff_t dims[2] = {n_, nky_}, l0 = 0, s0 = 0, l1 = 0, s1 = 0;
    const ptrdiff_t alloc4 = fftw_mpi_local_size_many_transposed(2, dims, 4, FFTW_MPI_DEFAULT_BLOCK,
                                                                 FFTW_MPI_DEFAULT_BLOCK, comm_, &l0, &s0, &l1, &s1);
    real4_ = fftw_alloc_real(2 * std::max<ptrdiff_t>(alloc4, 1));
    spec4_ = reinterpret_cast<Complex*>(fftw_alloc_complex(std::max<ptrdiff_t>(alloc4, 1)));
    if (real_ && spec_ && real4_ && spec4_ && l0 == rows_ && s0 == row0_ && l1 == kys_ && s1 == ky0_) {
      plan_r2c_ = fftw_mpi_plan_dft_r2c_2d(n_, n_, real_, reinterpret_cast<fftw_complex*>(spec_), comm_,
                                           FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_OUT);
      plan_c2r_ = fftw_mpi_plan_dft_c2r_2d(n_, n_, reinterpret_cast<fftw_complex*>(spec_), real_, comm_,
                                           FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_IN);
      const ptrdiff_t real_dims[2] = {n_, n_};
      plan_c2r4_ = fftw_mpi_plan_many_dft_c2r(2, real_dims, 4, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK,
                                              reinterpret_cast<fftw_complex*>(spec4_), real4_, comm_,
                                              FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_IN);
    }
  }
  if (!plan_r2c_ || !plan_c2r_ || !plan_c2r4_) {
    release();  // the destructor does not run when the constructor throws
    PDS_FAIL("ns2d: FFTW-MPI could not allocate or plan a " << n_ << "^2 transform");
  }

  const std::size_t nspec = static_cast<std::size_t>(kys_) * n_;
  for (auto* v : {&w_, &f_now_, &f_next_, &n0_, &n1_, &wstar_}) v->assign(nspec, 0.0);
  kx_.assign(nspec, 0.0);
  ky_.assign(nspec, 0.0);
  k2_.assign(nspec, 0.0);
  mask_.assign(nspec, 0.0);
  for (int jl = 0; jl < kys_; ++jl) {
    const int ky = ky0_ + jl;
    for (int ix = 0; ix < n_; ++ix) {
      const std::size_t idx = static_cast<std::size_t>(jl) * n_ + ix;
      const int kx = spectral::wavenumber(ix, n_);
      k2_[idx] = static_cast<double>(kx) * kx + static_cast<double>(ky) * ky;
      // Derivatives of the Nyquist modes are not real-valued: drop them (they are outside the
      // 2/3 band anyway).
      kx_[idx] = 2 * ix == n_ ? 0.0 : 2.0 * M_PI * kx;
      ky_[idx] = 2 * ky == n_ ? 0.0 : 2.0 * M_PI * ky;
      // 2/3 rule, as ns_2d.py: keep |kx|, |ky| <= (2/3) (n/2).
      mask_[idx] = (3 * std::abs(kx) <= n_ && 3 * ky <= n_) ? 1.0 : 0.0;
    }
  }
  params_ = options_.defaults;
  reset(options_.defaults);
}

Ns2d::~Ns2d() { release(); }

void Ns2d::release() {
  std::lock_guard<std::mutex> lock(spectral::fftw_planner_mutex());
  if (plan_r2c_) fftw_destroy_plan(plan_r2c_);
  if (plan_c2r_) fftw_destroy_plan(plan_c2r_);
  if (plan_c2r4_) fftw_destroy_plan(plan_c2r4_);
  fftw_free(real_);
  fftw_free(spec_);
  fftw_free(real4_);
  fftw_free(spec4_);
  plan_r2c_ = plan_c2r_ = plan_c2r4_ = nullptr;
  real_ = real4_ = nullptr;
  spec_ = spec4_ = nullptr;
}

std::vector<std::string> Ns2d::channels() const {
  if (options_.velocity) return {"w", "u", "v"};
  return {"w"};
}

void Ns2d::forward_buffer(std::vector<Complex>& out) const {
  fftw_execute(plan_r2c_);
  const double scale = 1.0 / (static_cast<double>(n_) * n_);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = spec_[i] * scale;
}

void Ns2d::forward(const std::function<double(double, double)>& f, std::vector<Complex>& out) const {
  const std::size_t stride = 2 * nky_;
  for (int il = 0; il < rows_; ++il)
    for (int j = 0; j < n_; ++j)
      real_[il * stride + j] = f(static_cast<double>(row0_ + il) / n_, static_cast<double>(j) / n_);
  forward_buffer(out);
}

void Ns2d::backward(const std::vector<Complex>& in, double* out) const {
  std::copy(in.begin(), in.end(), spec_);  // c2r overwrites its input
  fftw_execute(plan_c2r_);
  std::copy(real_, real_ + static_cast<std::size_t>(rows_) * 2 * nky_, out);
}

void Ns2d::forcing_at(double t, std::vector<Complex>& out) const {
  if (forcing_) {
    forward([&](double x, double y) { return forcing_(x, y, t); }, out);
    return;
  }
  const double a = options_.forcing;
  forward([a](double x, double y) { return a * (std::sin(2 * M_PI * (x + y)) + std::cos(2 * M_PI * (x + y))); },
          out);
}

void Ns2d::reset(const Parameters& params) {
  Parameters next = merged_parameters(params);
  PDS_CHECK(next["nu"] > 0, "ns2d parameter nu must be > 0, got " << next["nu"]);
  const std::uint64_t seed = spectral::seed_from_parameter("ns2d", "ic_seed", next["ic_seed"]);
  params_ = next;
  time_ = 0.0;
  output_index_ = 0;
  steps_ = 0;
  max_cfl_ = 0.0;

  if (initial_) {
    forward(initial_, w_);
  } else if (options_.initial == "taylor_green") {
    forward([](double x, double y) { return 4 * M_PI * std::sin(2 * M_PI * x) * std::sin(2 * M_PI * y); }, w_);
  } else {
    // Hermitian coefficients with E|w_k|^2 = mu_k: each mode of the half plane ky > 0 is
    // drawn from (seed, kx, ky); on ky = 0, kx < 0 is the conjugate of kx > 0. Mean and
    // Nyquist modes are zero. Every rank draws exactly the modes it owns.
    for (int jl = 0; jl < kys_; ++jl) {
      const int ky = ky0_ + jl;
      for (int ix = 0; ix < n_; ++ix) {
        const std::size_t idx = static_cast<std::size_t>(jl) * n_ + ix;
        const int kx = spectral::wavenumber(ix, n_);
        w_[idx] = 0.0;
        if ((kx == 0 && ky == 0) || 2 * ix == n_ || 2 * ky == n_) continue;
        const double amp = std::sqrt(options_.ic.mode_variance(k2_[idx]) / 2.0);
        if (ky > 0) {
          const auto g = spectral::gaussian_pair(seed, kx, ky);
          w_[idx] = amp * Complex(g[0], g[1]);
        } else {
          const auto g = spectral::gaussian_pair(seed, std::abs(kx), 0);
          w_[idx] = amp * Complex(g[0], kx > 0 ? g[1] : -g[1]);
        }
      }
    }
  }
  forcing_at(0.0, f_now_);
  if (!forcing_) f_next_ = f_now_;
}

void Ns2d::nonlinear(const std::vector<Complex>& w, std::vector<Complex>& out) {
  const std::size_t nspec = w.size();
  const Complex i(0.0, 1.0);
  // Stream function psi_k = w_k / (4 pi^2 |k|^2); u = psi_y, v = -psi_x. The four fields
  // are interleaved (field fastest) for the batched transform.
  for (std::size_t k = 0; k < nspec; ++k) {
    const Complex psi = k2_[k] > 0 ? w[k] / (4 * M_PI * M_PI * k2_[k]) : Complex(0.0);
    spec4_[4 * k + 0] = i * ky_[k] * psi;
    spec4_[4 * k + 1] = -i * kx_[k] * psi;
    spec4_[4 * k + 2] = i * kx_[k] * w[k];
    spec4_[4 * k + 3] = i * ky_[k] * w[k];
  }
  fftw_execute(plan_c2r4_);
  const std::size_t stride = 2 * nky_;
  double umax = 0, vmax = 0;
  for (int il = 0; il < rows_; ++il)
    for (int j = 0; j < n_; ++j) {
      const std::size_t p = il * stride + j;
      const double* f = real4_ + 4 * p;  // u, v, w_x, w_y at this point
      real_[p] = f[0] * f[2] + f[1] * f[3];
      umax = std::max(umax, std::abs(f[0]));
      vmax = std::max(vmax, std::abs(f[1]));
    }
  max_cfl_ = std::max(max_cfl_, h_ * (umax + vmax) * n_);
  forward_buffer(out);
  for (std::size_t k = 0; k < nspec; ++k) out[k] *= mask_[k];
}

// Heun + Crank-Nicolson, per mode with a = h nu 4 pi^2 |k|^2 / 2 and F = (f^n + f^{n+1})/2:
//   w*      = [(1 - a) w^n + h (F - N(w^n))] / (1 + a)
//   w^{n+1} = [(1 - a) w^n + h (F - (N(w^n) + N(w*)) / 2)] / (1 + a)
void Ns2d::step() {
  const double nu = params_.at("nu"), h = h_;
  if (forcing_) forcing_at((steps_ + 1) * h, f_next_);
  nonlinear(w_, n0_);
  const std::size_t nspec = w_.size();
  for (std::size_t k = 0; k < nspec; ++k) {
    const double a = 0.5 * h * nu * 4 * M_PI * M_PI * k2_[k];
    const Complex f = 0.5 * (f_now_[k] + f_next_[k]);
    wstar_[k] = ((1 - a) * w_[k] + h * (f - n0_[k])) / (1 + a);
  }
  nonlinear(wstar_, n1_);
  for (std::size_t k = 0; k < nspec; ++k) {
    const double a = 0.5 * h * nu * 4 * M_PI * M_PI * k2_[k];
    const Complex f = 0.5 * (f_now_[k] + f_next_[k]);
    w_[k] = ((1 - a) * w_[k] + h * (f - 0.5 * (n0_[k] + n1_[k]))) / (1 + a);
  }
  if (forcing_) std::swap(f_now_, f_next_);
}

void Ns2d::advance() {
  PDS_CHECK(output_index_ < options_.outputs,
            "ns2d: trajectory already has all " << options_.outputs << " outputs; call reset() first");
  for (int s = 0; s < steps_per_output_; ++s) {
    step();
    ++steps_;
    time_ = steps_ * h_;
  }
  ++output_index_;
  time_ = output_index_ * output_interval();
  // One reduction per output: the CFL number and finiteness, so every rank agrees on
  // whether (and with which message) the run stops.
  double local[2] = {max_cfl_, 0.0}, global[2] = {0.0, 0.0};
  for (const auto& c : w_)
    if (!std::isfinite(c.real()) || !std::isfinite(c.imag())) local[1] = 1.0;
  if (!std::isfinite(local[0])) local[1] = 1.0;
  MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_MAX, comm_);
  max_cfl_ = global[0];
  PDS_CHECK(global[1] == 0.0, "ns2d: the vorticity is not finite at t = " << time_ << " (nu = " << params_.at("nu")
                                                                          << ", dt = " << h_ << "): reduce dt");
  PDS_CHECK(max_cfl_ <= options_.cfl_max, "ns2d: CFL number dt (|u| + |v|) / h = "
                                              << max_cfl_ << " exceeds cfl_max = " << options_.cfl_max
                                              << " before t = " << time_ << " (dt = " << h_ << ", solve_nx = " << n_
                                              << "): reduce dt");
}

std::vector<double> Ns2d::solve_grid_vorticity() const {
  std::vector<double> padded(static_cast<std::size_t>(rows_) * 2 * nky_), out(static_cast<std::size_t>(rows_) * n_);
  backward(w_, padded.data());
  for (int il = 0; il < rows_; ++il)
    std::copy(padded.begin() + il * 2 * nky_, padded.begin() + il * 2 * nky_ + n_, out.begin() + il * n_);
  return out;
}

Field Ns2d::snapshot() const {
  const int sub = n_ / options_.nx;
  const std::size_t stride = 2 * nky_;
  std::vector<std::vector<double>> phys;
  std::vector<double> buf(static_cast<std::size_t>(rows_) * stride);
  backward(w_, buf.data());
  phys.push_back(buf);
  if (options_.velocity) {
    std::vector<Complex> vel(w_.size());
    const Complex i(0.0, 1.0);
    for (int c = 0; c < 2; ++c) {
      for (std::size_t k = 0; k < w_.size(); ++k) {
        const Complex psi = k2_[k] > 0 ? w_[k] / (4 * M_PI * M_PI * k2_[k]) : Complex(0.0);
        vel[k] = c == 0 ? i * ky_[k] * psi : -i * kx_[k] * psi;
      }
      backward(vel, buf.data());
      phys.push_back(buf);
    }
  }
  Field f(channels(), box_);
  for (int I = box_.lo[0]; I < box_.hi[0]; ++I)
    for (int J = 0; J < options_.nx; ++J)
      for (std::size_t c = 0; c < phys.size(); ++c)
        f.at(I, J, 0, static_cast<int>(c)) = phys[c][(I * sub - row0_) * stride + J * sub];
  return f;
}

}  // namespace pdestream::solvers
