#include "solvers/acoustic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "core/npy.hpp"

namespace pdestream::solvers {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const char* kSideNames[6] = {"x-", "x+", "y-", "y+", "z-", "z+"};

enum class Voxel { air, solid, outside };

}  // namespace

AcousticOptions::AcousticOptions() {
  impedance.fill(kInf);
  solid_impedance = kInf;
}

double AcousticOptions::sigma0() const { return c / (M_PI * f_max / 2.0); }

AcousticOptions AcousticOptions::from_section(int dim, SectionReader& s) {
  AcousticOptions o;
  o.dim = dim;
  const char* axes[3] = {"lx", "ly", "lz"};
  for (int d = 0; d < dim; ++d) o.size[d] = s.get_double(axes[d], o.size[d], 1e-6, 1e6);
  o.c = s.get_double("c", o.c, 1e-6, 1e9);
  o.rho = s.get_double("rho", o.rho, 1e-9, 1e9);
  o.f_max = s.get_double("f_max", o.f_max, 1e-6, 1e9);
  o.ppw = s.get_double("ppw", o.ppw, 2.0, 1e4);
  o.cfl = s.get_double("cfl", o.cfl, 1e-6, 1e6);
  o.duration = s.get_double("duration", o.duration, 0.0, 1e6);
  o.dt_out = s.get_double("dt_out", o.dt_out, 1e-15, 1e6);
  o.room = s.get_string("room", o.room, {"box", "lshape", "mask"});
  o.cut = {0.5 * o.size[0], 0.5 * o.size[1]};
  if (s.has("cut")) {
    const auto cut = s.get_doubles("cut");
    PDS_CHECK(cut.size() == 2, s.where("cut") << ": expected [cut_x, cut_y], got " << cut.size() << " numbers");
    o.cut = {cut[0], cut[1]};
  }
  o.mask = s.get_string("mask", "");
  const int sides = 2 * dim;
  if (s.has("impedance")) {
    auto z = s.get_doubles("impedance");
    PDS_CHECK(z.size() == 1 || static_cast<int>(z.size()) == sides,
              s.where("impedance") << ": expected one Z for every wall or " << sides << " (x-, x+, y-, y+"
                                   << (dim == 3 ? ", z-, z+" : "") << ") in Pa s/m (inf = rigid), got "
                                   << z.size() << " numbers");
    for (int w = 0; w < sides; ++w) o.impedance[w] = z.size() == 1 ? z[0] : z[w];
  }
  for (int w = 0; w < sides; ++w)
    PDS_CHECK(o.impedance[w] > 0 && !std::isnan(o.impedance[w]),
              s.where("impedance") << ": expected Z > 0 (Pa s/m; inf = rigid), got " << o.impedance[w]
                                   << " on side " << kSideNames[w]);
  if (s.has("solid_impedance")) {
    const auto z = s.get_doubles("solid_impedance");
    PDS_CHECK(z.size() == 1 && z[0] > 0 && !std::isnan(z[0]),
              s.where("solid_impedance") << ": expected [Z] with Z > 0 (Pa s/m; inf = rigid)");
    o.solid_impedance = z[0];
  }
  o.receivers = s.get_points("receivers", dim, std::vector<std::vector<double>>{});
  o.receiver_names = s.get_strings("receiver_names", std::vector<std::string>{});
  const char* params[3] = {"x0", "y0", "z0"};
  for (int d = 0; d < dim; ++d) o.defaults[params[d]] = s.get_double(params[d], 0.5 * o.size[d]);
  return o;
}

