#pragma once
// ns2d: incompressible Navier-Stokes in vorticity form on the unit torus,
//   w_t + u . grad w = nu Laplacian w + f,   u = (psi_y, -psi_x),   -Laplacian psi = w,
// with the Fourier Neural Operator paper's data: forcing f = 0.1 (sin 2 pi (x + y) +
// cos 2 pi (x + y)) and initial vorticity w0 ~ N(0, 7^3 (-Laplacian + 49 I)^-2.5).
//
// Method: Fourier pseudo-spectral with 2/3-rule dealiasing of the nonlinear term (as FNO's
// ns_2d.py), Crank-Nicolson for the viscous term and Heun (explicit trapezoid) for the
// nonlinear term and forcing: second order in time, and still unconditionally stable for
// the stiff viscous part. (FNO's generator takes one explicit Euler step for u . grad w, so
// it is first order; with the Heun corrector the same dt is far more accurate.)
//
// Parallelism: one simulation runs on all ranks of its communicator. The solve grid is
// split into x-slabs by FFTW-MPI (fftw_mpi_plan_dft_r2c_2d with transposed Fourier
// layout, so each transform needs one global transpose, not two; the four inverse
// transforms of u . grad w are batched into one); snapshot() returns this rank's rows of
// the (subsampled) output grid. Only agreement to round-off across rank counts is promised
// (FFTW may split the sums differently); 1 and 2 ranks measure bit-identical here.
//
// Sampled parameters: ic_seed (floored to an integer seed of the random initial field) and
// nu.

#include <complex>
#include <functional>
#include <string>
#include <vector>

#include "solvers/solver.hpp"
#include "solvers/spectral.hpp"

struct fftw_plan_s;  // fftw3.h's plan type; the header itself stays in the .cpp

namespace pdestream::solvers {

struct Ns2dOptions {
  int nx = 64;                // output points per axis (x = i / nx); must divide solve_nx
  int solve_nx = 0;           // points per axis of the spectral solve (0: same as nx)
  double t_final = 50.0;      // end time
  int outputs = 50;           // output intervals (Nt = outputs + 1 frames, w0 included)
  double dt = 1e-3;           // largest time step; each output interval takes whole steps
  double forcing = 0.1;       // amplitude A of f = A (sin 2 pi (x+y) + cos 2 pi (x+y))
  std::string initial = "grf";  // "grf" (random field) | "taylor_green" (4 pi sin sin)
  bool velocity = false;      // also output the velocity channels u, v
  double cfl_max = 1.0;       // stop with an error when dt (|u|max + |v|max) / h exceeds it
  spectral::GrfSpec ic{7.0 * 2.6457513110645907, 7.0, 2.5};  // sigma = 7^1.5, tau, alpha
  Parameters defaults = {{"ic_seed", 0.0}, {"nu", 1e-3}};

  static Ns2dOptions from_section(SectionReader& section);
};

class Ns2d : public Solver {
 public:
  using SpaceFunction = std::function<double(double x, double y)>;
  using SpaceTimeFunction = std::function<double(double x, double y, double t)>;

  Ns2d(const Ns2dOptions& options, MPI_Comm comm);
  ~Ns2d() override;
  Ns2d(const Ns2d&) = delete;
  Ns2d& operator=(const Ns2d&) = delete;

  std::string name() const override { return "ns2d"; }
  MPI_Comm comm() const override { return comm_; }
  const Grid& grid() const override { return grid_; }
  std::vector<std::string> channels() const override;
  Box local_box() const override { return box_; }
  std::vector<std::string> parameter_names() const override { return {"ic_seed", "nu"}; }
  Parameters default_parameters() const override { return options_.defaults; }

  void reset(const Parameters& params) override;
  void advance() override;
  double time() const override { return time_; }
  int output_index() const override { return output_index_; }
  int num_outputs() const override { return options_.outputs; }
  double output_interval() const override { return options_.t_final / options_.outputs; }
  Field snapshot() const override;

  // Replace the initial vorticity (e.g. an exact solution); takes effect at the next
  // reset(). An empty function restores options().initial.
  void set_initial(SpaceFunction w0) { initial_ = std::move(w0); }
  // Replace the FNO forcing by a time-dependent one (manufactured solutions); takes effect
  // at the next reset(). An empty function restores the FNO forcing.
  void set_forcing(SpaceTimeFunction f) { forcing_ = std::move(f); }

  const Ns2dOptions& options() const { return options_; }
  double step_size() const { return h_; }
  int steps_per_output() const { return steps_per_output_; }
  // Largest CFL number dt (|u| + |v|) / h seen since reset.
  double max_cfl() const { return max_cfl_; }
  // This rank's rows [x0, x1) of the solve grid, and its vorticity there (row-major x, y).
  std::pair<int, int> solve_rows() const { return {row0_, row0_ + rows_}; }
  std::vector<double> solve_grid_vorticity() const;

 private:
  using Complex = std::complex<double>;
  // Fourier coefficients of a physical field on this rank's rows.
  void forward(const std::function<double(double x, double y)>& f, std::vector<Complex>& out) const;
  void forward_buffer(std::vector<Complex>& out) const;  // from real_ (destroys it)
  void backward(const std::vector<Complex>& in, double* out) const;
  // Dealiased coefficients of u . grad w; records the CFL number.
  void nonlinear(const std::vector<Complex>& w, std::vector<Complex>& out);
  void forcing_at(double t, std::vector<Complex>& out) const;
  void step();
  void release();  // FFTW plans and buffers

  Ns2dOptions options_;
  MPI_Comm comm_;
  Grid grid_;
  Box box_;
  Parameters params_;
  SpaceFunction initial_;
  SpaceTimeFunction forcing_;
  double h_ = 0.0;
  int steps_per_output_ = 1;
  double time_ = 0.0;
  int output_index_ = 0;
  long long steps_ = 0;
  double max_cfl_ = 0.0;

  int n_ = 0;             // solve points per axis
  int nky_ = 0;           // n / 2 + 1
  int row0_ = 0, rows_ = 0;    // this rank's x-rows of the real grid
  int ky0_ = 0, kys_ = 0;      // this rank's ky-planes of the (transposed) Fourier grid
  std::size_t alloc_ = 0;      // complex entries FFTW asks each rank to allocate
  // Fourier arrays: [ky - ky0][kx index 0..n-1], the transposed layout of FFTW-MPI.
  std::vector<Complex> w_, f_now_, f_next_, n0_, n1_, wstar_;
  std::vector<double> kx_, ky_, k2_, mask_;
  fftw_plan_s* plan_r2c_ = nullptr;
  fftw_plan_s* plan_c2r_ = nullptr;
  double* real_ = nullptr;
  Complex* spec_ = nullptr;
  // The four fields of u . grad w (u, v, w_x, w_y) go back to the grid in one batched,
  // interleaved transform: one global transpose instead of four.
  fftw_plan_s* plan_c2r4_ = nullptr;
  double* real4_ = nullptr;
  Complex* spec4_ = nullptr;
};

}  // namespace pdestream::solvers
