#include "linear_systems/sequences.hpp"

#include <petscdmda.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "core/strings.hpp"

namespace pdestream::linear_systems {

namespace fs = std::filesystem;

OmegaPolicy OmegaPolicy::parse(const std::string& text) {
  OmegaPolicy p;
  const auto colon = text.find(':');
  const std::string head = text.substr(0, colon), tail = colon == std::string::npos ? "" : text.substr(colon + 1);
  const char* forms = "bandit:tsallis|exp3|ucb1|chebcb|binned, fixed:W with 0 < W < 2, grid or none";
  if (head == "grid" || head == "none") {
    PDS_CHECK(colon == std::string::npos, "--omega: expected " << forms << ", got '" << text << "'");
    p.kind = head;
  } else if (head == "bandit") {
    const auto& names = learner_names();
    PDS_CHECK(!tail.empty() && tail != "fixed" && std::find(names.begin(), names.end(), tail) != names.end(),
              "--omega: expected " << forms << ", got '" << text << "'");
    p.kind = "bandit";
    p.learner = tail;
  } else if (head == "fixed") {
    char* end = nullptr;
    const double w = tail.empty() ? NAN : std::strtod(tail.c_str(), &end);
    PDS_CHECK(!tail.empty() && end && *end == '\0' && std::isfinite(w),
              "--omega: expected fixed:W with a number W, got '" << text << "'");
    PDS_CHECK(w > 0 && w < 2, "--omega: expected omega in (0, 2) for SOR to converge, got " << tail);
    p.kind = "fixed";
    p.omega = w;
  } else {
    PDS_FAIL("--omega: expected " << forms << ", got '" << text << "'");
  }
  return p;
}

std::string OmegaPolicy::describe() const {
  std::ostringstream os;
  if (kind == "bandit") os << "bandit:" << learner;
  else if (kind == "fixed") os << "fixed:" << omega;
  else os << kind;
  return os.str();
}

solvers::Heat2dOptions SequenceOptions::paper_heat2d_options() {
  solvers::Heat2dOptions o;
  o.scheme = "cn";
  o.dt = 1e-3;
  o.diffusivity = "paper";
  o.source = "moving";
  o.rtol = 1e-8;
  return o;
}

namespace {

const char* kMatFile = "A_%04d.bin";
const char* kVecFile = "b_%04d.bin";

std::string numbered(const std::string& dir, const char* pattern, int k) {
  char name[64];
  std::snprintf(name, sizeof name, pattern, k);
  return (fs::path(dir) / name).string();
}

// PETSc binary headers are big-endian PetscInts: classid, then sizes.
bool read_header(const std::string& path, int count, std::vector<long long>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.clear();
  for (int k = 0; k < count; ++k) {
    unsigned char buf[sizeof(PetscInt)];
    if (!in.read(reinterpret_cast<char*>(buf), sizeof buf)) return false;
    long long v = 0;
    for (unsigned char c : buf) v = (v << 8) | c;
    if (sizeof(PetscInt) == 4) v = static_cast<std::int32_t>(v);
    out.push_back(v);
  }
  return true;
}

// Records every solve of one KSP through its public pre/post-solve hooks, whatever PC it has.
struct Recorder {
  std::vector<InstanceRecord> records;
  double context = 0.0;
  double started = 0.0;
  double solve_seconds = 0.0;