Acoustic::Acoustic(const AcousticOptions& options, MPI_Comm comm) : options_(options), comm_(comm) {
  const int D = options_.dim;
  PDS_CHECK(D == 2 || D == 3, "acoustic solver: expected dim 2 or 3, got " << D);
  if (options_.defaults.empty()) {
    const char* params[3] = {"x0", "y0", "z0"};
    for (int d = 0; d < D; ++d) options_.defaults[params[d]] = 0.5 * options_.size[d];
  }
  PDS_CHECK(options_.cfl <= 1.0 + 1e-12,
            name() << ": cfl = " << options_.cfl << " is unstable: expected cfl <= 1 (cfl = c dt sqrt(sum_d 1/h_d^2); "
                   << "1 is c dt / h = 1/sqrt(" << D << ") on cubic cells)");
  PDS_CHECK(options_.room != "mask" || !options_.mask.empty(),
            name() << ": room = \"mask\" needs mask = \"FILE.npy\", got none");
  PDS_CHECK(options_.room == "mask" || options_.mask.empty(),
            name() << ": mask = \"" << options_.mask << "\" is only read with room = \"mask\", got room = \""
                   << options_.room << "\"");
  if (options_.receiver_names.empty())
    for (std::size_t r = 0; r < options_.receivers.size(); ++r) options_.receiver_names.push_back("r" + std::to_string(r));
  PDS_CHECK(options_.receiver_names.size() == options_.receivers.size(),
            name() << ": expected one receiver name per receiver (" << options_.receivers.size() << "), got "
                   << options_.receiver_names.size());

  // Cells no larger than c / (f_max ppw), each axis divided evenly.
  const double h_target = options_.c / (options_.f_max * options_.ppw);
  grid_.dim = D;
  double inv_h2 = 0;
  for (int d = 0; d < D; ++d) {
    const double cells = std::ceil(options_.size[d] / h_target - 1e-9);
    PDS_CHECK(cells >= 2 && cells <= (1 << 20), name() << ": expected 2 to 2^20 cells along axis " << d << " (l = "
                                                       << options_.size[d] << " m, h <= " << h_target
                                                       << " m), got " << cells);
    grid_.shape[d] = static_cast<int>(cells) + 1;
    grid_.upper[d] = options_.size[d];
    inv_h2 += 1.0 / (grid_.spacing(d) * grid_.spacing(d));
  }
  const double dt_max = options_.cfl / (options_.c * std::sqrt(inv_h2));
  steps_per_output_ = static_cast<int>(std::ceil(options_.dt_out / dt_max - 1e-9));
  dt_ = options_.dt_out / steps_per_output_;
  num_outputs_ = static_cast<int>(std::lround(options_.duration / options_.dt_out));
  PDS_CHECK(num_outputs_ >= 1, name() << ": expected duration >= dt_out, got duration " << options_.duration
                                      << " s and dt_out " << options_.dt_out << " s");
  if (options_.room == "lshape")
    PDS_CHECK(options_.cut[0] > 0 && options_.cut[0] < options_.size[0] && options_.cut[1] > 0 &&
                  options_.cut[1] < options_.size[1],
              name() << ": expected the L-shape's cut inside the room (0 < cut_x < lx, 0 < cut_y < ly), got ["
                     << options_.cut[0] << ", " << options_.cut[1] << "]");

  const PetscInt dof = D + 1;
  if (D == 2)
    PDS_PETSC(DMDACreate2d(comm_, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, grid_.shape[0],
                           grid_.shape[1], PETSC_DECIDE, PETSC_DECIDE, dof, 1, nullptr, nullptr, &da_));
  else
    PDS_PETSC(DMDACreate3d(comm_, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR,
                           grid_.shape[0], grid_.shape[1], grid_.shape[2], PETSC_DECIDE, PETSC_DECIDE,
                           PETSC_DECIDE, dof, 1, nullptr, nullptr, nullptr, &da_));
  PDS_PETSC(DMSetUp(da_));
  PDS_PETSC(DMCreateGlobalVector(da_, &state_));
  PDS_PETSC(DMCreateLocalVector(da_, &local_));
  DMDALocalInfo info;
  PDS_PETSC(DMDAGetLocalInfo(da_, &info));
  box_.lo = {info.xs, info.ys, D == 3 ? info.zs : 0};
  box_.hi = {info.xs + info.xm, info.ys + info.ym, D == 3 ? info.zs + info.zm : 1};
  glo_ = {info.gxs, info.gys, D == 3 ? info.gzs : 0};
  gext_ = {info.gxm, info.gym, D == 3 ? info.gzm : 1};
  build_geometry();

  for (std::size_t r = 0; r < options_.receivers.size(); ++r) {
    for (int d = 0; d < D; ++d) {
      const double x = options_.receivers[r][d];
      PDS_CHECK(x >= 0 && x <= options_.size[d],
                name() << ": receiver " << options_.receiver_names[r] << " is outside the room: expected coordinate "
                       << d << " in [0, " << options_.size[d] << "] m, got " << x);
    }
    Receiver rec;
    rec.at = grid_.stencil(options_.receivers[r]);
    rec.owned = true;
    for (int d = 0; d < D; ++d) rec.owned = rec.owned && rec.at.lo[d] >= box_.lo[d] && rec.at.lo[d] < box_.hi[d];
    receivers_.push_back(rec);
  }
  params_ = options_.defaults;
  reset(options_.defaults);
}

