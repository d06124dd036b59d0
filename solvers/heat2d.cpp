#include "solvers/heat2d.hpp"

#include <cmath>

#include "core/error.hpp"

namespace pdestream::solvers {

Heat2dOptions Heat2dOptions::from_section(SectionReader& s) {
  Heat2dOptions o;
  o.nx = static_cast<int>(s.get_int("nx", o.nx, 3, 1 << 20));
  o.ny = static_cast<int>(s.get_int("ny", o.ny, 3, 1 << 20));
  o.dt = s.get_double("dt", o.dt, 1e-14, 1e6);
  o.scheme = s.get_string("scheme", o.scheme, {"be", "cn"});
  o.outputs = static_cast<int>(s.get_int("outputs", o.outputs, 1, 1 << 24));
  o.steps_per_output = static_cast<int>(s.get_int("steps_per_output", o.steps_per_output, 1, 1 << 24));
  o.rtol = s.get_double("rtol", o.rtol, 1e-16, 0.5);
  o.options_prefix = s.get_string("options_prefix", o.options_prefix);
  o.diffusivity = s.get_string("diffusivity", o.diffusivity, {"constant", "paper"});
  o.source = s.get_string("source", o.source, {"none", "moving"});
  o.source_amplitude = s.get_double("source_amplitude", o.source_amplitude);
  o.source_width = s.get_double("source_width", o.source_width, 1e-6, 1e6);
  o.defaults["alpha"] = s.get_double("alpha", o.defaults["alpha"], 0.0);
  for (const char* key : {"t_init", "t_left", "t_right", "t_bottom", "t_top"})
    o.defaults[key] = s.get_double(key, o.defaults[key]);
  return o;
}

namespace {

PetscErrorCode create_objects(MPI_Comm comm, const Heat2dOptions& o, double rtol, DM* da, Mat* A,
                              KSP* ksp, Vec* u, Vec* b, Vec* u_local) {
  PetscFunctionBeginUser;
  PetscCall(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, o.nx, o.ny,
                         PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, da));
  PetscCall(DMSetUp(*da));
  PetscCall(DMDASetUniformCoordinates(*da, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0));
  PetscCall(DMDASetFieldName(*da, 0, "u"));
  PetscCall(DMCreateMatrix(*da, A));
  PetscCall(DMCreateGlobalVector(*da, u));
  PetscCall(PetscObjectSetName((PetscObject)*u, "u"));
  PetscCall(VecDuplicate(*u, b));
  PetscCall(DMCreateLocalVector(*da, u_local));
  PetscCall(KSPCreate(comm, ksp));
  if (!o.options_prefix.empty()) PetscCall(KSPSetOptionsPrefix(*ksp, o.options_prefix.c_str()));
  PetscCall(KSPSetDM(*ksp, *da));
  PetscCall(KSPSetDMActive(*ksp, PETSC_FALSE));
  // SPD after elimination of the Dirichlet unknowns: CG is the natural default.
  PetscCall(KSPSetType(*ksp, KSPCG));
  PetscCall(KSPSetTolerances(*ksp, rtol, 1e-50, PETSC_DEFAULT, 10000));
  PetscCall(KSPSetInitialGuessNonzero(*ksp, PETSC_TRUE));
  PetscCall(KSPSetFromOptions(*ksp));
  PetscFunctionReturn(0);
}

// A = d I - theta dt alpha L_h on interior points, d I on boundary points. Dirichlet
// neighbours are not coupled (their values go to the right-hand side), keeping A symmetric.
// d = 0 gives -c L_h with explicit zeros on the boundary diagonal, so it shares A's pattern.
PetscErrorCode assemble(DM da, Mat A, double c, double d = 1.0) {
  DMDALocalInfo info;
  PetscFunctionBeginUser;
  PetscCall(DMDAGetLocalInfo(da, &info));
  const PetscReal hx = 1.0 / (info.mx - 1), hy = 1.0 / (info.my - 1);
  const PetscReal cx = c / (hx * hx), cy = c / (hy * hy);
  for (PetscInt j = info.ys; j < info.ys + info.ym; ++j) {
    for (PetscInt i = info.xs; i < info.xs + info.xm; ++i) {
      MatStencil row = {0};
      row.i = i;
      row.j = j;
      if (i == 0 || j == 0 || i == info.mx - 1 || j == info.my - 1) {
        PetscScalar diag = d;
        PetscCall(MatSetValuesStencil(A, 1, &row, 1, &row, &diag, INSERT_VALUES));
        continue;
      }
      MatStencil cols[5];
      PetscScalar vals[5];
      PetscInt n = 0;
      cols[n] = row;
      vals[n++] = d + 2.0 * cx + 2.0 * cy;
      const PetscInt di[4] = {-1, 1, 0, 0}, dj[4] = {0, 0, -1, 1};
      const PetscReal w[4] = {cx, cx, cy, cy};
      for (int k = 0; k < 4; ++k) {
        const PetscInt ii = i + di[k], jj = j + dj[k];
        if (ii == 0 || jj == 0 || ii == info.mx - 1 || jj == info.my - 1) continue;
        cols[n] = row;
        cols[n].i = ii;
        cols[n].j = jj;
        vals[n++] = -w[k];
      }
      PetscCall(MatSetValuesStencil(A, 1, &row, n, cols, vals, INSERT_VALUES));
    }
  }
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatSetOption(A, MAT_SYMMETRIC, PETSC_TRUE));
  PetscFunctionReturn(0);
}