  static PetscErrorCode pre(KSP, Vec, Vec, void* ctx) {
    static_cast<Recorder*>(ctx)->started = MPI_Wtime();
    return 0;
  }
  static PetscErrorCode post(KSP ksp, Vec, Vec, void* ctx) {
    auto* self = static_cast<Recorder*>(ctx);
    InstanceRecord r;
    r.seconds = MPI_Wtime() - self->started;
    r.index = static_cast<long long>(self->records.size());
    r.context = self->context;
    PetscInt its = 0;
    KSPConvergedReason reason;
    PC pc;
    PetscBool sor = PETSC_FALSE;
    PetscFunctionBegin;
    PetscCall(KSPGetIterationNumber(ksp, &its));
    PetscCall(KSPGetConvergedReason(ksp, &reason));
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCSOR, &sor));
    if (sor) PetscCall(PCSORGetOmega(pc, &r.omega));
    // The tuner times the solve alone (grid probing runs inside its presolve).
    if (RelaxationTuner* t = find_relaxation_tuner(pc); t && !t->history().empty()) {
      r.arm = t->history().back().arm;
      r.seconds = t->history().back().seconds;
    }
    self->solve_seconds += r.seconds;
    r.iterations = static_cast<int>(its);
    r.converged = reason > 0;
    self->records.push_back(r);
    PetscFunctionReturn(0);
  }
};

// Solves every system at every arm from the solve's own initial guess, on a KSP of its own
// configured like the tuned one, so the measurement does not disturb the sequence.
class ArmProber {
 public:
  ArmProber(std::vector<double> arms, MPI_Comm comm) : arms_(std::move(arms)) {
    PDS_PETSC(KSPCreate(comm, ksp_.address()));
    totals_.assign(arms_.size(), 0);
  }

  int probe(KSP main, Vec b, Vec x) {
    Mat A, P;
    PDS_PETSC(KSPGetOperators(main, &A, &P));
    KSPType type;
    PDS_PETSC(KSPGetType(main, &type));
    PetscReal rtol, abstol, dtol;
    PetscInt max_it;
    PDS_PETSC(KSPGetTolerances(main, &rtol, &abstol, &dtol, &max_it));
    PC main_pc, pc;
    PDS_PETSC(KSPGetPC(main, &main_pc));
    MatSORType sym;
    PetscInt sor_its, sor_lits;
    PDS_PETSC(PCSORGetSymmetric(main_pc, &sym));
    PDS_PETSC(PCSORGetIterations(main_pc, &sor_its, &sor_lits));
    PDS_PETSC(KSPSetType(ksp_, type));
    PDS_PETSC(KSPSetTolerances(ksp_, rtol, abstol, dtol, max_it));
    PDS_PETSC(KSPSetInitialGuessNonzero(ksp_, PETSC_TRUE));
    PDS_PETSC(KSPGetPC(ksp_, &pc));
    PDS_PETSC(PCSetType(pc, PCSOR));
    PDS_PETSC(PCSORSetSymmetric(pc, sym));
    PDS_PETSC(PCSORSetIterations(pc, sor_its, sor_lits));
    PDS_PETSC(KSPSetOperators(ksp_, A, P));
    PetscInt n_x = 0, n_have = -1;
    PDS_PETSC(VecGetSize(x, &n_x));
    if (x_) PDS_PETSC(VecGetSize(x_, &n_have));
    if (n_have != n_x) PDS_PETSC(VecDuplicate(x, x_.address()));
    int best = 0;
    long long best_its = std::numeric_limits<long long>::max();
    for (std::size_t a = 0; a < arms_.size(); ++a) {
      PDS_PETSC(VecCopy(x, x_));
      PDS_PETSC(PCSORSetOmega(pc, arms_[a]));
      PDS_PETSC(KSPSolve(ksp_, b, x_));
      PetscInt its;
      KSPConvergedReason reason;
      PDS_PETSC(KSPGetIterationNumber(ksp_, &its));
      PDS_PETSC(KSPGetConvergedReason(ksp_, &reason));
      const long long cost = reason > 0 ? its : max_it;  // a failure costs the cap
      totals_[a] += cost;
      if (cost < best_its) best_its = cost, best = static_cast<int>(a);
    }
    instance_optimal_ += best_its;
    return best;
  }

  const std::vector<long long>& totals() const { return totals_; }
  long long instance_optimal() const { return instance_optimal_; }

 private:
  std::vector<double> arms_;
  OwnedKSP ksp_;
  OwnedVec x_;
  std::vector<long long> totals_;
  long long instance_optimal_ = 0;
};

