#include "linear_systems/relaxation_tuner.hpp"

// The tuner hooks into PETSc's own SOR through the PC ops table: the public API has no
// presolve/postsolve setter for a non-shell PC, and wrapping SOR in a PCSHELL would lose
// PCApplyRichardson (the fast path of -ksp_type richardson -pc_type sor) and PCSORSetOmega.
#include <petsc/private/pcimpl.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace pdestream::linear_systems {

namespace {

constexpr const char* kTunerKey = "pdestream_omega_tuner";

// Everything the PC owns on behalf of the tuner, composed as one PetscContainer.
struct TunerBox {
  std::unique_ptr<RelaxationTuner> tuner;
  PetscErrorCode (*sor_view)(PC, PetscViewer) = nullptr;
  PetscErrorCode (*sor_destroy)(PC) = nullptr;
};

PetscErrorCode destroy_box(void* p) {
  PetscFunctionBegin;
  delete static_cast<TunerBox*>(p);
  PetscFunctionReturn(0);
}

TunerBox* find_box(PC pc) {
  PetscContainer c = nullptr;
  if (PetscObjectQuery((PetscObject)pc, kTunerKey, (PetscObject*)&c) || !c) return nullptr;
  void* p = nullptr;
  if (PetscContainerGetPointer(c, &p)) return nullptr;
  return static_cast<TunerBox*>(p);
}

PetscErrorCode tuner_presolve(PC pc, KSP ksp, Vec b, Vec x) {
  PetscFunctionBegin;
  if (TunerBox* box = find_box(pc)) PetscCall(box->tuner->pre_solve(pc, ksp, b, x));
  PetscFunctionReturn(0);
}

PetscErrorCode tuner_postsolve(PC pc, KSP ksp, Vec b, Vec x) {
  PetscFunctionBegin;
  if (TunerBox* box = find_box(pc)) PetscCall(box->tuner->post_solve(pc, ksp, b, x));
  PetscFunctionReturn(0);
}

PetscErrorCode tuner_view(PC pc, PetscViewer viewer) {
  PetscFunctionBegin;
  TunerBox* box = find_box(pc);
  if (box && box->sor_view) PetscCall(box->sor_view(pc, viewer));
  if (box) PetscCall(box->tuner->view(viewer));
  PetscFunctionReturn(0);
}

// Runs when the PC is destroyed or changes type: the tuner goes with the SOR it tuned.
PetscErrorCode tuner_destroy(PC pc) {
  PetscFunctionBegin;
  TunerBox* box = find_box(pc);
  PetscErrorCode (*sor_destroy)(PC) = box ? box->sor_destroy : nullptr;
  pc->ops->presolve = nullptr;
  pc->ops->postsolve = nullptr;
  PetscCall(PetscObjectCompose((PetscObject)pc, kTunerKey, nullptr));
  if (sor_destroy) PetscCall(sor_destroy(pc));
  PetscFunctionReturn(0);
}

PetscErrorCode set_context_method(PC pc, PetscReal c) {
  PetscFunctionBegin;
  if (TunerBox* box = find_box(pc)) box->tuner->set_context(c);
  PetscFunctionReturn(0);
}

PetscErrorCode set_context_range_method(PC pc, PetscReal lo, PetscReal hi) {
  PetscFunctionBegin;
  if (TunerBox* box = find_box(pc)) {
    try {
      box->tuner->set_context_range(lo, hi);
    } catch (const Error& e) {
      SETERRQ(PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_OUTOFRANGE, "%s", e.message().c_str());
    }
  }
  PetscFunctionReturn(0);
}

bool is_sor(PC pc) {
  PetscBool sor = PETSC_FALSE;
  PetscObjectTypeCompare((PetscObject)pc, PCSOR, &sor);
  return sor;
}


}  // namespace

std::vector<double> TunerOptions::arm_values() const {
  if (!omegas.empty()) return omegas;
  return omega_grid(arms, omega_lo, omega_hi);
}