bool on_boundary(int i, int j, int nx, int ny) { return i == 0 || j == 0 || i == nx - 1 || j == ny - 1; }

}  // namespace

Heat2d::Heat2d(const Heat2dOptions& options, MPI_Comm comm) : options_(options), comm_(comm) {
  PDS_CHECK(options_.nx >= 3 && options_.ny >= 3,
            "heat2d needs nx, ny >= 3, got " << options_.nx << " x " << options_.ny);
  PDS_CHECK(options_.dt > 0, "heat2d needs dt > 0, got " << options_.dt);
  PDS_CHECK(options_.scheme == "be" || options_.scheme == "cn",
            "heat2d scheme must be be or cn, got '" << options_.scheme << "'");
  PDS_CHECK(options_.diffusivity == "constant" || options_.diffusivity == "paper",
            "heat2d diffusivity must be constant or paper, got '" << options_.diffusivity << "'");
  PDS_CHECK(options_.source == "none" || options_.source == "moving",
            "heat2d source must be none or moving, got '" << options_.source << "'");
  PDS_CHECK(options_.source_width > 0, "heat2d needs source_width > 0, got " << options_.source_width);
  theta_ = options_.scheme == "be" ? 1.0 : 0.5;
  varying_ = options_.diffusivity != "constant";
  grid_ = Grid::make_2d(options_.nx, options_.ny);
  PDS_PETSC(create_objects(comm_, options_, options_.rtol, &da_, &A_, &ksp_, &u_, &b_, &u_local_));
  if (varying_) {
    PDS_PETSC(DMCreateMatrix(da_, &minus_laplacian_));
    PDS_PETSC(assemble(da_, minus_laplacian_, 1.0, 0.0));
  }
  if (options_.source == "moving") {
    const double amplitude = options_.source_amplitude, w2 = 2.0 * options_.source_width * options_.source_width;
    source_ = [amplitude, w2](double x, double y, double t) {
      const double x0 = 0.5 + 0.25 * std::cos(2.0 * M_PI * t), y0 = 0.5 + 0.25 * std::sin(2.0 * M_PI * t);
      return amplitude * std::exp(-((x - x0) * (x - x0) + (y - y0) * (y - y0)) / w2);
    };
  }
  DMDALocalInfo info;
  PDS_PETSC(DMDAGetLocalInfo(da_, &info));
  box_.lo = {info.xs, info.ys, 0};
  box_.hi = {info.xs + info.xm, info.ys + info.ym, 1};
  params_ = options_.defaults;
  params_["alpha"] = -1.0;  // forces assembly at the first reset
  reset(options_.defaults);
}

Heat2d::~Heat2d() {
  // Destructors must not throw: PETSc errors here are ignored deliberately.
  KSPDestroy(&ksp_);
  MatDestroy(&A_);
  MatDestroy(&minus_laplacian_);
  VecDestroy(&u_);
  VecDestroy(&b_);
  VecDestroy(&u_local_);
  DMDestroy(&da_);
}

std::vector<std::string> Heat2d::parameter_names() const {
  return {"alpha", "t_init", "t_left", "t_right", "t_bottom", "t_top"};
}