// CG + (SSOR | nothing) at rtol, then the user's PETSc options, then the tuner.
void configure_ksp(KSP ksp, const SequenceOptions& o, const OmegaPolicy& policy, std::unique_ptr<ArmProber>& prober,
                   Recorder& recorder, MPI_Comm comm) {
  PDS_PETSC(KSPSetType(ksp, KSPCG));
  PDS_PETSC(KSPSetTolerances(ksp, o.rtol, 1e-50, PETSC_DEFAULT, o.max_it));
  PDS_PETSC(KSPSetInitialGuessNonzero(ksp, PETSC_TRUE));
  PC pc;
  PDS_PETSC(KSPGetPC(ksp, &pc));
  PDS_PETSC(PCSetType(pc, policy.kind == "none" ? PCNONE : PCSOR));
  PDS_PETSC(KSPSetFromOptions(ksp));
  PDS_PETSC(KSPSetPreSolve(ksp, Recorder::pre, &recorder));
  PDS_PETSC(KSPSetPostSolve(ksp, Recorder::post, &recorder));
  if (policy.kind == "none") return;
  PCType type;
  PDS_PETSC(PCGetType(pc, &type));
  PDS_CHECK(std::string(type) == PCSOR,
            "--omega " << policy.describe() << ": expected -pc_type sor (or no -pc_type), got -pc_type " << type);
  TunerOptions t = o.tuner;
  t.seed = o.seed;
  if (policy.kind == "bandit") {
    t.learner = policy.learner;
  } else if (policy.kind == "fixed") {
    t.learner = "fixed";
    t.omegas = {policy.omega};
  } else {  // grid: the learner is never asked
    t.learner = "fixed";
  }
  RelaxationTuner& tuner = attach_relaxation_tuner(pc, t);
  if (policy.kind == "grid") {
    prober = std::make_unique<ArmProber>(tuner.learner().arms(), comm);
    ArmProber* p = prober.get();
    tuner.set_override([p](KSP k, Vec b, Vec x, double) { return p->probe(k, b, x); });
  }
}

void run_heat2d(const SequenceOptions& o, const OmegaPolicy& policy, MPI_Comm comm, SequenceReport& report,
                Recorder& recorder, std::unique_ptr<ArmProber>& prober) {
  solvers::Heat2dOptions h = o.heat;
  h.nx = h.ny = o.grid;
  h.outputs = o.steps;
  h.steps_per_output = 1;
  h.rtol = o.rtol;
  solvers::Heat2d heat(h, comm);
  report.unknowns = static_cast<long long>(o.grid - 2) * (o.grid - 2);
  configure_ksp(heat.ksp(), o, policy, prober, recorder, comm);
  heat.reset(heat.default_parameters());
  for (int k = 0; k < o.steps; ++k) {
    recorder.context = heat.diffusivity((k + 1) * h.dt);
    heat.advance();
  }
}

