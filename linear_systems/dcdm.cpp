#include "linear_systems/dcdm.hpp"

// A KSP and a PC implementation: they fill the ops tables of PETSc's private headers, as
// every KSPCreate_XXX / PCCreate_XXX does.
#include <petsc/private/kspimpl.h>
#include <petsc/private/pcimpl.h>
#include <petscdmda.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "linear_systems/dcdm_net.hpp"
#include "linear_systems/petsc_handle.hpp"

namespace pdestream::linear_systems {

namespace {

PetscLogEvent g_apply_event = -1;

std::string message_of(const std::exception& e) {
  const auto* pe = dynamic_cast<const Error*>(&e);
  return pe ? pe->message() : e.what();
}

// f of a dcdm KSP or PC: the user's operator, or the network of a model file built for
// the object's grid.
class DirectionSource {
 public:
  std::string model;  // "" (none), "untrained" or a .safetensors path
  PetscInt seed = 0;
  DcdmOperator user;
  DcdmStats stats;

  // Collective. Makes f ready on grid `dm` (a no-op with a user operator, or when the
  // network was already built for this DM, model and seed). `what` names the owner
  // ("KSP"/"PC") and `option` its model option in messages.
  PetscErrorCode setup(PetscObject owner, DM dm, const char* what, const char* option) {
    PetscFunctionBegin;
    if (user) PetscFunctionReturn(0);
    MPI_Comm comm = PetscObjectComm(owner);
    PetscCheck(!model.empty(), comm, PETSC_ERR_USER,
               "dcdm: no network: give %s FILE (a .safetensors model from pdestream dcdm-train) or %s untrained "
               "(a random network), or set an operator with set_dcdm_operator()",
               option, option);
    PetscCheck(dm, comm, PETSC_ERR_ARG_WRONGSTATE,
               "dcdm needs a DMDA grid: the %s has no DM; give it the grid of the unknowns with KSPSetDM(ksp, da) "
               "and KSPSetDMActive(ksp, PETSC_FALSE)",
               what);
    PetscBool is_da = PETSC_FALSE;
    PetscCall(PetscObjectTypeCompare((PetscObject)dm, DMDA, &is_da));
    PetscCheck(is_da, comm, PETSC_ERR_ARG_WRONG,
               "dcdm needs a DMDA grid: the %s's DM is of type %s; give it the grid of the unknowns with KSPSetDM(ksp, "
               "da) and KSPSetDMActive(ksp, PETSC_FALSE)",
               what, ((PetscObject)dm)->type_name ? ((PetscObject)dm)->type_name : "(unset)");
    PetscObjectId id = 0;
    PetscCall(PetscObjectGetId((PetscObject)dm, &id));
    if (network_ && id == built_id_ && model == built_model_ && seed == built_seed_) PetscFunctionReturn(0);

    PetscInt dim = 0, dof = 0;
    PetscCall(DMDAGetInfo(dm, &dim, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &dof, nullptr, nullptr,
                          nullptr, nullptr, nullptr));
    PetscCheck(dim == 2 || dim == 3, comm, PETSC_ERR_SUP, "dcdm needs a DMDA grid of dimension 2 or 3, got %d",
               (int)dim);
    PetscCheck(dof == 1, comm, PETSC_ERR_SUP, "dcdm needs a DMDA grid with one unknown per point, got dof %d",
               (int)dof);
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    network_ = nullptr;
    DcdmNet net{nullptr};
    std::string error;
    try {
      // The network runs on rank 0 only (see make_network_operator): load it there, agree on errors.
      collective_try(comm, [&] {
        if (rank != 0) return;
        if (model == "untrained") {
          DcdmNetOptions o;
          o.dim = static_cast<int>(dim);
          torch::manual_seed(static_cast<std::uint64_t>(seed));
          net = DcdmNet(o);
        } else {
          net = load_dcdm_net(model);
          PDS_CHECK(net->options().dim == dim, model << ": the network is " << net->options().dim
                                                     << "D, the grid " << dim << "D");
        }
        net->eval();
        params_ = net->num_parameters();
      });
      network_ = make_network_operator(net, dm);
    } catch (const std::exception& e) {
      error = message_of(e);
    }
    PetscCheck(error.empty(), comm, PETSC_ERR_USER, "dcdm: %s %s: %s", option, model.c_str(), error.c_str());
    MPI_Bcast(&params_, 1, MPI_INT64_T, 0, comm);
    net_dim_ = static_cast<int>(dim);
    built_id_ = id;
    built_model_ = model;
    built_seed_ = seed;
    PetscFunctionReturn(0);
  }