Acoustic::~Acoustic() {
  // Destructors must not throw: PETSc errors here are ignored deliberately.
  VecDestroy(&state_);
  VecDestroy(&local_);
  DMDestroy(&da_);
}

std::vector<std::string> Acoustic::parameter_names() const {
  if (options_.dim == 2) return {"x0", "y0"};
  return {"x0", "y0", "z0"};
}

std::size_t Acoustic::local_index(int i, int j, int k) const {
  return (static_cast<std::size_t>(k - glo_[2]) * gext_[1] + (j - glo_[1])) * gext_[0] + (i - glo_[0]);
}

// Volume, face and wall fractions of every ghosted point's dual cell, from the voxels (cells
// between points) around it. Pure functions of global indices, so every rank agrees.
void Acoustic::build_geometry() {
  const int D = options_.dim;
  NpyMask mask;
  if (options_.room == "mask") {
    mask = read_npy_mask(options_.mask);
    PDS_CHECK(static_cast<int>(mask.shape.size()) == D,
              options_.mask << ": expected a " << D << "D mask (" << (D == 3 ? "nz, ny, nx" : "ny, nx")
                            << ") for " << name() << ", got " << mask.shape.size() << " dimensions");
  }
  // The voxel with lower corner at point c (cells 0 .. shape - 2 per axis).
  const auto voxel = [&](const std::array<int, 3>& c) {
    for (int d = 0; d < D; ++d)
      if (c[d] < 0 || c[d] > grid_.shape[d] - 2) return Voxel::outside;
    std::array<double, 3> centre{};
    for (int d = 0; d < D; ++d) centre[d] = (c[d] + 0.5) * grid_.spacing(d);
    if (options_.room == "lshape")
      return centre[0] > options_.cut[0] && centre[1] > options_.cut[1] ? Voxel::solid : Voxel::air;
    if (options_.room == "mask") {
      // Nearest mask cell, so one mask serves every resolution. Mask axes are (z,) y, x.
      std::size_t offset = 0;
      for (int d = D - 1; d >= 0; --d) {
        const int n = mask.shape[D - 1 - d];
        const int m = std::min(static_cast<int>(centre[d] / options_.size[d] * n), n - 1);
        offset = offset * n + m;
      }
      return mask.values[offset] ? Voxel::solid : Voxel::air;
    }
    return Voxel::air;
  };

  const std::size_t n = static_cast<std::size_t>(gext_[0]) * gext_[1] * gext_[2];
  volume_.assign(n, 0.0);
  inv_volume_.assign(n, 0.0);
  admittance_.assign(n, 0.0);
  for (int d = 0; d < 3; ++d) face_[d].assign(d < D ? n : 0, 0.0);
  const int corners = 1 << D;
  const double corner_share = 1.0 / corners, face_share = 2.0 / corners;
  for (int k = glo_[2]; k < glo_[2] + gext_[2]; ++k)
    for (int j = glo_[1]; j < glo_[1] + gext_[1]; ++j)
      for (int i = glo_[0]; i < glo_[0] + gext_[0]; ++i) {
        const std::array<int, 3> p{i, j, k};
        const std::size_t L = local_index(i, j, k);
        for (int o = 0; o < corners; ++o) {
          // Voxel o around the point: offset -1 or 0 per axis.
          std::array<int, 3> c{0, 0, 0};
          for (int d = 0; d < D; ++d) c[d] = p[d] - 1 + ((o >> d) & 1);
          if (voxel(c) != Voxel::air) continue;
          volume_[L] += corner_share;
          for (int d = 0; d < D; ++d) {
            // The edge p -> p + e_d runs through the voxels with offset 0 along d.
            if ((o >> d) & 1) face_[d][L] += face_share;
            // The voxel's face through p, normal to d: a wall if the voxel across it is not air.
            std::array<int, 3> across = c;
            across[d] = (o >> d) & 1 ? c[d] - 1 : c[d] + 1;
            const Voxel v = voxel(across);
            if (v == Voxel::air) continue;
            const double z = v == Voxel::solid ? options_.solid_impedance
                                               : options_.impedance[2 * d + (across[d] < 0 ? 0 : 1)];
            admittance_[L] += face_share / (z * grid_.spacing(d));
          }
        }
        if (volume_[L] > 0) inv_volume_[L] = 1.0 / volume_[L];
      }
}