// 5-point stencil with 4 on the diagonal on an m x m grid of interior points (zero Dirichlet
// values outside).
PetscErrorCode assemble_laplacian(DM da, Mat L) {
  DMDALocalInfo info;
  PetscFunctionBeginUser;
  PetscCall(DMDAGetLocalInfo(da, &info));
  for (PetscInt j = info.ys; j < info.ys + info.ym; ++j)
    for (PetscInt i = info.xs; i < info.xs + info.xm; ++i) {
      MatStencil row = {0}, cols[5];
      PetscScalar vals[5];
      row.i = i;
      row.j = j;
      PetscInt n = 0;
      cols[n] = row;
      vals[n++] = 4.0;
      const PetscInt di[4] = {-1, 1, 0, 0}, dj[4] = {0, 0, -1, 1};
      for (int k = 0; k < 4; ++k) {
        const PetscInt ii = i + di[k], jj = j + dj[k];
        if (ii < 0 || jj < 0 || ii >= info.mx || jj >= info.my) continue;
        cols[n] = row;
        cols[n].i = ii;
        cols[n].j = jj;
        vals[n++] = -1.0;
      }
      PetscCall(MatSetValuesStencil(L, 1, &row, n, cols, vals, INSERT_VALUES));
    }
  PetscCall(MatAssemblyBegin(L, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(L, MAT_FINAL_ASSEMBLY));
  PetscCall(MatSetOption(L, MAT_SYMMETRIC, PETSC_TRUE));
  PetscFunctionReturn(0);
}

void run_shifted(const SequenceOptions& o, const OmegaPolicy& policy, MPI_Comm comm, SequenceReport& report,
                 Recorder& recorder, std::unique_ptr<ArmProber>& prober) {
  const int m = o.grid - 2;
  PDS_CHECK(m >= 1, "shifted-laplacian: expected a grid of at least 3 points per axis, got " << o.grid);
  report.unknowns = static_cast<long long>(m) * m;
  OwnedDM da;
  OwnedMat L, A;
  OwnedVec b, x;
  OwnedKSP ksp;
  PDS_PETSC(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, m, m, PETSC_DECIDE,
                         PETSC_DECIDE, 1, 1, nullptr, nullptr, da.address()));
  PDS_PETSC(DMSetUp(da));
  PDS_PETSC(DMCreateMatrix(da, L.address()));
  PDS_PETSC(assemble_laplacian(da, L));
  PDS_PETSC(MatDuplicate(L, MAT_COPY_VALUES, A.address()));
  PDS_PETSC(DMCreateGlobalVector(da, b.address()));
  PDS_PETSC(VecDuplicate(b, x.address()));
  PDS_PETSC(KSPCreate(comm, ksp.address()));
  configure_ksp(ksp, o, policy, prober, recorder, comm);
  PC pc;
  PDS_PETSC(KSPGetPC(ksp, &pc));
  PDS_PETSC(set_bandit_context_range(pc, 0.0, o.shift_scale));
  SplitMix64 rng(o.seed * 0x9E3779B97F4A7C15ull + 12345);
  DMDALocalInfo info;
  PDS_PETSC(DMDAGetLocalInfo(da, &info));
  for (int t = 0; t < o.steps; ++t) {
    // Beta(2, 6) is the 2nd smallest of 7 uniforms: exact, portable and seed-stable.
    double u[7];
    for (double& v : u) v = rng.uniform();
    std::sort(u, u + 7);
    const double c = o.shift_scale * u[1];
    PDS_PETSC(MatCopy(L, A, SAME_NONZERO_PATTERN));
    PDS_PETSC(MatShift(A, c));
    PDS_PETSC(KSPSetOperators(ksp, A, A));
    // Right-hand side from a hash of (seed, t, global point): the same on any rank count.
    const std::uint64_t base = rng.next();
    PetscScalar** bb;
    PDS_PETSC(DMDAVecGetArray(da, b, &bb));
    for (PetscInt j = info.ys; j < info.ys + info.ym; ++j)
      for (PetscInt i = info.xs; i < info.xs + info.xm; ++i) {
        SplitMix64 h(base ^ (static_cast<std::uint64_t>(j) * m + i) * 0xD1B54A32D192ED03ull);
        bb[j][i] = 2.0 * h.uniform() - 1.0;
      }
    PDS_PETSC(DMDAVecRestoreArray(da, b, &bb));
    PDS_PETSC(VecSet(x, 0.0));
    PDS_PETSC(set_bandit_context(pc, c));
    recorder.context = c;
    PDS_PETSC(KSPSolve(ksp, b, x));
  }
}

void load_system(const std::string& dir, int k, MPI_Comm comm, OwnedMat& A, OwnedVec& b) {
  OwnedViewer v;
  PDS_PETSC(PetscViewerBinaryOpen(comm, numbered(dir, kMatFile, k).c_str(), FILE_MODE_READ, v.address()));
  PDS_PETSC(MatCreate(comm, A.address()));
  PDS_PETSC(MatSetType(A, MATAIJ));
  PDS_PETSC(MatLoad(A, v));
  PDS_PETSC(PetscViewerBinaryOpen(comm, numbered(dir, kVecFile, k).c_str(), FILE_MODE_READ, v.address()));
  PDS_PETSC(VecCreate(comm, b.address()));
  PDS_PETSC(VecLoad(b, v));
}

