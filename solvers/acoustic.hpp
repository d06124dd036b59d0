#pragma once
// acoustic2d / acoustic3d: linear acoustics in a room with impedance walls, for sound fields
// from a source anywhere in it (the DeepONet room-acoustics setting of Borrel-Jensen et al.,
// PNAS 2024).
//
//   p_t = -rho c^2 div v,   v_t = -grad p / rho,   c = 343 m/s, rho = 1.2 kg/m^3
//   p(x, 0) = exp(-|x - x0|^2 / sigma0^2),  sigma0 = c / (pi f_max / 2),  v(x, 0) = 0
//   walls: locally reacting, p = Z v.n (v.n into the wall), one Z per side of the box and one
//          for solid surfaces inside it (Z = inf: rigid; Z = rho c: absorbing at normal incidence)
//
// Method: staggered (Yee) FDTD on a PETSc DMDA, any number of ranks, second order in space and
// time. Pressure lives on the grid points, v_d half a step in x_d after them and half a time
// step before. The room is a set of voxels (the cells between grid points): a box, an L-shape
// or a .npy mask. Each point's update is a finite volume over its dual cell clipped to the air
// voxels (volume fraction, face fractions, wall area), so walls pass through grid points and
// the box reduces to the classic half-cell boundary nodes. The wall term is time-centred
// (implicit in the point's own pressure only), so with rigid walls the discrete energy
//   E^n = sum_i V_i p_i^2 / (2 rho c^2) + rho / 2 sum_f A_f h_f v_f^(n-1/2) v_f^(n+1/2)
// is constant to rounding and any impedance only removes energy. Because every point's face
// fractions are bounded by its volume fraction (sum over the faces along x_d of A_f / V_i <=
// 2 / h_d), no room lowers the interior stability limit: cfl = c dt sqrt(sum_d 1 / h_d^2) <= 1
// (c dt / h <= 1 / sqrt(3) for cubic cells), and a larger cfl is a one-line error.
//
// Resolution: h = c / (f_max ppw) at most, per axis rounded down to divide the room
// (dispersion_error() gives the resulting phase-speed error at f_max). dt is the largest step
// within `cfl` that divides dt_out.
//
// Receivers: `receivers = [[x, y, z], ...]` are interpolated (multilinear) from the grid points
// at every time step; receiver_rows() holds them, identical on every rank.
//
// Sampled parameters: the source position x0, y0 (, z0), in metres.

#include <petscdmda.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "solvers/solver.hpp"

namespace pdestream::solvers {

struct AcousticOptions {
  int dim = 3;
  std::array<double, 3> size{2.0, 2.0, 2.0};  // lx, ly, lz (m)
  double c = 343.0;                           // speed of sound (m/s)
  double rho = 1.2;                           // density (kg/m^3)
  double f_max = 1000.0;                      // highest frequency of the source (Hz)
  double ppw = 10.0;                          // grid points per wavelength at f_max (at least)
  double cfl = 1.0;                           // c dt sqrt(sum 1/h_d^2), stable for <= 1
  double duration = 0.05;                     // simulated time (s)
  double dt_out = 5e-4;                       // time between outputs (s)
  std::string room = "box";                   // "box" | "lshape" | "mask"
  std::array<double, 2> cut{1.0, 1.0};        // lshape: the voxels with x > cut_x and y > cut_y are solid
  std::string mask;                           // mask: .npy (nz, ny, nx) / (ny, nx), nonzero = solid
  std::array<double, 6> impedance;            // x-, x+, y-, y+, z-, z+ (Pa s/m; inf = rigid)
  double solid_impedance;                     // surfaces of the lshape's cut and of mask solids
  std::vector<std::vector<double>> receivers;
  std::vector<std::string> receiver_names;    // default r0, r1, ...
  Parameters defaults;                        // x0, y0 (, z0): the room's centre