  // Rows of A without off-diagonal entries (the solid cells of an obstacle, identity rows)
  // are decoupled from the rest. The network never saw them in training, and whatever it
  // puts there becomes residual that it then reads as a source: on a 32³ sphere that
  // stalls DCDM near 1e-4 (1199 iterations to 1e-6). There the exact answer in_i / a_ii
  // replaces the network's output. A user operator is left as given.
  PetscErrorCode setup_rows(Mat A) {
    PetscFunctionBegin;
    if (user || !A) PetscFunctionReturn(0);
    PetscObjectId id = 0;
    PetscObjectState state = 0;
    PetscCall(PetscObjectGetId((PetscObject)A, &id));
    PetscCall(PetscObjectStateGet((PetscObject)A, &state));
    if (id == rows_id_ && state == rows_state_) PetscFunctionReturn(0);
    rows_id_ = id;
    rows_state_ = state;
    decoupled_.clear();
    inv_diag_.clear();
    PetscBool has = PETSC_FALSE;
    PetscCall(MatHasOperation(A, MATOP_GET_ROW, &has));
    if (!has) PetscFunctionReturn(0);  // a shell matrix: no rows to inspect
    PetscInt lo = 0, hi = 0;
    PetscCall(MatGetOwnershipRange(A, &lo, &hi));
    for (PetscInt row = lo; row < hi; ++row) {
      PetscInt ncols = 0;
      const PetscInt* cols = nullptr;
      const PetscScalar* vals = nullptr;
      PetscCall(MatGetRow(A, row, &ncols, &cols, &vals));
      PetscScalar diag = 0.0;
      bool coupled = false;
      for (PetscInt j = 0; j < ncols; ++j) {
        if (cols[j] == row)
          diag = vals[j];
        else if (vals[j] != 0.0)
          coupled = true;
      }
      PetscCall(MatRestoreRow(A, row, &ncols, &cols, &vals));
      if (!coupled && diag != 0.0) {
        decoupled_.push_back(row - lo);
        inv_diag_.push_back(1.0 / diag);
      }
    }
    PetscFunctionReturn(0);
  }

  PetscErrorCode apply(Vec in, Vec out) {
    PetscFunctionBegin;
    const DcdmOperator& f = user ? user : network_;
    PetscCheck(f, PetscObjectComm((PetscObject)in), PETSC_ERR_ORDER, "dcdm: apply before setup");
    PetscCall(PetscLogEventBegin(g_apply_event, in, out, 0, 0));
    const double t0 = MPI_Wtime();
    PetscCall(f(in, out));
    if (!user && !decoupled_.empty()) {
      const PetscScalar* x = nullptr;
      PetscScalar* y = nullptr;
      PetscCall(VecGetArrayRead(in, &x));
      PetscCall(VecGetArray(out, &y));
      for (std::size_t k = 0; k < decoupled_.size(); ++k) y[decoupled_[k]] = x[decoupled_[k]] * inv_diag_[k];
      PetscCall(VecRestoreArray(out, &y));
      PetscCall(VecRestoreArrayRead(in, &x));
    }
    stats.seconds += MPI_Wtime() - t0;
    ++stats.applications;
    PetscCall(PetscLogEventEnd(g_apply_event, in, out, 0, 0));
    PetscFunctionReturn(0);
  }

  // The network depends on the grid: dropped when the owner is reset.
  void reset() {
    network_ = nullptr;
    built_id_ = 0;
    rows_id_ = 0;
    decoupled_.clear();
    inv_diag_.clear();
  }