// Skipped when nothing wrote state_ since the last one (advance() ends with an exchange for
// its last receiver level, which the next step would otherwise repeat).
void Acoustic::exchange() const {
  if (local_current_) return;
  PDS_PETSC(DMGlobalToLocalBegin(da_, state_, INSERT_VALUES, local_));
  PDS_PETSC(DMGlobalToLocalEnd(da_, state_, INSERT_VALUES, local_));
  local_current_ = true;
}

void Acoustic::reset(const Parameters& params) {
  Parameters next = merged_parameters(params);
  const int D = options_.dim;
  const char* names[3] = {"x0", "y0", "z0"};
  std::array<double, 3> x0{0, 0, 0};
  for (int d = 0; d < D; ++d) {
    x0[d] = next.at(names[d]);
    PDS_CHECK(x0[d] >= 0 && x0[d] <= options_.size[d],
              name() << ": expected the source inside the room, " << names[d] << " in [0, " << options_.size[d]
                     << "] m, got " << x0[d]);
  }
  params_ = next;
  const double s2 = options_.sigma0() * options_.sigma0();
  const InitialFunction pulse = [&](const std::array<double, 3>& x) {
    double r2 = 0;
    for (int d = 0; d < D; ++d) r2 += (x[d] - x0[d]) * (x[d] - x0[d]);
    return std::exp(-r2 / s2);
  };
  const InitialFunction& p0 = initial_ ? initial_ : pulse;
  const auto point = [&](int i, int j, int k) {
    return std::array<double, 3>{grid_.coordinate(0, i), grid_.coordinate(1, j), D == 3 ? grid_.coordinate(2, k) : 0.0};
  };

  // v at t = -dt/2 = (dt / 2 rho) grad p0 keeps the start second order (v(0) = 0).
  const PetscInt dof = D + 1;
  PetscScalar* g;
  PDS_PETSC(VecGetArray(state_, &g));
  std::size_t G = 0;
  for (int k = box_.lo[2]; k < box_.hi[2]; ++k)
    for (int j = box_.lo[1]; j < box_.hi[1]; ++j)
      for (int i = box_.lo[0]; i < box_.hi[0]; ++i, ++G) {
        const std::size_t L = local_index(i, j, k);
        const double p = volume_[L] > 0 ? p0(point(i, j, k)) : 0.0;
        g[G * dof] = p;
        for (int d = 0; d < D; ++d) {
          g[G * dof + 1 + d] = 0.0;
          if (face_[d][L] <= 0) continue;
          std::array<int, 3> q{i, j, k};
          ++q[d];
          g[G * dof + 1 + d] = dt_ / (2.0 * options_.rho * grid_.spacing(d)) *
                               (p0(point(q[0], q[1], q[2])) - p);
        }
      }
  PDS_PETSC(VecRestoreArray(state_, &g));
  local_current_ = false;
  steps_ = 0;
  recorded_ = 0;
  output_index_ = 0;
  receiver_rows_.clear();
  pending_.clear();
  exchange();
  record_receivers();
  flush_receivers();
}

