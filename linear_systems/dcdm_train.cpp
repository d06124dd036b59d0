// Training of the DCDM network: Lanczos Ritz vectors, right-hand sides biased to the low end
// of the spectrum, the paper's unsupervised loss, Adam. See dcdm_train.hpp.
#include "linear_systems/dcdm_train.hpp"

#include <petscvec.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "linear_systems/petsc_handle.hpp"
#include "training/data_source.hpp"
#include "training/objective.hpp"
#include "training/trainer.hpp"

namespace pdestream::linear_systems {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A sequential Vec over a contiguous float64 tensor's storage (no copy).
OwnedVec wrap(const torch::Tensor& t) {
  OwnedVec v;
  PDS_PETSC(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, static_cast<PetscInt>(t.numel()), t.data_ptr<double>(),
                                  v.address()));
  return v;
}

torch::Tensor copy_of(Vec v) {
  PetscInt n = 0;
  PDS_PETSC(VecGetLocalSize(v, &n));
  const PetscScalar* a = nullptr;
  PDS_PETSC(VecGetArrayRead(v, &a));
  auto t = torch::from_blob(const_cast<PetscScalar*>(a), {n}, torch::kFloat64).clone();
  PDS_PETSC(VecRestoreArrayRead(v, &a));
  return t;
}

}  // namespace

void DcdmTrainOptions::validate() const {
  problem.validate();
  PDS_CHECK(problem.dim == 2 || problem.dim == 3, "--grid: expected NX NY or NX NY NZ cells, got dimension "
                                                      << problem.dim);
  PDS_CHECK(ritz >= 2 && ritz <= 5000, "--ritz: expected a number of Ritz vectors in [2, 5000], got " << ritz);
  long long cells = 1;
  for (int a = 0; a < problem.dim; ++a) cells *= problem.n[a];
  PDS_CHECK(ritz <= cells, "--ritz: expected at most the number of cells (" << cells << "), got " << ritz);
  PDS_CHECK(samples >= 1, "--samples: expected at least 1 right-hand side, got " << samples);
  PDS_CHECK(epochs >= 1, "--epochs: expected at least 1, got " << epochs);
  PDS_CHECK(batch >= 1 && batch <= samples, "--batch: expected a batch size in [1, samples = " << samples
                                                                                              << "], got " << batch);
  PDS_CHECK(lr > 0 && lr < 1, "--lr: expected a learning rate in (0, 1), got " << lr);
  PDS_CHECK(low_weight > 0, "low_weight: expected a positive factor, got " << low_weight);
  PDS_CHECK(threads >= 0, "--threads: expected >= 0 (0: torch's default), got " << threads);
  DcdmNetOptions n = net;
  n.dim = problem.dim;
  n.validate();
}

nlohmann::json DcdmTrainOptions::to_json() const {
  std::vector<int> grid(problem.n.begin(), problem.n.begin() + problem.dim);
  return {{"grid", grid},
          {"boundaries", problem.describe_boundaries()},
          {"obstacle", problem.obstacle.kind == "file" ? problem.obstacle.file : problem.obstacle.kind},
          {"obstacle_seed", problem.seed},
          {"ritz", ritz},
          {"samples", samples},
          {"epochs", epochs},
          {"batch", batch},
          {"lr", lr},
          {"seed", seed},
          {"low_weight", low_weight}};
}