void TunerOptions::validate() const {
  const auto& names = learner_names();
  PDS_CHECK(std::find(names.begin(), names.end(), learner) != names.end(),
            "omega bandit: expected a learner among " << join(names) << ", got '" << learner << "'");
  PDS_CHECK(context == "application" || context == "diagonal" || context == "none",
            "omega bandit: expected context application, diagonal or none, got '" << context << "'");
  if (omegas.empty()) {
    PDS_CHECK(arms >= 1 && arms <= 10000, "omega bandit: expected 1..10000 arms, got " << arms);
    PDS_CHECK(omega_lo > 0 && omega_hi < 2 && omega_lo <= omega_hi,
              "omega bandit: expected an omega range inside (0, 2) with lo <= hi, got [" << omega_lo << ", "
                                                                                         << omega_hi << "]");
  }
  for (double w : omegas)
    PDS_CHECK(w > 0 && w < 2, "omega bandit: expected every omega in (0, 2), got " << w);
  PDS_CHECK(cap >= 0, "omega bandit: expected an iteration cap >= 0 (0: adaptive), got " << cap);
  if (context_range_set)
    PDS_CHECK(context_lo <= context_hi && std::isfinite(context_lo) && std::isfinite(context_hi),
              "omega bandit: expected a context range lo <= hi, got [" << context_lo << ", " << context_hi << "]");
}

RelaxationTuner::RelaxationTuner(const TunerOptions& options) : options_(options) {
  options_.validate();
  LearnerOptions lo;
  lo.arms = options_.arm_values();
  lo.seed = options_.seed;
  lo.context_lo = options_.context_lo;
  lo.context_hi = options_.context_hi;
  lo.degree = options_.degree;
  lo.gamma = options_.gamma;
  lo.bins = options_.bins;
  learner_ = make_learner(options_.learner, lo);
}

RelaxationTuner::~RelaxationTuner() = default;

void RelaxationTuner::set_context(double context) {
  app_context_ = context;
  app_context_set_ = true;
}

void RelaxationTuner::set_context_range(double lo, double hi) {
  PDS_CHECK(lo <= hi && std::isfinite(lo) && std::isfinite(hi),
            "omega bandit: expected a context range lo <= hi, got [" << lo << ", " << hi << "]");
  if (options_.context_range_set) return;  // the user's options win over the application
  options_.context_lo = lo;
  options_.context_hi = hi;
  learner_->set_context_range(lo, hi);
}

double RelaxationTuner::current_context(PC pc) {
  if (options_.context == "none") return 0.0;
  if (options_.context == "application" && app_context_set_) return app_context_;
  Mat P = nullptr;
  PDS_PETSC(PCGetOperators(pc, nullptr, &P));
  PetscObjectState state;
  PetscObjectId id;
  PDS_PETSC(PetscObjectStateGet((PetscObject)P, &state));
  PDS_PETSC(PetscObjectGetId((PetscObject)P, &id));
  if (state != diagonal_state_ || id != diagonal_id_ || !diagonal_) {
    PetscInt n = 0, m = 0;
    PDS_PETSC(MatGetSize(P, &n, &m));
    PetscInt have = -1;
    if (diagonal_) PDS_PETSC(VecGetSize(diagonal_, &have));
    if (have != n) PDS_PETSC(MatCreateVecs(P, nullptr, diagonal_.address()));
    PDS_PETSC(MatGetDiagonal(P, diagonal_));
    PetscScalar sum = 0;
    PDS_PETSC(VecSum(diagonal_, &sum));
    diagonal_mean_ = PetscRealPart(sum) / std::max<PetscInt>(n, 1);
    diagonal_state_ = state;
    diagonal_id_ = id;
  }
  return diagonal_mean_;
}

PetscErrorCode RelaxationTuner::pre_solve(PC pc, KSP ksp, Vec b, Vec x) {
  PetscFunctionBegin;
  try {
    pending_ = InstanceRecord();
    pending_.index = static_cast<long long>(history_.size());
    pending_.context = current_context(pc);
    int arm = override_ ? override_(ksp, b, x, pending_.context) : -1;
    learner_pending_ = arm < 0;
    if (arm < 0) arm = learner_->choose(pending_.context);
    PDS_CHECK(arm < learner_->num_arms(), "omega bandit: arm " << arm << " out of range");
    pending_.arm = arm;
    pending_.omega = learner_->arm(arm);
  } catch (const std::exception& e) {
    const auto* pe = dynamic_cast<const Error*>(&e);
    SETERRQ(PetscObjectComm((PetscObject)pc), PETSC_ERR_LIB, "%s", pe ? pe->message().c_str() : e.what());
  }
  PetscCall(PCSORSetOmega(pc, pending_.omega));
  pending_.seconds = MPI_Wtime();
  PetscFunctionReturn(0);
}

