#pragma once
// Bandit-tuned SOR relaxation around any KSP (Khodak et al., "Learning to Relax").
//
// A RelaxationTuner sits on a PC of type PCSOR. Before every KSPSolve (the PC's presolve
// hook) it asks its learner for omega and calls PCSORSetOmega; after the solve (postsolve)
// it feeds back the iteration count normalised to [0, 1], or 1 when the solve did not
// converge. PETSc's SOR is symmetric (per-rank SSOR) by default, the right choice inside
// CG; with -ksp_type richardson add -pc_sor_forward for plain SOR.
//
// From the options database, on any KSP, with no code changes (after register_sor_bandit()):
//   -pc_type sor -pc_sor_omega_bandit tsallis            learner: tsallis|exp3|ucb1|chebcb|binned|fixed|none
//   -pc_sor_omega_bandit_arms 20                         number of omega values
//   -pc_sor_omega_bandit_omega_range 1.0,1.95            omega grid = linspace(lo, hi, arms)
//   -pc_sor_omega_bandit_seed 0
//   -pc_sor_omega_bandit_cap 0                           cost = its / cap (0: max_it for tsallis/exp3/binned,
//                                                        else the largest count seen so far)
//   -pc_sor_omega_bandit_context application             application|diagonal|none
//   -pc_sor_omega_bandit_context_range 0,10              raw context range of contextual learners
//   -pc_sor_omega_bandit_degree 3  -pc_sor_omega_bandit_gamma 10   (chebcb)
//   -pc_sor_omega_bandit_bins 5                          (binned)
// The options honour the KSP's prefix (-myprefix_pc_sor_omega_bandit ...); -ksp_view shows
// the learner and its totals.
//
// The context of the contextual learners: "application" is a scalar the code that owns the
// solve sets before each solve (heat2d: the diffusivity at the new time level), falling back
// to "diagonal" when none was set; "diagonal" is the mean of the operator's diagonal, which
// needs no code at all (for A + c I it is c plus a constant). Code that cannot link against
// this library sets the context through the composed PETSc methods below:
//   void (*f)(PC, PetscReal) ; PetscObjectQueryFunction((PetscObject)pc, kSetContextMethod, &f);
//   if (f) f(pc, c);

#include <petscksp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "linear_systems/learners.hpp"
#include "linear_systems/petsc_handle.hpp"

namespace pdestream::linear_systems {

inline constexpr const char* kSetContextMethod = "PCSORSetOmegaBanditContext_C";            // (PC, PetscReal)
inline constexpr const char* kSetContextRangeMethod = "PCSORSetOmegaBanditContextRange_C";  // (PC, PetscReal, PetscReal)

struct TunerOptions {
  std::string learner = "tsallis";
  int arms = 20;
  double omega_lo = 1.0;
  double omega_hi = 1.95;
  std::vector<double> omegas;  // explicit arm values; when set, arms/omega_lo/omega_hi are ignored
  std::uint64_t seed = 0;
  int cap = 0;                           // 0: max_it (scale-free learners) or the largest count seen
  std::string context = "application";   // application | diagonal | none
  bool context_range_set = false;        // true: context_lo/hi override the application's range
  double context_lo = 0.0;
  double context_hi = 1.0;
  int degree = 3;
  double gamma = 10.0;
  int bins = 5;

  std::vector<double> arm_values() const;
  // Throws pdestream::Error naming the bad field and the accepted values.
  void validate() const;
};

// One solve as the tuner saw it.
struct InstanceRecord {
  long long index = 0;
  double context = 0.0;
  double omega = 0.0;
  int arm = -1;
  int iterations = 0;
  bool converged = false;
  double cost = 0.0;  // what the learner was fed (also when it was overridden)
  double seconds = 0.0;
};

class RelaxationTuner {
 public:
  explicit RelaxationTuner(const TunerOptions& options);
  ~RelaxationTuner();
  RelaxationTuner(const RelaxationTuner&) = delete;
  RelaxationTuner& operator=(const RelaxationTuner&) = delete;

  const TunerOptions& options() const { return options_; }
  Learner& learner() { return *learner_; }
  const Learner& learner() const { return *learner_; }
  const std::vector<InstanceRecord>& history() const { return history_; }
  long long total_iterations() const { return total_iterations_; }

  // The application's context for the following solves, and its range (used by the
  // contextual learners unless the options fixed one).
  void set_context(double context);
  void set_context_range(double lo, double hi);

  // Called before the learner is asked; an arm index >= 0 is played instead and the learner
  // is neither asked nor updated. Used to measure every arm on every instance.
  using Override = std::function<int(KSP ksp, Vec b, Vec x, double context)>;
  void set_override(Override f) { override_ = std::move(f); }

  // The PC hooks (PETSc style: errors are returned, C++ exceptions never cross them).
  PetscErrorCode pre_solve(PC pc, KSP ksp, Vec b, Vec x);
  PetscErrorCode post_solve(PC pc, KSP ksp, Vec b, Vec x);
  PetscErrorCode view(PetscViewer viewer) const;

 private:
  double current_context(PC pc);

  TunerOptions options_;
  std::unique_ptr<Learner> learner_;
  std::vector<InstanceRecord> history_;
  long long total_iterations_ = 0;
  int max_seen_ = 0;
  bool app_context_set_ = false;
  double app_context_ = 0.0;
  InstanceRecord pending_;
  bool learner_pending_ = false;
  Override override_;
  // "diagonal" context, recomputed only when the operator changes.
  OwnedVec diagonal_;
  PetscObjectState diagonal_state_ = -1;
  PetscObjectId diagonal_id_ = 0;
  double diagonal_mean_ = 0.0;
};

// Put a tuner on `pc` (which must be PCSOR), replacing any previous one; the PC owns it and
// drops it when destroyed or when its type changes.
RelaxationTuner& attach_relaxation_tuner(PC pc, const TunerOptions& options);
// The tuner on `pc`, or nullptr.
RelaxationTuner* find_relaxation_tuner(PC pc);

// Makes -pc_sor_omega_bandit work on every PCSOR created afterwards: "sor" is re-registered
// with a creation function that builds PETSc's own SOR and adds the option handling. Call
// once after PetscInitialize (again is harmless). Without the option, SOR is unchanged.
PetscErrorCode register_sor_bandit();

// The application context / range of whatever bandit sits on `pc`; a no-op otherwise.
PetscErrorCode set_bandit_context(PC pc, PetscReal context);
PetscErrorCode set_bandit_context_range(PC pc, PetscReal lo, PetscReal hi);

}  // namespace pdestream::linear_systems

// PETSc's dynamic-loading entry point (-dll_append libpdestream_linear_systems.so) for a
// shared build of this library; the static build registers through register_sor_bandit().
extern "C" PetscErrorCode PetscDLLibraryRegister_pdestream_linear_systems(void);