RitzPairs lanczos_ritz(Mat A, int m, std::uint64_t seed, Vec mask, MatNullSpace ns) {
  PetscInt n = 0, cols = 0;
  PDS_PETSC(MatGetSize(A, &n, &cols));
  PetscMPIInt size = 1;
  MPI_Comm comm = PetscObjectComm(reinterpret_cast<PetscObject>(A));
  MPI_Comm_size(comm, &size);
  PDS_CHECK(size == 1, "Lanczos for DCDM training runs on one rank; got a matrix on " << size << " ranks");
  PDS_CHECK(n == cols && m >= 1 && m <= n, "Lanczos: expected 1 <= m <= N for a square N x N matrix, got m = "
                                               << m << ", " << n << " x " << cols);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor V = torch::zeros({m + 1, n}, f64);
  torch::Tensor w = torch::zeros({n}, f64);
  OwnedVec wv = wrap(w);

  // The start vector: uniform in [-1, 1) from (seed, index), zero in solids, null space removed.
  {
    torch::Tensor v0 = V[0];
    OwnedVec v = wrap(v0);
    fill_random(v, seed ^ 0x5a17c0deULL);
    if (mask) PDS_PETSC(VecPointwiseMult(v, v, mask));
    if (ns) PDS_PETSC(MatNullSpaceRemove(ns, v));
    const double norm = v0.norm().item<double>();
    PDS_CHECK(norm > 0, "Lanczos: the start vector is zero (no fluid cells?)");
    v0.div_(norm);
  }
  std::vector<double> alpha, beta;
  int k = 0;  // basis vectors V[0..k-1] done
  double scale = 0;
  for (int j = 0; j < m; ++j) {
    torch::Tensor vj = V[j];
    OwnedVec v = wrap(vj);
    PDS_PETSC(MatMult(A, v, wv));
    if (ns) PDS_PETSC(MatNullSpaceRemove(ns, wv));
    const double a = torch::dot(w, vj).item<double>();
    alpha.push_back(a);
    k = j + 1;
    // Full reorthogonalisation against V[0..j], twice (classical Gram-Schmidt; the three-term
    // recurrence is contained in it).
    torch::Tensor basis = V.narrow(0, 0, j + 1);
    for (int pass = 0; pass < 2; ++pass) w.sub_(torch::mv(basis.t(), torch::mv(basis, w)));
    // Again after the subtraction: its rounding puts null-space components back, and the
    // division by a small b amplifies them (a pure-Neumann 16³ run had a Ritz value -9e-13,
    // a null vector, among its training directions).
    if (ns) PDS_PETSC(MatNullSpaceRemove(ns, wv));
    const double b = w.norm().item<double>();
    scale = std::max({scale, std::abs(a), b});
    if (j == m - 1) break;
    if (b <= 1e-10 * scale) break;  // invariant subspace: fewer Ritz vectors
    beta.push_back(b);
    V[j + 1].copy_(w / b);
  }
  torch::Tensor T = torch::zeros({k, k}, f64);
  for (int i = 0; i < k; ++i) {
    T[i][i] = alpha[i];
    if (i + 1 < k) T[i][i + 1] = T[i + 1][i] = beta[i];
  }
  auto [values, S] = torch::linalg_eigh(T);  // ascending, columns = eigenvectors
  RitzPairs r;
  r.values = values;
  r.vectors = torch::mm(S.t(), V.narrow(0, 0, k)).contiguous();
  return r;
}

torch::Tensor make_training_rhs(const RitzPairs& ritz, int samples, double low_weight) {
  const auto m = ritz.vectors.size(0);
  torch::Tensor c = torch::randn({samples, m}, torch::kFloat64);
  c.narrow(1, 0, std::max<std::int64_t>(1, m / 2)).mul_(low_weight);
  torch::Tensor b = torch::mm(c, ritz.vectors);
  b.div_(b.norm(2, {1}, true).clamp_min(1e-300));
  return b.to(torch::kFloat32).contiguous();
}