  PetscErrorCode view(PetscViewer viewer) const {
    PetscFunctionBegin;
    if (user)
      PetscCall(PetscViewerASCIIPrintf(viewer, "  direction operator: user operator (set_dcdm_operator)\n"));
    else if (model.empty())
      PetscCall(PetscViewerASCIIPrintf(viewer, "  direction operator: none set\n"));
    else if (model == "untrained")
      PetscCall(PetscViewerASCIIPrintf(viewer, "  direction operator: untrained network (seed %d)%s\n", (int)seed,
                                       network_ ? "" : ", not built yet"));
    else
      PetscCall(PetscViewerASCIIPrintf(viewer, "  direction operator: network %s%s\n", model.c_str(),
                                       network_ ? "" : ", not loaded yet"));
    if (!user && network_)
      PetscCall(PetscViewerASCIIPrintf(viewer, "    %dD, %lld parameters, evaluated in float32 on rank 0\n", net_dim_,
                                       (long long)params_));
    const double per = stats.applications ? stats.seconds / stats.applications : 0.0;
    PetscCall(PetscViewerASCIIPrintf(viewer, "  applications of f: %lld, %g s (%g ms each)\n", stats.applications,
                                     stats.seconds, 1e3 * per));
    PetscFunctionReturn(0);
  }