void Acoustic::record_receivers() {
  if (receivers_.empty()) {
    ++recorded_;
    return;
  }
  const int D = options_.dim;
  const PetscInt dof = D + 1;
  const PetscScalar* l;
  PDS_PETSC(VecGetArrayRead(local_, &l));
  pending_.push_back(static_cast<double>(recorded_) * dt_);
  for (const auto& r : receivers_) {
    double value = 0;
    if (r.owned) {
      for (int o = 0; o < (1 << D); ++o) {
        std::array<int, 3> q = r.at.lo;
        double w = 1.0;
        for (int d = 0; d < D; ++d) {
          const int up = (o >> d) & 1;
          q[d] += up;
          w *= up ? r.at.weight[d] : 1.0 - r.at.weight[d];
        }
        if (w != 0.0) value += w * l[local_index(q[0], q[1], q[2]) * dof];
      }
    }
    pending_.push_back(value);
  }
  PDS_PETSC(VecRestoreArrayRead(local_, &l));
  ++recorded_;
}

// Every rank holds every receiver's time series: one sum over the ranks per output interval,
// where only the owner contributes a nonzero.
void Acoustic::flush_receivers() {
  if (receivers_.empty() || pending_.empty()) return;
  const std::size_t width = 1 + receivers_.size(), levels = pending_.size() / width;
  std::vector<double> times(levels);
  for (std::size_t t = 0; t < levels; ++t) times[t] = pending_[t * width], pending_[t * width] = 0.0;
  std::vector<double> sum(pending_.size());
  PDS_CHECK(MPI_Allreduce(pending_.data(), sum.data(), static_cast<int>(sum.size()), MPI_DOUBLE, MPI_SUM, comm_) ==
                MPI_SUCCESS,
            name() << ": MPI_Allreduce of the receiver values failed");
  for (std::size_t t = 0; t < levels; ++t) {
    std::vector<double> row(sum.begin() + t * width, sum.begin() + (t + 1) * width);
    row[0] = times[t];
    receiver_rows_.push_back(std::move(row));
  }
  pending_.clear();
}