torch::Tensor sparse_from_mat(Mat A) {
  PetscInt n = 0, cols = 0;
  PDS_PETSC(MatGetSize(A, &n, &cols));
  PetscMPIInt size = 1;
  MPI_Comm_size(PetscObjectComm(reinterpret_cast<PetscObject>(A)), &size);
  PDS_CHECK(size == 1, "sparse_from_mat: expected a matrix on one rank, got " << size << " ranks");
  std::vector<std::int64_t> rows, colidx;
  std::vector<float> vals;
  rows.reserve(7 * static_cast<std::size_t>(n));
  colidx.reserve(7 * static_cast<std::size_t>(n));
  vals.reserve(7 * static_cast<std::size_t>(n));
  for (PetscInt i = 0; i < n; ++i) {
    PetscInt nc = 0;
    const PetscInt* c = nullptr;
    const PetscScalar* v = nullptr;
    PDS_PETSC(MatGetRow(A, i, &nc, &c, &v));
    for (PetscInt k = 0; k < nc; ++k) {
      if (v[k] == 0.0) continue;
      rows.push_back(i);
      colidx.push_back(c[k]);
      vals.push_back(static_cast<float>(v[k]));
    }
    PDS_PETSC(MatRestoreRow(A, i, &nc, &c, &v));
  }
  const auto nnz = static_cast<std::int64_t>(vals.size());
  torch::Tensor idx = torch::empty({2, nnz}, torch::kInt64);
  std::copy(rows.begin(), rows.end(), idx.data_ptr<std::int64_t>());
  std::copy(colidx.begin(), colidx.end(), idx.data_ptr<std::int64_t>() + nnz);
  torch::Tensor val = torch::from_blob(vals.data(), {nnz}, torch::kFloat32).clone();
  return torch::sparse_coo_tensor(idx, val, {n, n}).coalesce();
}

torch::Tensor dcdm_residuals(const torch::Tensor& A, const torch::Tensor& b, const torch::Tensor& q) {
  torch::Tensor Aq = torch::mm(A, q.t()).t();                    // [B, N]
  torch::Tensor qb = (q * b).sum(1, true);
  torch::Tensor qAq = (q * Aq).sum(1, true).clamp_min(1e-30);
  torch::Tensor r = b - (qb / qAq) * Aq;
  return (r * r).sum(1);
}

torch::Tensor dcdm_loss(const torch::Tensor& A, const torch::Tensor& b, const torch::Tensor& q) {
  return dcdm_residuals(A, b, q).mean();
}

namespace {

// The paper's loss as a training objective: the model is the DCDM network, the batch's
// inputs are unit right-hand sides [b, 1, *grid] (targets unused), and the per-example loss
// is |b - (q.b / q.Aq) Aq|^2 with q = f(b).
class DcdmObjective : public training::Objective {
 public:
  explicit DcdmObjective(torch::Tensor A) : A_(std::move(A)) {}
  std::string kind() const override { return "dcdm"; }
  training::ObjectiveOutput compute(const training::ObjectiveInput& in) override {
    auto* net = dynamic_cast<DcdmNetImpl*>(&in.model);
    PDS_CHECK(net, "the dcdm objective trains a DCDM network, got model " << in.model.kind());
    const auto& x = in.batch.x;
    const auto b = x.reshape({x.size(0), -1});
    const auto q = net->direction(x).reshape({x.size(0), -1});
    return {dcdm_residuals(A_, b, q), {}};
  }

 private:
  torch::Tensor A_;
};

}  // namespace