void Heat2d::reset(const Parameters& params) {
  const double old_alpha = params_.at("alpha");
  Parameters next = merged_parameters(params);
  PDS_CHECK(next["alpha"] >= 0, "heat2d parameter alpha must be >= 0, got " << next["alpha"]);
  params_ = next;
  if (varying_)
    assembled_c_ = -1.0;  // rebuilt at the first step, from c(dt)
  else if (params_["alpha"] != old_alpha)
    assemble_operator();

  time_ = 0.0;
  output_index_ = 0;
  steps_ = 0;
  ksp_iterations_ = 0;
  PetscScalar** u;
  PDS_PETSC(DMDAVecGetArray(da_, u_, &u));
  for (int j = box_.lo[1]; j < box_.hi[1]; ++j) {
    for (int i = box_.lo[0]; i < box_.hi[0]; ++i) {
      if (initial_)
        u[j][i] = initial_(grid_.coordinate(0, i), grid_.coordinate(1, j), 0.0);
      else if (on_boundary(i, j, options_.nx, options_.ny))
        u[j][i] = boundary_value(i, j, 0.0);
      else
        u[j][i] = params_["t_init"];
    }
  }
  PDS_PETSC(DMDAVecRestoreArray(da_, u_, &u));
}

void Heat2d::assemble_operator() {
  PDS_PETSC(MatZeroEntries(A_));
  PDS_PETSC(assemble(da_, A_, theta_ * options_.dt * params_["alpha"]));
  PDS_PETSC(KSPSetOperators(ksp_, A_, A_));
}

void Heat2d::assemble_operator_at(double c) {
  PDS_PETSC(MatCopy(minus_laplacian_, A_, SAME_NONZERO_PATTERN));
  PDS_PETSC(MatScale(A_, theta_ * options_.dt * c));
  PDS_PETSC(MatShift(A_, 1.0));
  PDS_PETSC(MatSetOption(A_, MAT_SYMMETRIC, PETSC_TRUE));
  PDS_PETSC(KSPSetOperators(ksp_, A_, A_));
  assembled_c_ = c;
}

double Heat2d::diffusivity(double t) const {
  const double alpha = params_.at("alpha");
  if (!varying_) return alpha;
  const double s = std::sin(2.0 * M_PI * t);
  return alpha * std::max(0.1 * s, -10.0 * s);
}

// The method is composed on the PC by linear_systems' omega bandit; any other PC lacks it
// and this is a no-op. Its range tells a contextual learner what "large" means.
void Heat2d::offer_bandit_context(double c) {
  PC pc = nullptr;
  PDS_PETSC(KSPGetPC(ksp_, &pc));
  PetscErrorCode (*set_context)(PC, PetscReal) = nullptr;
  PDS_PETSC(PetscObjectQueryFunction((PetscObject)pc, "PCSORSetOmegaBanditContext_C", &set_context));
  if (!set_context) return;
  PetscErrorCode (*set_range)(PC, PetscReal, PetscReal) = nullptr;
  PDS_PETSC(PetscObjectQueryFunction((PetscObject)pc, "PCSORSetOmegaBanditContextRange_C", &set_range));
  const double alpha = params_.at("alpha");
  if (set_range) PDS_PETSC(set_range(pc, varying_ ? 0.0 : alpha, varying_ ? 10.0 * alpha : alpha));
  PDS_PETSC(set_context(pc, c));
}

double Heat2d::boundary_value(int i, int j, double t) const {
  if (boundary_) return boundary_(grid_.coordinate(0, i), grid_.coordinate(1, j), t);
  const int nx = options_.nx, ny = options_.ny;
  double sum = 0.0;
  int count = 0;
  if (i == 0) sum += params_.at("t_left"), ++count;
  if (i == nx - 1) sum += params_.at("t_right"), ++count;
  if (j == 0) sum += params_.at("t_bottom"), ++count;
  if (j == ny - 1) sum += params_.at("t_top"), ++count;
  return count ? sum / count : 0.0;
}