 private:
  DcdmOperator network_;
  PetscObjectId built_id_ = 0;
  std::string built_model_;
  PetscInt built_seed_ = 0;
  std::int64_t params_ = 0;
  int net_dim_ = 0;
  PetscObjectId rows_id_ = 0;
  PetscObjectState rows_state_ = 0;
  std::vector<PetscInt> decoupled_;  // local indices of decoupled rows
  std::vector<PetscScalar> inv_diag_;
};

PetscErrorCode model_options(DirectionSource& f, const char* model_option, const char* seed_option,
                             PetscOptionItems* PetscOptionsObject) {
  char model[PETSC_MAX_PATH_LEN] = "";
  PetscBool set = PETSC_FALSE;
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(model, f.model.c_str(), sizeof model));
  PetscCall(PetscOptionsString(model_option, "DCDM network: a .safetensors model file, or 'untrained'", "", model,
                               model, sizeof model, &set));
  if (set) f.model = model;
  PetscCall(PetscOptionsInt(seed_option, "Seed of the untrained network", "", f.seed, &f.seed, nullptr));
  PetscFunctionReturn(0);
}

// ---------------------------------------------------------------------------------------
// KSP "dcdm"

struct KspDcdm {
  DirectionSource f;
  PetscInt directions = 2;
  PetscBool true_residual = PETSC_TRUE;
  PetscBool monitor = PETSC_FALSE;
  // Ring of the last directions + 1 (the current one): p, A p and p.A p.
  PetscInt ring = 0;
  Vec* P = nullptr;
  Vec* AP = nullptr;
  std::vector<PetscScalar> pAp;
};

KspDcdm* data_of(KSP ksp) { return static_cast<KspDcdm*>(ksp->data); }

PetscErrorCode free_ring(KspDcdm* d) {
  PetscFunctionBegin;
  if (d->ring) {
    PetscCall(VecDestroyVecs(d->ring, &d->P));
    PetscCall(VecDestroyVecs(d->ring, &d->AP));
  }
  d->ring = 0;
  d->pAp.clear();
  PetscFunctionReturn(0);
}

PetscErrorCode ensure_ring(KSP ksp, KspDcdm* d) {
  PetscFunctionBegin;
  if (d->ring == d->directions + 1) PetscFunctionReturn(0);
  PetscCall(free_ring(d));
  d->ring = d->directions + 1;
  PetscCall(KSPCreateVecs(ksp, d->ring, &d->P, 0, nullptr));
  PetscCall(KSPCreateVecs(ksp, d->ring, &d->AP, 0, nullptr));
  d->pAp.assign(d->ring, 1.0);
  PetscFunctionReturn(0);
}

PetscErrorCode KSPSetUp_DCDM(KSP ksp) {
  KspDcdm* d = data_of(ksp);
  PetscBool none = PETSC_FALSE;
  PetscFunctionBegin;
  // DCDM applies no preconditioner: a PC chosen by default elsewhere (an application's
  // ICC, PETSc's ILU) would only cost its setup. KSPSetUp runs this before PCSetUp.
  if (!ksp->pc) PetscCall(KSPGetPC(ksp, &ksp->pc));
  PetscCall(PetscObjectTypeCompare((PetscObject)ksp->pc, PCNONE, &none));
  if (!none) {
    PCType type = nullptr;
    PetscCall(PCGetType(ksp->pc, &type));
    PetscCall(PetscInfo(ksp, "dcdm applies no preconditioner: PC type %s replaced by none\n", type ? type : "(unset)"));
    PetscCall(PCSetType(ksp->pc, PCNONE));
  }
  PetscCall(KSPSetWorkVecs(ksp, 2));
  PetscCall(ensure_ring(ksp, d));
  PetscCall(d->f.setup((PetscObject)ksp, ksp->dm, "KSP", "-ksp_dcdm_model"));
  Mat A = nullptr;
  PetscCall(PCGetOperators(ksp->pc, &A, nullptr));
  PetscCall(d->f.setup_rows(A));
  PetscFunctionReturn(0);
}

PetscErrorCode report(KSP ksp, PetscInt its, PetscReal rnorm) {
  PetscFunctionBegin;
  const PetscReal dp = ksp->normtype == KSP_NORM_NONE ? 0.0 : rnorm;
  ksp->rnorm = dp;
  PetscCall(KSPLogResidualHistory(ksp, dp));
  PetscCall(KSPMonitor(ksp, its, dp));
  PetscCall((*ksp->converged)(ksp, its, dp, &ksp->reason, ksp->cnvP));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPSolve_DCDM(KSP ksp) {
  KspDcdm* d = data_of(ksp);
  Vec X = ksp->vec_sol, B = ksp->vec_rhs, R = ksp->work[0], Rhat = ksp->work[1];
  Mat A = nullptr;
  PetscReal rnorm = 0.0;
  PetscViewer out = nullptr;
  PetscFunctionBegin;
  PetscCall(PCGetOperators(ksp->pc, &A, nullptr));
  PetscCall(ensure_ring(ksp, d));
  // Model or grid may have changed since KSPSetUp (set_dcdm_model, a new DM).
  PetscCall(d->f.setup((PetscObject)ksp, ksp->dm, "KSP", "-ksp_dcdm_model"));
  PetscCall(d->f.setup_rows(A));
  if (d->monitor) {
    out = PETSC_VIEWER_STDOUT_(PetscObjectComm((PetscObject)ksp));
    PetscCall(PetscViewerASCIIAddTab(out, ((PetscObject)ksp)->tablevel));
  }

  ksp->its = 0;
  if (ksp->guess_zero) {
    PetscCall(VecCopy(B, R));
  } else {
    PetscCall(KSP_MatMult(ksp, A, X, R));
    PetscCall(VecAYPX(R, -1.0, B));
  }
  PetscCall(VecNorm(R, NORM_2, &rnorm));
  KSPCheckNorm(ksp, rnorm);
  PetscCall(report(ksp, 0, rnorm));

  for (PetscInt i = 0; !ksp->reason && i < ksp->max_it; ++i) {
    if (rnorm == 0.0) {  // exact solution (possible with KSP_NORM_NONE)
      ksp->reason = KSP_CONVERGED_ATOL;
      break;
    }
    ksp->its = i + 1;
    const PetscInt slot = i % d->ring;
    Vec Q = d->P[slot], AQ = d->AP[slot];
    PetscCall(VecCopy(R, Rhat));
    PetscCall(VecScale(Rhat, 1.0 / rnorm));
    const double f_seconds = d->f.stats.seconds;
    PetscCall(d->f.apply(Rhat, Q));

    // A-orthogonalise against the last min(i, k) directions (mutually A-orthogonal, so one
    // block of dot products is as good as modified Gram-Schmidt).
    const PetscInt m = std::min(i, d->directions);
    if (m > 0) {
      std::vector<Vec> prevP(m), prevAP(m);
      std::vector<PetscScalar> dots(m);
      for (PetscInt j = 0; j < m; ++j) {
        const PetscInt s = (i - 1 - j) % d->ring;
        prevP[j] = d->P[s];
        prevAP[j] = d->AP[s];
      }
      PetscCall(VecMDot(Q, m, prevAP.data(), dots.data()));
      for (PetscInt j = 0; j < m; ++j) dots[j] = -dots[j] / d->pAp[(i - 1 - j) % d->ring];
      PetscCall(VecMAXPY(Q, m, dots.data(), prevP.data()));
    }

    PetscScalar qAq = 0.0, qr = 0.0;
    PetscCall(KSP_MatMult(ksp, A, Q, AQ));
    PetscCall(VecDotBegin(Q, AQ, &qAq));
    PetscCall(VecDotBegin(Q, R, &qr));
    PetscCall(VecDotEnd(Q, AQ, &qAq));
    PetscCall(VecDotEnd(Q, R, &qr));
    if (PetscIsInfOrNanScalar(qAq) || PetscIsInfOrNanScalar(qr)) {
      PetscCheck(!ksp->errorifnotconverged, PetscObjectComm((PetscObject)ksp), PETSC_ERR_NOT_CONVERGED,
                 "dcdm: the search direction has a NaN or Inf (q.Aq = %g, q.r = %g)", (double)qAq, (double)qr);
      ksp->reason = KSP_DIVERGED_NANORINF;
      break;
    }
    if (qAq <= 0.0) {
      PetscCheck(!ksp->errorifnotconverged, PetscObjectComm((PetscObject)ksp), PETSC_ERR_NOT_CONVERGED,
                 "dcdm: breakdown: q.Aq = %g <= 0 (a zero direction after orthogonalisation, or A not SPD)",
                 (double)qAq);
      ksp->reason = qAq == 0.0 ? KSP_DIVERGED_BREAKDOWN : KSP_DIVERGED_INDEFINITE_MAT;
      break;
    }
    d->pAp[slot] = qAq;
    const PetscScalar alpha = qr / qAq;
    PetscCall(VecAXPY(X, alpha, Q));
    if (d->true_residual) {
      PetscCall(KSP_MatMult(ksp, A, X, R));
      PetscCall(VecAYPX(R, -1.0, B));
    } else {
      PetscCall(VecAXPY(R, -alpha, AQ));
    }
    PetscCall(VecNorm(R, NORM_2, &rnorm));
    KSPCheckNorm(ksp, rnorm);
    if (out)
      PetscCall(PetscViewerASCIIPrintf(out, "%3d DCDM |r| %14.12e alpha %10.4e q.Aq %10.4e f %8.3f ms\n", (int)(i + 1),
                                       (double)rnorm, (double)alpha, (double)qAq,
                                       1e3 * (d->f.stats.seconds - f_seconds)));
    PetscCall(report(ksp, i + 1, rnorm));
  }
  if (out) PetscCall(PetscViewerASCIISubtractTab(out, ((PetscObject)ksp)->tablevel));
  if (!ksp->reason) ksp->reason = KSP_DIVERGED_ITS;
  PetscFunctionReturn(0);
}

PetscErrorCode KSPReset_DCDM(KSP ksp) {
  PetscFunctionBegin;
  PetscCall(free_ring(data_of(ksp)));
  data_of(ksp)->f.reset();
  PetscFunctionReturn(0);
}

PetscErrorCode KSPDestroy_DCDM(KSP ksp) {
  PetscFunctionBegin;
  PetscCall(KSPReset_DCDM(ksp));
  delete data_of(ksp);
  ksp->data = nullptr;
  PetscCall(KSPDestroyDefault(ksp));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPView_DCDM(KSP ksp, PetscViewer viewer) {
  KspDcdm* d = data_of(ksp);
  PetscBool ascii = PETSC_FALSE;
  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer, "  A-orthogonalised against the last %d directions; residual %s\n",
                                   (int)d->directions,
                                   d->true_residual ? "recomputed as b - A x" : "by the recurrence r -= alpha A q"));
  PetscCall(d->f.view(viewer));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPSetFromOptions_DCDM(KSP ksp, PetscOptionItems* PetscOptionsObject) {
  KspDcdm* d = data_of(ksp);
  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "KSP DCDM (deep conjugate direction method) options");
  PetscCall(model_options(d->f, "-ksp_dcdm_model", "-ksp_dcdm_seed", PetscOptionsObject));
  PetscCall(PetscOptionsBoundedInt("-ksp_dcdm_directions", "Previous directions to A-orthogonalise against", "",
                                   d->directions, &d->directions, nullptr, 0));
  PetscCall(PetscOptionsBool("-ksp_dcdm_true_residual", "Recompute r = b - A x every iteration (else r -= alpha A q)",
                             "", d->true_residual, &d->true_residual, nullptr));
  PetscCall(PetscOptionsBool("-ksp_dcdm_monitor", "One line per iteration: |r|, alpha, q.Aq, time in f", "",
                             d->monitor, &d->monitor, nullptr));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(0);
}

PetscErrorCode KSPCreate_DCDM(KSP ksp) {
  PetscFunctionBegin;
  ksp->data = new (std::nothrow) KspDcdm();
  PetscCheck(ksp->data, PETSC_COMM_SELF, PETSC_ERR_MEM, "dcdm: out of memory");
  PetscCall(KSPSetSupportedNorm(ksp, KSP_NORM_UNPRECONDITIONED, PC_LEFT, 3));
  PetscCall(KSPSetSupportedNorm(ksp, KSP_NORM_UNPRECONDITIONED, PC_RIGHT, 2));
  PetscCall(KSPSetSupportedNorm(ksp, KSP_NORM_NONE, PC_LEFT, 1));
  PetscCall(KSPSetSupportedNorm(ksp, KSP_NORM_NONE, PC_RIGHT, 1));
  ksp->ops->setup = KSPSetUp_DCDM;
  ksp->ops->solve = KSPSolve_DCDM;
  ksp->ops->reset = KSPReset_DCDM;
  ksp->ops->destroy = KSPDestroy_DCDM;
  ksp->ops->view = KSPView_DCDM;
  ksp->ops->setfromoptions = KSPSetFromOptions_DCDM;
  ksp->ops->buildsolution = KSPBuildSolutionDefault;
  ksp->ops->buildresidual = KSPBuildResidualDefault;
  // DCDM applies no preconditioner (KSPSetUp_DCDM enforces it).
  if (!ksp->pc) PetscCall(KSPGetPC(ksp, &ksp->pc));
  if (!((PetscObject)ksp->pc)->type_name) PetscCall(PCSetType(ksp->pc, PCNONE));
  PetscFunctionReturn(0);
}

// ---------------------------------------------------------------------------------------
// PC "dcdm": apply(x) = |x| f(x / |x|)

struct PcDcdm {
  DirectionSource f;
  OwnedVec work;
};

PcDcdm* data_of(PC pc) { return static_cast<PcDcdm*>(pc->data); }

PetscErrorCode PCSetUp_DCDM(PC pc) {
  PetscFunctionBegin;
  PetscCall(data_of(pc)->f.setup((PetscObject)pc, pc->dm, "PC", "-pc_dcdm_model"));
  PetscCall(data_of(pc)->f.setup_rows(pc->pmat));
  PetscFunctionReturn(0);
}

PetscErrorCode PCApply_DCDM(PC pc, Vec x, Vec y) {
  PcDcdm* d = data_of(pc);
  PetscReal norm = 0.0;
  PetscFunctionBegin;
  PetscCall(d->f.setup((PetscObject)pc, pc->dm, "PC", "-pc_dcdm_model"));
  PetscCall(d->f.setup_rows(pc->pmat));
  PetscCall(VecNorm(x, NORM_2, &norm));
  if (norm == 0.0) {
    PetscCall(VecSet(y, 0.0));
    PetscFunctionReturn(0);
  }
  PetscInt have = -1, need = 0;
  if (d->work) PetscCall(VecGetLocalSize(d->work, &have));
  PetscCall(VecGetLocalSize(x, &need));
  if (have != need) PetscCall(VecDuplicate(x, d->work.address()));
  PetscCall(VecCopy(x, d->work));
  PetscCall(VecScale(d->work, 1.0 / norm));
  PetscCall(d->f.apply(d->work, y));
  PetscCall(VecScale(y, norm));
  PetscFunctionReturn(0);
}

PetscErrorCode PCReset_DCDM(PC pc) {
  PetscFunctionBegin;
  data_of(pc)->work.reset();
  data_of(pc)->f.reset();
  PetscFunctionReturn(0);
}

PetscErrorCode PCDestroy_DCDM(PC pc) {
  PetscFunctionBegin;
  delete data_of(pc);
  pc->data = nullptr;
  PetscFunctionReturn(0);
}

PetscErrorCode PCView_DCDM(PC pc, PetscViewer viewer) {
  PetscBool ascii = PETSC_FALSE;
  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer, "  DCDM network as a (nonlinear) preconditioner: |x| f(x / |x|)\n"));
  PetscCall(data_of(pc)->f.view(viewer));
  PetscFunctionReturn(0);
}