PetscErrorCode RelaxationTuner::post_solve(PC pc, KSP ksp, Vec, Vec) {
  PetscInt its = 0;
  KSPConvergedReason reason;
  PetscFunctionBegin;
  pending_.seconds = MPI_Wtime() - pending_.seconds;
  PetscCall(KSPGetIterationNumber(ksp, &its));
  PetscCall(KSPGetConvergedReason(ksp, &reason));
  pending_.iterations = static_cast<int>(its);
  pending_.converged = reason > 0;
  max_seen_ = std::max(max_seen_, pending_.iterations);
  // Without a cap: scale-free learners (tsallis, exp3, binned measure costs in units of their
  // running mean) get one fixed unit for the whole sequence, the KSP's iteration limit -- the
  // largest count seen so far changes the unit as it grows; the others (ucb1, chebcb) need
  // costs spread over [0, 1] and keep the largest count seen so far.
  PetscInt max_it = 0;
  PetscCall(KSPGetTolerances(ksp, nullptr, nullptr, nullptr, &max_it));
  const double cap = options_.cap > 0            ? options_.cap
                     : learner_->scale_free() ? std::max<double>({static_cast<double>(max_it), static_cast<double>(max_seen_), 1.0})
                                              : std::max(max_seen_, 1);
  // A failed solve costs the cap: never cheaper than any converged one.
  const double cost = pending_.converged ? std::min(1.0, its / cap) : 1.0;
  pending_.cost = cost;
  if (learner_pending_) {
    try {
      learner_->observe(cost);
    } catch (const Error& e) {
      SETERRQ(PetscObjectComm((PetscObject)pc), PETSC_ERR_LIB, "%s", e.message().c_str());
    }
  }
  learner_pending_ = false;
  total_iterations_ += its;
  history_.push_back(pending_);
  PetscFunctionReturn(0);
}

PetscErrorCode RelaxationTuner::view(PetscViewer viewer) const {
  PetscBool ascii = PETSC_FALSE;
  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  const auto& arms = learner_->arms();
  const double ctx = history_.empty() ? 0.0 : history_.back().context;
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "  omega bandit: %s over %d omega values in [%g, %g], context %s, seed %llu\n",
                                   options_.learner.c_str(), (int)arms.size(), arms.front(), arms.back(),
                                   options_.context.c_str(), (unsigned long long)options_.seed));
  PetscCall(PetscViewerASCIIPrintf(viewer, "    %lld solves, %lld iterations, current best omega %g\n",
                                   (long long)history_.size(), total_iterations_,
                                   arms[learner_->best_arm(ctx)]));
  PetscFunctionReturn(0);
}

RelaxationTuner& attach_relaxation_tuner(PC pc, const TunerOptions& options) {
  PDS_CHECK(pc, "omega bandit: expected a PC, got a null handle");
  if (!is_sor(pc)) {
    PCType type = nullptr;
    PDS_PETSC(PCGetType(pc, &type));
    PDS_FAIL("omega bandit: expected a PC of type sor, got " << (type ? type : "(unset)"));
  }
  auto box = std::make_unique<TunerBox>();
  box->tuner = std::make_unique<RelaxationTuner>(options);
  RelaxationTuner& tuner = *box->tuner;
  if (TunerBox* old = find_box(pc)) {
    box->sor_view = old->sor_view;
    box->sor_destroy = old->sor_destroy;
  } else {
    box->sor_view = pc->ops->view;
    box->sor_destroy = pc->ops->destroy;
  }
  PetscContainer c = nullptr;
  PDS_PETSC(PetscContainerCreate(PetscObjectComm((PetscObject)pc), &c));
  PDS_PETSC(PetscContainerSetPointer(c, box.release()));
  PDS_PETSC(PetscContainerSetUserDestroy(c, destroy_box));
  PDS_PETSC(PetscObjectCompose((PetscObject)pc, kTunerKey, (PetscObject)c));
  PDS_PETSC(PetscContainerDestroy(&c));  // the PC holds the reference now
  pc->ops->presolve = tuner_presolve;
  pc->ops->postsolve = tuner_postsolve;
  pc->ops->view = tuner_view;
  pc->ops->destroy = tuner_destroy;
  PDS_PETSC(PetscObjectComposeFunction((PetscObject)pc, kSetContextMethod, set_context_method));
  PDS_PETSC(PetscObjectComposeFunction((PetscObject)pc, kSetContextRangeMethod, set_context_range_method));
  return tuner;
}