std::vector<double> read_contexts(const std::string& dir, int count) {
  std::vector<double> c;
  std::ifstream in(fs::path(dir) / "context.txt");
  if (!in) return c;
  double v;
  while (in >> v) c.push_back(v);
  PDS_CHECK(in.eof(), dir << "/context.txt: expected one number per line, got '" << [&] {
    in.clear();
    std::string s;
    in >> s;
    return s;
  }() << "' after " << c.size() << " values");
  PDS_CHECK(static_cast<int>(c.size()) >= count, dir << "/context.txt: expected " << count
                                                      << " contexts (one per system), got " << c.size());
  return c;
}

void run_dir(const SequenceOptions& o, const OmegaPolicy& policy, MPI_Comm comm, SequenceReport& report,
             Recorder& recorder, std::unique_ptr<ArmProber>& prober) {
  const auto info = scan_sequence_dir(o.sequence, comm);
  int steps = o.steps > 0 ? o.steps : info.count;
  PDS_CHECK(steps <= info.count, "--steps " << steps << ": expected at most the " << info.count
                                            << " systems in " << o.sequence);
  report.unknowns = info.size;
  const std::vector<double> contexts = read_contexts(o.sequence, steps);
  SequenceOptions oo = o;
  if (contexts.empty()) oo.tuner.context = "diagonal";
  OwnedKSP ksp;
  OwnedVec x;
  PDS_PETSC(KSPCreate(comm, ksp.address()));
  configure_ksp(ksp, oo, policy, prober, recorder, comm);
  PC pc;
  PDS_PETSC(KSPGetPC(ksp, &pc));
  if (!contexts.empty()) {
    const auto [lo, hi] = std::minmax_element(contexts.begin(), contexts.begin() + steps);
    PDS_PETSC(set_bandit_context_range(pc, *lo, *hi));
  } else if (policy.kind == "bandit" && is_contextual_learner(policy.learner)) {
    // The range of the diagonal means, from a first pass over the folder.
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (int k = 0; k < steps; ++k) {
      OwnedMat A;
      OwnedVec b, d;
      load_system(o.sequence, k, comm, A, b);
      PDS_PETSC(MatCreateVecs(A, nullptr, d.address()));
      PDS_PETSC(MatGetDiagonal(A, d));
      PetscScalar s;
      PDS_PETSC(VecSum(d, &s));
      lo = std::min(lo, PetscRealPart(s) / info.size);
      hi = std::max(hi, PetscRealPart(s) / info.size);
    }
    PDS_PETSC(set_bandit_context_range(pc, lo, hi));
  }
  for (int k = 0; k < steps; ++k) {
    OwnedMat A;
    OwnedVec b;
    load_system(o.sequence, k, comm, A, b);
    if (!x) {
      PDS_PETSC(VecDuplicate(b, x.address()));
      PDS_PETSC(VecSet(x, 0.0));
    }
    PDS_PETSC(KSPSetOperators(ksp, A, A));
    if (!contexts.empty()) PDS_PETSC(set_bandit_context(pc, contexts[k]));
    RelaxationTuner* tuner = find_relaxation_tuner(pc);
    recorder.context = contexts.empty() ? 0.0 : contexts[k];
    PDS_PETSC(KSPSolve(ksp, b, x));
    if (contexts.empty() && tuner && !tuner->history().empty())
      recorder.records.back().context = tuner->history().back().context;
  }
}

}  // namespace