PetscErrorCode PCSetFromOptions_DCDM(PC pc, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "PC DCDM options");
  PetscCall(model_options(data_of(pc)->f, "-pc_dcdm_model", "-pc_dcdm_seed", PetscOptionsObject));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(0);
}

PetscErrorCode PCCreate_DCDM(PC pc) {
  PetscFunctionBegin;
  pc->data = new (std::nothrow) PcDcdm();
  PetscCheck(pc->data, PETSC_COMM_SELF, PETSC_ERR_MEM, "dcdm: out of memory");
  pc->ops->setup = PCSetUp_DCDM;
  pc->ops->apply = PCApply_DCDM;
  pc->ops->reset = PCReset_DCDM;
  pc->ops->destroy = PCDestroy_DCDM;
  pc->ops->view = PCView_DCDM;
  pc->ops->setfromoptions = PCSetFromOptions_DCDM;
  PetscFunctionReturn(0);
}

// ---------------------------------------------------------------------------------------

template <class T>
bool is_dcdm(T obj) {
  PetscBool same = PETSC_FALSE;
  return obj && !PetscObjectTypeCompare((PetscObject)obj, "dcdm", &same) && same;
}

KspDcdm& checked(KSP ksp) {
  PDS_CHECK(is_dcdm(ksp), "dcdm: expected a KSP of type dcdm (KSPSetType(ksp, \"dcdm\") after register_dcdm())");
  return *data_of(ksp);
}