void Acoustic::step() {
  const int D = options_.dim;
  const PetscInt dof = D + 1;
  const double rho = options_.rho, bulk = rho * options_.c * options_.c;
  std::array<std::size_t, 3> stride{1, static_cast<std::size_t>(gext_[0]),
                                    static_cast<std::size_t>(gext_[0]) * gext_[1]};
  std::array<double, 3> inv_h{0, 0, 0};
  for (int d = 0; d < D; ++d) inv_h[d] = 1.0 / grid_.spacing(d);

  exchange();
  if (recorded_ == steps_) record_receivers();
  // v^(n+1/2) = v^(n-1/2) - dt / (rho h) (p_(i+e_d) - p_i) on the faces inside the room.
  PetscScalar* g;
  const PetscScalar* l;
  PDS_PETSC(VecGetArray(state_, &g));
  PDS_PETSC(VecGetArrayRead(local_, &l));
  std::size_t G = 0;
  for (int k = box_.lo[2]; k < box_.hi[2]; ++k)
    for (int j = box_.lo[1]; j < box_.hi[1]; ++j)
      for (int i = box_.lo[0]; i < box_.hi[0]; ++i, ++G) {
        const std::size_t L = local_index(i, j, k);
        for (int d = 0; d < D; ++d)
          if (face_[d][L] > 0)
            g[G * dof + 1 + d] -= dt_ / rho * inv_h[d] * (l[(L + stride[d]) * dof] - l[L * dof]);
      }
  PDS_PETSC(VecRestoreArrayRead(local_, &l));
  PDS_PETSC(VecRestoreArray(state_, &g));
  local_current_ = false;

  exchange();
  // p^(n+1): the flux balance of the clipped dual cell, the wall term time-centred.
  PDS_PETSC(VecGetArray(state_, &g));
  PDS_PETSC(VecGetArrayRead(local_, &l));
  G = 0;
  for (int k = box_.lo[2]; k < box_.hi[2]; ++k)
    for (int j = box_.lo[1]; j < box_.hi[1]; ++j)
      for (int i = box_.lo[0]; i < box_.hi[0]; ++i, ++G) {
        const std::size_t L = local_index(i, j, k);
        if (inv_volume_[L] == 0.0) continue;
        const std::array<int, 3> p{i, j, k};
        double div = 0.0;
        for (int d = 0; d < D; ++d) {
          double flux = face_[d][L] * l[L * dof + 1 + d];
          if (p[d] > 0) flux -= face_[d][L - stride[d]] * l[(L - stride[d]) * dof + 1 + d];
          div += flux * inv_h[d];
        }
        const double kappa = 0.5 * bulk * dt_ * admittance_[L] * inv_volume_[L];
        g[G * dof] = ((1.0 - kappa) * l[L * dof] - bulk * dt_ * inv_volume_[L] * div) / (1.0 + kappa);
      }
  PDS_PETSC(VecRestoreArrayRead(local_, &l));
  PDS_PETSC(VecRestoreArray(state_, &g));
  local_current_ = false;
  ++steps_;
}

void Acoustic::advance() {
  PDS_CHECK(output_index_ < num_outputs_,
            name() << ": trajectory already has all " << num_outputs_ << " outputs; call reset() first");
  for (int s = 0; s < steps_per_output_; ++s) step();
  exchange();
  if (recorded_ == steps_) record_receivers();
  flush_receivers();
  ++output_index_;
  PetscReal norm = 0;
  PDS_PETSC(VecNorm(state_, NORM_INFINITY, &norm));
  PDS_CHECK(std::isfinite(norm), name() << ": the solution is not finite at t = " << time() << " s (diverged or NaN input)");
}

double Acoustic::energy() const {
  const int D = options_.dim;
  const PetscInt dof = D + 1;
  const double rho = options_.rho, bulk = rho * options_.c * options_.c;
  std::array<std::size_t, 3> stride{1, static_cast<std::size_t>(gext_[0]),
                                    static_cast<std::size_t>(gext_[0]) * gext_[1]};
  exchange();
  const PetscScalar* l;
  PDS_PETSC(VecGetArrayRead(local_, &l));
  double e = 0.0;
  for (int k = box_.lo[2]; k < box_.hi[2]; ++k)
    for (int j = box_.lo[1]; j < box_.hi[1]; ++j)
      for (int i = box_.lo[0]; i < box_.hi[0]; ++i) {
        const std::size_t L = local_index(i, j, k);
        const double p = l[L * dof];
        e += volume_[L] * p * p / (2.0 * bulk);
        for (int d = 0; d < D; ++d) {
          if (face_[d][L] <= 0) continue;
          const double v = l[L * dof + 1 + d];
          const double next = v - dt_ / (rho * grid_.spacing(d)) * (l[(L + stride[d]) * dof] - p);
          e += 0.5 * rho * face_[d][L] * v * next;
        }
      }
  PDS_PETSC(VecRestoreArrayRead(local_, &l));
  double cell = 1.0;
  for (int d = 0; d < D; ++d) cell *= grid_.spacing(d);
  double total = 0;
  MPI_Allreduce(&e, &total, 1, MPI_DOUBLE, MPI_SUM, comm_);
  return total * cell;
}