  AcousticOptions();
  static AcousticOptions from_section(int dim, SectionReader& section);
  double sigma0() const;
};

class Acoustic : public Solver {
 public:
  using InitialFunction = std::function<double(const std::array<double, 3>& x)>;

  Acoustic(const AcousticOptions& options, MPI_Comm comm);
  ~Acoustic() override;
  Acoustic(const Acoustic&) = delete;
  Acoustic& operator=(const Acoustic&) = delete;

  std::string name() const override { return options_.dim == 3 ? "acoustic3d" : "acoustic2d"; }
  MPI_Comm comm() const override { return comm_; }
  const Grid& grid() const override { return grid_; }
  std::vector<std::string> channels() const override { return {"p"}; }
  Box local_box() const override { return box_; }
  std::vector<std::string> parameter_names() const override;
  Parameters default_parameters() const override { return options_.defaults; }

  void reset(const Parameters& params) override;
  void advance() override;
  double time() const override { return steps_ * dt_; }
  int output_index() const override { return output_index_; }
  int num_outputs() const override { return num_outputs_; }
  double output_interval() const override { return options_.dt_out; }
  Field snapshot() const override;
  std::vector<std::string> receiver_names() const override { return options_.receiver_names; }
  std::vector<std::vector<double>> receiver_rows() const override { return receiver_rows_; }

  // Replaces the Gaussian pulse at the next reset() (tests: plane waves).
  void set_initial(InitialFunction p0) { initial_ = std::move(p0); }

  const AcousticOptions& options() const { return options_; }
  double dt() const { return dt_; }
  int steps_per_output() const { return steps_per_output_; }
  // The discrete energy E^n above (J, or J/m in 2D). Collective.
  double energy() const;
  // Grid points inside the room (volume fraction > 0), over all ranks. Collective.
  long long active_points() const;

  // The exact free-field pressure of the Gaussian pulse at distance r and time t:
  // 3D  [(r - ct) f(r - ct) + (r + ct) f(r + ct)] / (2r), f(s) = exp(-s^2 / sigma0^2);
  // 2D  the Hankel-transform integral of the same pulse (quadrature to ~1e-12).
  static double free_field(int dim, double r, double t, double sigma0, double c);
  // The largest relative phase-speed error of the scheme over propagation directions, at
  // `ppw` points per wavelength on cubic cells with Courant number cfl (as above).
  static double dispersion_error(int dim, double ppw, double cfl);

 private:
  void build_geometry();
  void exchange() const;
  void record_receivers();
  void flush_receivers();
  void step();
  std::size_t local_index(int i, int j, int k) const;

  AcousticOptions options_;
  MPI_Comm comm_;
  Grid grid_;
  Box box_;
  Parameters params_;
  double dt_ = 0;
  int steps_per_output_ = 1;
  int num_outputs_ = 0;
  long long steps_ = 0;
  long long recorded_ = 0;  // time levels whose receiver values are recorded
  int output_index_ = 0;
  InitialFunction initial_;

  // Geometry on the ghosted local block: volume fraction and its inverse, face fractions of
  // the velocities along each axis, and the wall admittance term sum_w 2^(1-D) / (Z_w h_w).
  std::array<int, 3> glo_{0, 0, 0}, gext_{1, 1, 1};
  std::vector<double> volume_, inv_volume_, admittance_;
  std::array<std::vector<double>, 3> face_;

  struct Receiver {
    bool owned = false;
    Grid::Stencil at;
  };
  std::vector<Receiver> receivers_;
  std::vector<double> pending_;  // this rank's contributions, (1 + R) per recorded level
  std::vector<std::vector<double>> receiver_rows_;

  DM da_ = nullptr;
  Vec state_ = nullptr;          // global: p, v_x, v_y (, v_z) per point
  mutable Vec local_ = nullptr;  // ghosted copy
  mutable bool local_current_ = false;  // local_ holds state_'s values (no exchange needed)
};

}  // namespace pdestream::solvers