PcDcdm& checked(PC pc) {
  PDS_CHECK(is_dcdm(pc), "dcdm: expected a PC of type dcdm (PCSetType(pc, \"dcdm\") after register_dcdm())");
  return *data_of(pc);
}

// Holds one reference to a PETSc object for as long as an operator lives.
template <class T, PetscErrorCode (*Destroy)(T*)>
std::shared_ptr<PetscHandle<T, Destroy>> hold(T obj) {
  PDS_CHECK(obj, "dcdm: expected an object for the operator, got a null handle");
  PDS_PETSC(PetscObjectReference((PetscObject)obj));
  return std::make_shared<PetscHandle<T, Destroy>>(obj);
}

}  // namespace

DcdmOperator mat_operator(Mat M) {
  auto m = hold<Mat, MatDestroy>(M);
  return [m](Vec in, Vec out) { return MatMult(*m, in, out); };
}

DcdmOperator pc_operator(PC pc) {
  auto p = hold<PC, PCDestroy>(pc);
  return [p](Vec in, Vec out) { return PCApply(*p, in, out); };
}

DcdmOperator ksp_operator(KSP ksp, double scale) {
  auto k = hold<KSP, KSPDestroy>(ksp);
  return [k, scale](Vec in, Vec out) -> PetscErrorCode {
    PetscFunctionBegin;
    PetscCall(KSPSolve(*k, in, out));
    PetscCall(VecScale(out, scale));
    PetscFunctionReturn(0);
  };
}