long long Acoustic::active_points() const {
  long long n = 0, total = 0;
  for (int k = box_.lo[2]; k < box_.hi[2]; ++k)
    for (int j = box_.lo[1]; j < box_.hi[1]; ++j)
      for (int i = box_.lo[0]; i < box_.hi[0]; ++i) n += volume_[local_index(i, j, k)] > 0;
  MPI_Allreduce(&n, &total, 1, MPI_LONG_LONG, MPI_SUM, comm_);
  return total;
}

Field Acoustic::snapshot() const {
  Field f({"p"}, box_);
  const PetscInt dof = options_.dim + 1;
  const PetscScalar* g;
  PDS_PETSC(VecGetArrayRead(state_, &g));
  std::size_t G = 0;
  for (int k = box_.lo[2]; k < box_.hi[2]; ++k)
    for (int j = box_.lo[1]; j < box_.hi[1]; ++j)
      for (int i = box_.lo[0]; i < box_.hi[0]; ++i, ++G) f.at(i, j, k, 0) = g[G * dof];
  PDS_PETSC(VecRestoreArrayRead(state_, &g));
  return f;
}

double Acoustic::free_field(int dim, double r, double t, double sigma0, double c) {
  const auto f = [&](double s) { return std::exp(-s * s / (sigma0 * sigma0)); };
  if (dim == 3) {
    r = std::max(r, 1e-9 * sigma0);
    const double a = r - c * t, b = r + c * t;
    return (a * f(a) + b * f(b)) / (2.0 * r);
  }
  // p(r, t) = int_0^inf (1/2) q exp(-q^2/4) cos(q ct/sigma0) J0(q r/sigma0) dq (Hankel
  // transform of the pulse, each mode oscillating at its own frequency), by composite Simpson.
  const double a = c * t / sigma0, b = r / sigma0, q_max = 14.0;
  const int n = 4000;
  const double h = q_max / n;
  double sum = 0;
  for (int m = 0; m <= n; ++m) {
    const double q = m * h;
    const double w = m == 0 || m == n ? 1.0 : (m % 2 ? 4.0 : 2.0);
    sum += w * 0.5 * q * std::exp(-0.25 * q * q) * std::cos(q * a) * std::cyl_bessel_j(0.0, q * b);
  }
  return sum * h / 3.0;
}

double Acoustic::dispersion_error(int dim, double ppw, double cfl) {
  // sin(omega dt / 2) = lambda sqrt(sum_d sin^2(k_d h / 2)), lambda = c dt / h, over the
  // directions of one octant (the scheme is symmetric in each axis).
  const double lambda = cfl / std::sqrt(static_cast<double>(dim)), k = 2.0 * M_PI / ppw;
  double worst = 0;
  const int n = 90;
  for (int a = 0; a <= n; ++a)
    for (int b = 0; b <= (dim == 3 ? n : 0); ++b) {
      const double theta = 0.5 * M_PI * a / n, phi = 0.5 * M_PI * b / n;
      const double dir[3] = {std::cos(theta) * std::cos(phi), std::sin(theta) * std::cos(phi), std::sin(phi)};
      double s = 0;
      for (int d = 0; d < dim; ++d) s += std::pow(std::sin(0.5 * k * dir[d]), 2);
      const double omega_dt = 2.0 * std::asin(std::min(1.0, lambda * std::sqrt(s)));
      worst = std::max(worst, std::abs(omega_dt / (lambda * k) - 1.0));
    }
  return worst;
}

}  // namespace pdestream::solvers