DcdmTrainReport train_dcdm(const DcdmTrainOptions& options, const std::function<void(const std::string&)>& progress) {
  options.validate();
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  if (options.threads > 0) torch::set_num_threads(options.threads);
  DcdmTrainReport report;
  if (!options.out.empty()) {
    std::filesystem::create_directories(options.out);
    // A new run: the trainer appends to metrics.jsonl and would resume from a checkpoint.
    std::filesystem::remove(options.out + "/metrics.jsonl");
    std::filesystem::remove(options.out + "/checkpoint.pt");
    std::ofstream cfg(options.out + "/config.toml");
    const auto j = options.to_json();
    cfg << "# pdestream dcdm-train: the options of this run\n[dcdm_train]\n";
    for (const auto& [k, v] : j.items()) cfg << k << " = " << v.dump() << "\n";
    cfg << "\n[model]\n";
    DcdmNetOptions net = options.net;
    net.dim = options.problem.dim;
    const auto nj = net.to_json();
    for (const auto& [k, v] : nj.items()) cfg << k << " = " << v.dump() << "\n";
    PDS_CHECK(cfg, "cannot write " << options.out << "/config.toml");
  }

  // 1.-2. The training matrix and its Ritz vectors.
  auto t0 = std::chrono::steady_clock::now();
  PoissonProblem problem(options.problem, PETSC_COMM_SELF);
  std::vector<std::int64_t> shape = {options.samples, 1};  // [S, 1, [Z,] Y, X]
  for (int a = options.problem.dim - 1; a >= 0; --a) shape.push_back(options.problem.n[a]);
  RitzPairs ritz = lanczos_ritz(problem.A(), options.ritz, options.seed, problem.mask(), problem.null_space());
  report.ritz = static_cast<int>(ritz.values.size(0));
  report.ritz_min = ritz.values[0].item<double>();
  report.ritz_max = ritz.values[-1].item<double>();
  report.lanczos_seconds = seconds_since(t0);
  {
    std::ostringstream os;
    os << "[dcdm-train] " << problem.describe() << "\n[dcdm-train] Lanczos: " << report.ritz
       << " Ritz vectors (of " << options.ritz << " requested), Ritz values in [" << report.ritz_min << ", "
       << report.ritz_max << "], " << report.lanczos_seconds << " s";
    say(os.str());
    if (!options.out.empty()) {
      std::ofstream metrics(options.out + "/metrics.jsonl");
      metrics << nlohmann::json{{"event", "lanczos"}, {"ritz", report.ritz}, {"ritz_min", report.ritz_min},
                                {"ritz_max", report.ritz_max}, {"time", report.lanczos_seconds}}.dump()
              << "\n";
      PDS_CHECK(metrics, "cannot write " << options.out << "/metrics.jsonl");
    }
  }

  // 3. Right-hand sides; 5. the seeded network.
  torch::manual_seed(options.seed);
  torch::Tensor data = make_training_rhs(ritz, options.samples, options.low_weight).view(shape);
  ritz = {};
  DcdmNetOptions net_options = options.net;
  net_options.dim = options.problem.dim;
  DcdmNet net(net_options);
  if (options.zero_bias) {
    // Zero biases make the ReLU network positively homogeneous at the start, f(c b) = c f(b):
    // with input "unit" the entries of b are ~1/sqrt(N), and random initial biases drowned
    // them and held the loss on a plateau near 1 for hundreds of steps (observed in 3D).
    torch::NoGradGuard no_grad;
    for (auto& p : net->named_parameters())
      if (p.key().size() >= 4 && p.key().compare(p.key().size() - 4, 4, "bias") == 0) p.value().zero_();
  }

  // 4. Training: the training engine with the paper's loss as its objective (Adam, constant
  // learning rate, an epoch plan shuffled from the seed, a checkpoint every epoch).
  training::TrainerOptions to;
  to.epochs = options.epochs;
  to.batch_size = options.batch;
  to.lr = options.lr;
  to.seed = options.seed;
  to.log_every = 1;
  to.threads = options.threads;
  training::Trainer trainer(net.ptr(), to, PETSC_COMM_SELF, options.out);
  trainer.set_objective(std::make_unique<DcdmObjective>(sparse_from_mat(problem.A())));
  trainer.set_step_hook([&](std::int64_t step) {
    if (step == 1) report.first_loss = trainer.last_loss();
  });
  trainer.set_epoch_hook([&](std::int64_t, double mean) { report.epoch_loss.push_back(mean); });
  trainer.set_progress([&](const std::string& line) { say("[dcdm-train]" + line.substr(line.find(' '))); });
  training::TensorDataSource source(data, data, options.batch, options.seed, 0, 1);
  auto t1 = std::chrono::steady_clock::now();
  trainer.fit(source);
  report.train_seconds = seconds_since(t1);
  report.steps = trainer.step();
  report.final_loss = report.epoch_loss.back();
  net->eval();
  report.net = net;
  if (!options.out.empty()) {
    nlohmann::json training = options.to_json();
    training["steps"] = report.steps;
    training["first_loss"] = report.first_loss;
    training["final_loss"] = report.final_loss;
    training["ritz_used"] = report.ritz;
    training["train_seconds"] = report.train_seconds;
    report.model_path = options.out + "/model.safetensors";
    trainer.save_model(report.model_path, {{"training", training.dump()}});
  }
  return report;
}

}  // namespace pdestream::linear_systems