SequenceDirInfo scan_sequence_dir(const std::string& dir, MPI_Comm comm) {
  SequenceDirInfo info;
  std::string error;
  if (comm_rank(comm) == 0) {
    try {
      PDS_CHECK(fs::is_directory(dir), "--sequence " << dir
                                                     << ": expected heat2d, shifted-laplacian or a folder of "
                                                        "A_0000.bin, b_0000.bin, ..., got no such folder");
      while (fs::exists(numbered(dir, kMatFile, info.count))) ++info.count;
      PDS_CHECK(info.count > 0, dir << ": expected PETSc binary systems A_0000.bin, b_0000.bin, ..., found none");
      for (int k = 0; k < info.count; ++k) {
        const std::string a = numbered(dir, kMatFile, k), b = numbered(dir, kVecFile, k);
        std::vector<long long> ha, hb;
        PDS_CHECK(read_header(a, 4, ha) && ha[0] == MAT_FILE_CLASSID,
                  a << ": expected a PETSc binary matrix, got something else");
        PDS_CHECK(fs::exists(b), b << ": expected the right-hand side of " << fs::path(a).filename().string()
                                   << ", found no such file");
        PDS_CHECK(read_header(b, 2, hb) && hb[0] == VEC_FILE_CLASSID,
                  b << ": expected a PETSc binary vector, got something else");
        PDS_CHECK(ha[1] == ha[2], a << ": expected a square matrix, got " << ha[1] << " x " << ha[2]);
        if (k == 0) info.size = ha[1];
        PDS_CHECK(ha[1] == info.size, a << ": expected " << info.size << " x " << info.size
                                        << " like A_0000.bin, got " << ha[1] << " x " << ha[2]);
        PDS_CHECK(hb[1] == info.size,
                  b << ": expected " << info.size << " entries to match the matrix, got " << hb[1]);
      }
    } catch (const Error& e) {
      error = e.message();
    }
  }
  agree_on_error(comm, error);
  long long buf[2] = {info.count, info.size};
  MPI_Bcast(buf, 2, MPI_LONG_LONG, 0, comm);
  info.count = static_cast<int>(buf[0]);
  info.size = buf[1];
  return info;
}

void write_system(const std::string& dir, int index, Mat A, Vec b) {
  MPI_Comm comm = PetscObjectComm((PetscObject)A);
  OwnedViewer v;
  PDS_PETSC(PetscViewerCreate(comm, v.address()));
  PDS_PETSC(PetscViewerSetType(v, PETSCVIEWERBINARY));
  PDS_PETSC(PetscViewerBinarySetSkipInfo(v, PETSC_TRUE));
  PDS_PETSC(PetscViewerFileSetMode(v, FILE_MODE_WRITE));
  PDS_PETSC(PetscViewerFileSetName(v, numbered(dir, kMatFile, index).c_str()));
  PDS_PETSC(MatView(A, v));
  PDS_PETSC(PetscViewerCreate(comm, v.address()));
  PDS_PETSC(PetscViewerSetType(v, PETSCVIEWERBINARY));
  PDS_PETSC(PetscViewerBinarySetSkipInfo(v, PETSC_TRUE));
  PDS_PETSC(PetscViewerFileSetMode(v, FILE_MODE_WRITE));
  PDS_PETSC(PetscViewerFileSetName(v, numbered(dir, kVecFile, index).c_str()));
  PDS_PETSC(VecView(b, v));
}

SequenceReport run_sequence(const SequenceOptions& o, const OmegaPolicy& policy, MPI_Comm comm) {
  PDS_CHECK(o.steps >= 0, "--steps: expected a number of systems >= 1, got " << o.steps);
  PDS_CHECK(o.grid >= 3, "--grid: expected at least 3 points per axis, got " << o.grid);
  PDS_CHECK(o.rtol > 0 && o.rtol < 1, "rtol: expected a value in (0, 1), got " << o.rtol);
  SequenceReport report;
  report.sequence = o.sequence;
  report.policy = policy;
  Recorder recorder;
  std::unique_ptr<ArmProber> prober;
  const double start = MPI_Wtime();
  if (o.sequence == "heat2d") {
    PDS_CHECK(o.steps >= 1, "--steps: expected a number of systems >= 1, got " << o.steps);
    run_heat2d(o, policy, comm, report, recorder, prober);
  } else if (o.sequence == "shifted-laplacian") {
    PDS_CHECK(o.steps >= 1, "--steps: expected a number of systems >= 1, got " << o.steps);
    PDS_CHECK(o.shift_scale >= 0, "shift scale: expected >= 0, got " << o.shift_scale);
    run_shifted(o, policy, comm, report, recorder, prober);
  } else {
    run_dir(o, policy, comm, report, recorder, prober);
  }
  report.wall_seconds = MPI_Wtime() - start;
  report.records = std::move(recorder.records);
  report.solve_seconds = recorder.solve_seconds;
  for (const auto& r : report.records) {
    report.total_iterations += r.iterations;
    report.failed += r.converged ? 0 : 1;
  }
  if (prober) {
    TunerOptions t = o.tuner;
    report.arms = t.arm_values();
    report.arm_totals = prober->totals();
    report.instance_optimal = prober->instance_optimal();
    report.best_arm = static_cast<int>(std::min_element(report.arm_totals.begin(), report.arm_totals.end()) -
                                       report.arm_totals.begin());
  }
  return report;
}