void set_dcdm_operator(KSP ksp, DcdmOperator op) { checked(ksp).f.user = std::move(op); }
void set_dcdm_operator(PC pc, DcdmOperator op) { checked(pc).f.user = std::move(op); }
void set_dcdm_model(KSP ksp, const std::string& path) { checked(ksp).f.model = path; }
void set_dcdm_model(PC pc, const std::string& path) { checked(pc).f.model = path; }

void set_dcdm_directions(KSP ksp, int k) {
  PDS_CHECK(k >= 0, "dcdm: expected a number of directions >= 0, got " << k);
  checked(ksp).directions = k;
}

DcdmStats dcdm_stats(KSP ksp) { return checked(ksp).f.stats; }
DcdmStats dcdm_stats(PC pc) { return checked(pc).f.stats; }

PetscErrorCode register_dcdm() {
  PetscErrorCode (*current)(KSP) = nullptr;
  PetscFunctionBegin;
  PetscCall(KSPInitializePackage());
  PetscCall(PCInitializePackage());
  PetscCall(PetscFunctionListFind(KSPList, kKSPDCDM, &current));
  if (current == KSPCreate_DCDM) PetscFunctionReturn(0);
  PetscCall(KSPRegister(kKSPDCDM, KSPCreate_DCDM));
  PetscCall(PCRegister(kPCDCDM, PCCreate_DCDM));
  PetscCall(PetscLogEventRegister("DCDMApply", KSP_CLASSID, &g_apply_event));
  PetscCheck(dcdm_network_event() >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "dcdm: registering the DCDMNetwork event failed");
  PetscFunctionReturn(0);
}

}  // namespace pdestream::linear_systems