RelaxationTuner* find_relaxation_tuner(PC pc) {
  TunerBox* box = pc ? find_box(pc) : nullptr;
  return box ? box->tuner.get() : nullptr;
}

PetscErrorCode set_bandit_context(PC pc, PetscReal context) {
  PetscErrorCode (*f)(PC, PetscReal) = nullptr;
  PetscFunctionBegin;
  PetscCall(PetscObjectQueryFunction((PetscObject)pc, kSetContextMethod, &f));
  if (f) PetscCall(f(pc, context));
  PetscFunctionReturn(0);
}

PetscErrorCode set_bandit_context_range(PC pc, PetscReal lo, PetscReal hi) {
  PetscErrorCode (*f)(PC, PetscReal, PetscReal) = nullptr;
  PetscFunctionBegin;
  PetscCall(PetscObjectQueryFunction((PetscObject)pc, kSetContextRangeMethod, &f));
  if (f) PetscCall(f(pc, lo, hi));
  PetscFunctionReturn(0);
}

// ---------------------------------------------------------------------------------------
// The options path: "sor" re-registered as PETSc's SOR plus an options handler.

namespace {

PetscErrorCode (*g_sor_create)(PC) = nullptr;
PetscErrorCode (*g_sor_setfromoptions)(PC, PetscOptionItems*) = nullptr;

bool same_options(const TunerOptions& a, const TunerOptions& b) {
  return a.learner == b.learner && a.arms == b.arms && a.omega_lo == b.omega_lo && a.omega_hi == b.omega_hi &&
         a.seed == b.seed && a.cap == b.cap && a.context == b.context &&
         a.context_range_set == b.context_range_set && a.context_lo == b.context_lo &&
         a.context_hi == b.context_hi && a.degree == b.degree && a.gamma == b.gamma && a.bins == b.bins;
}

PetscErrorCode sor_bandit_setfromoptions(PC pc, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBegin;
  if (g_sor_setfromoptions) PetscCall(g_sor_setfromoptions(pc, PetscOptionsObject));
  RelaxationTuner* existing = find_relaxation_tuner(pc);
  TunerOptions o = existing ? existing->options() : TunerOptions();
  const std::vector<std::string>& names = learner_names();
  std::vector<const char*> choices = {"none"};
  for (const auto& n : names) choices.push_back(n.c_str());
  char learner[64] = "none";
  if (existing) PetscCall(PetscStrncpy(learner, o.learner.c_str(), sizeof learner));
  const char* contexts[] = {"application", "diagonal", "none"};
  PetscInt context_index = o.context == "diagonal" ? 1 : o.context == "none" ? 2 : 0;
  PetscInt learner_index = 0;
  for (std::size_t i = 0; i < choices.size(); ++i)
    if (o.learner == choices[i] && existing) learner_index = static_cast<PetscInt>(i);
  PetscBool set_learner = PETSC_FALSE, flag = PETSC_FALSE, omega_flag = PETSC_FALSE;
  PetscInt arms = o.arms, seed = static_cast<PetscInt>(o.seed), cap = o.cap, degree = o.degree, bins = o.bins;
  PetscReal omega_range[2] = {o.omega_lo, o.omega_hi}, context_range[2] = {o.context_lo, o.context_hi};
  PetscInt n_omega = 2, n_context = 2;
  PetscReal gamma = o.gamma;
  PetscOptionsHeadBegin(PetscOptionsObject, "SOR omega bandit (pdestream)");
  PetscCall(PetscOptionsEList("-pc_sor_omega_bandit", "Learner that picks omega before every solve", "",
                              choices.data(), static_cast<PetscInt>(choices.size()), choices[learner_index],
                              &learner_index, &set_learner));
  PetscCall(PetscOptionsInt("-pc_sor_omega_bandit_arms", "Number of omega values", "", arms, &arms, nullptr));
  PetscCall(PetscOptionsRealArray("-pc_sor_omega_bandit_omega_range", "Omega grid lo,hi", "", omega_range,
                                  &n_omega, &omega_flag));
  PetscCall(PetscOptionsInt("-pc_sor_omega_bandit_seed", "Seed of the learner", "", seed, &seed, nullptr));
  PetscCall(PetscOptionsInt("-pc_sor_omega_bandit_cap", "Iteration count of cost 1 (0: max_it for tsallis/exp3/binned, else the largest seen)", "", cap,
                            &cap, nullptr));
  PetscCall(PetscOptionsEList("-pc_sor_omega_bandit_context", "Context of contextual learners", "", contexts, 3,
                              contexts[context_index], &context_index, nullptr));
  PetscCall(PetscOptionsRealArray("-pc_sor_omega_bandit_context_range", "Context range lo,hi", "",
                                  context_range, &n_context, &flag));
  PetscCall(PetscOptionsInt("-pc_sor_omega_bandit_degree", "Chebyshev degree (chebcb)", "", degree, &degree,
                            nullptr));
  PetscCall(PetscOptionsReal("-pc_sor_omega_bandit_gamma", "Inverse-gap weight scale (chebcb)", "", gamma,
                             &gamma, nullptr));
  PetscCall(PetscOptionsInt("-pc_sor_omega_bandit_bins", "Context bins (binned)", "", bins, &bins, nullptr));
  PetscOptionsHeadEnd();
  if (!set_learner && !existing) PetscFunctionReturn(0);
  if (omega_flag)
    PetscCheck(n_omega == 2, PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_WRONG,
             "-pc_sor_omega_bandit_omega_range: expected two numbers lo,hi, got %d", (int)n_omega);
  if (flag)
    PetscCheck(n_context == 2, PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_WRONG,
               "-pc_sor_omega_bandit_context_range: expected two numbers lo,hi, got %d", (int)n_context);
  if (learner_index == 0) {  // "none": drop a tuner set up earlier
    if (existing) PetscCall(PetscObjectCompose((PetscObject)pc, kTunerKey, nullptr));
    pc->ops->presolve = nullptr;
    pc->ops->postsolve = nullptr;
    PetscFunctionReturn(0);
  }
  o.learner = choices[learner_index];
  o.arms = static_cast<int>(arms);
  o.omega_lo = omega_range[0];
  o.omega_hi = omega_range[1];
  o.seed = static_cast<std::uint64_t>(seed);
  o.cap = static_cast<int>(cap);
  o.context = contexts[context_index];
  if (flag) {
    o.context_range_set = true;
    o.context_lo = context_range[0];
    o.context_hi = context_range[1];
  }
  o.degree = static_cast<int>(degree);
  o.gamma = gamma;
  o.bins = static_cast<int>(bins);
  // Calling KSPSetFromOptions again must not forget what was learnt.
  if (existing && same_options(existing->options(), o)) PetscFunctionReturn(0);
  try {
    attach_relaxation_tuner(pc, o);
  } catch (const Error& e) {
    SETERRQ(PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_WRONG, "%s", e.message().c_str());
  }
  PetscFunctionReturn(0);
}

PetscErrorCode sor_bandit_create(PC pc) {
  PetscFunctionBegin;
  PetscCall(g_sor_create(pc));
  g_sor_setfromoptions = pc->ops->setfromoptions;
  pc->ops->setfromoptions = sor_bandit_setfromoptions;
  PetscFunctionReturn(0);
}

}  // namespace

PetscErrorCode register_sor_bandit() {
  PetscErrorCode (*current)(PC) = nullptr;
  PetscFunctionBegin;
  // PCRegisterAll must have run, or it would later overwrite "sor" with the original.
  PetscCall(PCInitializePackage());
  PetscCall(PetscFunctionListFind(PCList, PCSOR, &current));
  if (current == sor_bandit_create) PetscFunctionReturn(0);
  PetscCheck(current, PETSC_COMM_SELF, PETSC_ERR_PLIB, "PCSOR is not registered");
  g_sor_create = current;
  PetscCall(PCRegister(PCSOR, sor_bandit_create));
  PetscFunctionReturn(0);
}

}  // namespace pdestream::linear_systems

extern "C" PetscErrorCode PetscDLLibraryRegister_pdestream_linear_systems(void) {
  return pdestream::linear_systems::register_sor_bandit();
}