// b = u^n + (1-theta) dt c^n L_h u^n + dt [theta f^{n+1} + (1-theta) f^n]
//     + theta dt c^{n+1} (Dirichlet neighbours at t^{n+1}) / h^2    on interior points
// b = g(t^{n+1})                                                    on boundary points
void Heat2d::build_rhs(double t_old, double t_new, double c_old, double c_new) {
  const int nx = options_.nx, ny = options_.ny;
  const double hx = grid_.spacing(0), hy = grid_.spacing(1);
  const double dt = options_.dt;
  const double ex = (1.0 - theta_) * dt * c_old / (hx * hx), ey = (1.0 - theta_) * dt * c_old / (hy * hy);
  const double ix = theta_ * dt * c_new / (hx * hx), iy = theta_ * dt * c_new / (hy * hy);
  PDS_PETSC(DMGlobalToLocalBegin(da_, u_, INSERT_VALUES, u_local_));
  PDS_PETSC(DMGlobalToLocalEnd(da_, u_, INSERT_VALUES, u_local_));
  const PetscScalar** u;
  PetscScalar** b;
  PDS_PETSC(DMDAVecGetArrayRead(da_, u_local_, &u));
  PDS_PETSC(DMDAVecGetArray(da_, b_, &b));
  for (int j = box_.lo[1]; j < box_.hi[1]; ++j) {
    const double y = grid_.coordinate(1, j);
    for (int i = box_.lo[0]; i < box_.hi[0]; ++i) {
      if (on_boundary(i, j, nx, ny)) {
        b[j][i] = boundary_value(i, j, t_new);
        continue;
      }
      const double x = grid_.coordinate(0, i);
      double r = u[j][i] + ex * (u[j][i - 1] - 2.0 * u[j][i] + u[j][i + 1]) +
                 ey * (u[j - 1][i] - 2.0 * u[j][i] + u[j + 1][i]);
      if (source_) r += dt * (theta_ * source_(x, y, t_new) + (1.0 - theta_) * source_(x, y, t_old));
      if (i == 1) r += ix * boundary_value(0, j, t_new);
      if (i == nx - 2) r += ix * boundary_value(nx - 1, j, t_new);
      if (j == 1) r += iy * boundary_value(i, 0, t_new);
      if (j == ny - 2) r += iy * boundary_value(i, ny - 1, t_new);
      b[j][i] = r;
    }
  }
  PDS_PETSC(DMDAVecRestoreArrayRead(da_, u_local_, &u));
  PDS_PETSC(DMDAVecRestoreArray(da_, b_, &b));
}

void Heat2d::advance() {
  PDS_CHECK(output_index_ < options_.outputs,
            "heat2d: trajectory already has all " << options_.outputs << " outputs; call reset() first");
  for (int s = 0; s < options_.steps_per_output; ++s) {
    // Time from the step count, not by accumulation, so every rank count agrees exactly.
    const double t_old = steps_ * options_.dt, t_new = (steps_ + 1) * options_.dt;
    const double c_old = diffusivity(t_old), c_new = diffusivity(t_new);
    if (varying_ && c_new != assembled_c_) assemble_operator_at(c_new);
    build_rhs(t_old, t_new, c_old, c_new);
    offer_bandit_context(c_new);
    PDS_PETSC(KSPSolve(ksp_, b_, u_));
    KSPConvergedReason reason;
    PetscInt its = 0;
    PDS_PETSC(KSPGetConvergedReason(ksp_, &reason));
    PDS_PETSC(KSPGetIterationNumber(ksp_, &its));
    ksp_iterations_ += its;
    PDS_CHECK(reason > 0, "heat2d: linear solve failed at t = " << t_new << " (KSP reason "
                                                                << KSPConvergedReasons[reason] << " after "
                                                                << its << " iterations)");
    ++steps_;
    time_ = t_new;
  }
  ++output_index_;
  check_finite("advance");
}

void Heat2d::check_finite(const char* when) const {
  PetscReal norm = 0;
  PDS_PETSC(VecNorm(u_, NORM_INFINITY, &norm));
  PDS_CHECK(std::isfinite(norm), "heat2d: the solution is not finite after " << when << " at t = " << time_
                                                                            << " (diverged or NaN input)");
}

Field Heat2d::snapshot() const {
  Field f({"u"}, box_);
  const PetscScalar** u;
  PDS_PETSC(DMDAVecGetArrayRead(da_, u_, &u));
  for (int i = box_.lo[0]; i < box_.hi[0]; ++i)
    for (int j = box_.lo[1]; j < box_.hi[1]; ++j) f.at(i, j, 0, 0) = u[j][i];
  PDS_PETSC(DMDAVecRestoreArrayRead(da_, u_, &u));
  return f;
}

}  // namespace pdestream::solvers
