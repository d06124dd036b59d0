#pragma once
// The deep conjugate direction method (DCDM, Kaneda et al., ICML 2023) as PETSc solver
// types, available from any options source after register_dcdm():
//
// KSP type "dcdm" (-ksp_type dcdm). For A x = b with SPD A, from x0 (zero or the initial guess):
//   r = b - A x
//   repeat:  q = f(r / |r|)                                   f: the network (or an operator)
//            q -= sum_j (q.A p_j / p_j.A p_j) p_j             over the last k directions p_j
//            alpha = (q.r) / (q.A q);  x += alpha q;  p <- q
//            r = b - A x                                      recomputed, not updated
//   until the KSP's convergence test (KSPConvergedDefault unless replaced) on |r|_2.
// Decoupled rows (no off-diagonal entry: the solid cells of an obstacle, whose rows are the
// identity's) get q_i = r_i / a_ii, their exact answer, in place of the network's output,
// which the network was never trained for (fed back as residual, it stalled DCDM). With a
// user operator (set_dcdm_operator) q is the operator's alone.
// The residual is recomputed from x every iteration, as the reference implementation
// does: one more MatMult per iteration (cheap beside the network) in exchange for a
// residual norm that is the true one, so -ksp_rtol means the true relative residual even
// when f is a float32 network; -ksp_dcdm_true_residual false switches to the recurrence
// r -= alpha A q. The norm type is unpreconditioned (or none). DCDM applies no preconditioner:
// KSPSetUp sets the KSP's PC to "none" (whatever was chosen, so no factorisation is wasted;
// -info reports the replacement). A direction with
// q.A q <= 0 or a NaN stops the solve (KSP_DIVERGED_BREAKDOWN / _INDEFINITE_MAT / _NANORINF).
//
// PC type "dcdm" for flexible Krylov methods (-ksp_type fcg -pc_type dcdm, or fgmres):
//   apply(x) = |x| f(x / |x|)   (0 for x = 0).
// f is not linear (ReLU network), hence only flexible methods: FCG, FGMRES, GCR.
//
// Options (prefixed by the KSP's / PC's prefix):
//   -ksp_dcdm_model FILE     .safetensors from pdestream dcdm-train (or save_dcdm_net);
//                            "untrained" gives a randomly initialised network (seeded,
//                            for tests and timing). Required unless an operator was set.
//   -ksp_dcdm_seed N         seed of the untrained network (0)
//   -ksp_dcdm_directions k   previous directions to A-orthogonalise against (2, as in the paper)
//   -ksp_dcdm_true_residual  recompute r = b - A x (true, default) or use the recurrence (false)
//   -ksp_dcdm_monitor        one line per iteration: |r|, alpha, q.Aq, time in f
//   -pc_dcdm_model FILE, -pc_dcdm_seed N for the PC type.
// Standard options work: -ksp_monitor, -ksp_converged_reason, -ksp_rtol/-ksp_atol/-ksp_max_it,
// -ksp_view (model, directions, applications of f and their time) and -log_view (events
// "DCDMApply": every application of f, gather/scatter included; "DCDMNetwork": the
// network's forward pass alone).
//
// The grid: the network needs the DMDA of the unknowns. Set it with
//   KSPSetDM(ksp, da); KSPSetDMActive(ksp, PETSC_FALSE);
// (the operator stays the one given by KSPSetOperators). The PC takes it from its KSP.
// Without a DMDA, or with dof > 1 or a dimension other than the network's, setup fails with
// "dcdm needs a DMDA grid: ...".
//
// Several ranks: the residual is gathered on rank 0 in natural ordering, the network runs
// there and q is scattered back (see make_network_operator in dcdm_net.hpp); the other
// ranks wait. The answer does not depend on the rank count; the network's cost does not
// shrink with more ranks.
//
// Operators in place of the network (tests, classical comparisons): set_dcdm_operator()
// replaces f by any function out = M in on the KSP's vectors (for instance a fixed SPD
// preconditioner, or an exact solve: DCDM then converges in one iteration).
//
// This header is torch-free: the network lives in dcdm_net.hpp.

#include <petscksp.h>

#include <functional>
#include <string>

namespace pdestream::linear_systems {

inline constexpr const char* kKSPDCDM = "dcdm";
inline constexpr const char* kPCDCDM = "dcdm";

// Registers the KSP type and the PC type "dcdm" and the log events. Call once after
// PetscInitialize (again is harmless).
PetscErrorCode register_dcdm();

// A direction operator: out = f(in). `in` and `out` are Vecs of the solver's layout;
// `in` must not be modified. PETSc style: return an error code, never throw.
using DcdmOperator = std::function<PetscErrorCode(Vec in, Vec out)>;

// out = M in, with `M` referenced for the operator's lifetime.
DcdmOperator mat_operator(Mat M);
// out = PCApply(pc, in), with `pc` referenced (for instance a set-up PCSOR).
DcdmOperator pc_operator(PC pc);
// out = KSPSolve(ksp, in) scaled by `scale`, with `ksp` referenced (e.g. an exact solve).
DcdmOperator ksp_operator(KSP ksp, double scale = 1.0);

// Counters of a dcdm KSP or PC.
struct DcdmStats {
  long long applications = 0;  // evaluations of f
  double seconds = 0.0;        // wall time inside f (gather/scatter included)
};

// The C++ interface of a KSP / PC of type dcdm. Each throws pdestream::Error when the object
// is of another type. Settings made here hold until the options database changes them at
// the next KSPSetFromOptions / PCSetFromOptions.
void set_dcdm_operator(KSP ksp, DcdmOperator op);  // an empty op returns to the network
void set_dcdm_operator(PC pc, DcdmOperator op);
void set_dcdm_model(KSP ksp, const std::string& path);  // "untrained" for a random network
void set_dcdm_model(PC pc, const std::string& path);
void set_dcdm_directions(KSP ksp, int k);
DcdmStats dcdm_stats(KSP ksp);
DcdmStats dcdm_stats(PC pc);

}  // namespace pdestream::linear_systems