void write_csv(const SequenceReport& report, const std::string& path) {
  std::ofstream out(path);
  PDS_CHECK(out, "cannot write the instance CSV '" << path << "'");
  out << "step,context,omega,iterations,converged,seconds\n";
  out.precision(10);
  for (const auto& r : report.records)
    out << r.index << ',' << r.context << ',' << r.omega << ',' << r.iterations << ',' << (r.converged ? 1 : 0)
        << ',' << r.seconds << '\n';
  PDS_CHECK(out, "failed writing the instance CSV '" << path << "'");
}

std::string omega_over_time(const SequenceReport& report, int buckets) {
  const auto& r = report.records;
  if (r.empty()) return "";
  buckets = std::max(1, std::min<int>(buckets, static_cast<int>(r.size())));
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(2);
  for (int k = 0; k < buckets; ++k) {
    const std::size_t a = r.size() * k / buckets, b = r.size() * (k + 1) / buckets;
    double sum = 0;
    for (std::size_t i = a; i < b; ++i) sum += r[i].omega;
    os << (k ? " " : "") << sum / std::max<std::size_t>(1, b - a);
  }
  return os.str();
}

std::string summary(const SequenceReport& report, const SequenceOptions& options, const std::string& name, int ranks) {
  const auto& policy = report.policy;
  std::ostringstream os;
  os << "[poisson] " << name << " sequence: " << report.unknowns << " unknowns, " << report.records.size()
     << " systems, CG" << (policy.kind == "none" ? "" : " + SSOR") << ", omega " << policy.describe();
  if (policy.kind == "bandit" || policy.kind == "grid")
    os << " (" << options.tuner.arms << " arms in [" << options.tuner.omega_lo << ", " << options.tuner.omega_hi
       << "])";
  os << ", rtol " << options.rtol << ", " << ranks << " rank(s)\n";
  os.setf(std::ios::fixed);
  os.precision(1);
  os << "[poisson] total iterations " << report.total_iterations << " ("
     << static_cast<double>(report.total_iterations) / std::max<std::size_t>(1, report.records.size())
     << " per system) in " << format_seconds(report.wall_seconds) << " (solves "
     << format_seconds(report.solve_seconds) << "); " << report.failed << " did not converge\n";
  if (policy.kind != "none")
    os << "[poisson] omega over time (mean per tenth of the sequence): " << omega_over_time(report) << "\n";
  if (policy.kind == "grid") {
    os.precision(3);
    os << "[poisson] best fixed omega in hindsight: " << report.arms[report.best_arm] << " ("
       << report.arm_totals[report.best_arm] << " iterations); omega = " << report.arms.front() << ": "
       << report.arm_totals.front() << "; instance-optimal total: " << report.instance_optimal << "\n";
    os << "[poisson] total per omega:";
    for (std::size_t a = 0; a < report.arms.size(); ++a) os << " " << report.arms[a] << ":" << report.arm_totals[a];
    os << "\n";
  }
  return os.str();
}

}  // namespace pdestream::linear_systems
