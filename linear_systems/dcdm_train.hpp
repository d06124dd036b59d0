#pragma once
// Training of the DCDM network (Kaneda et al., ICML 2023; issue 5), behind
// `pdestream dcdm-train`.
//
// 1. The training matrix: a Poisson problem (poisson.hpp: 2D/3D, boundaries, obstacles)
//    assembled on ONE rank (PETSC_COMM_SELF). Training runs on one rank: the network is
//    small and the data set fits in memory; the trained model then solves on any grid and
//    rank count (fully convolutional; make_network_operator gathers on rank 0).
// 2. Lanczos: m steps on A (PETSc MatMult) from a random start vector (zero in solids, the
//    null space removed when A is singular), with full reorthogonalisation (twice, classical
//    Gram-Schmidt against every previous basis vector, so m up to a few hundred is
//    accurate), then the Ritz pairs from the eigendecomposition of the m x m tridiagonal
//    (torch::linalg_eigh, double precision), eigenvalues ascending. An invariant subspace
//    found early stops Lanczos with fewer vectors (reported).
// 3. Right-hand sides, as the paper's reference implementation builds them: b = Σ c_i v_i
//    over the Ritz vectors, c_i ~ N(0, 1), multiplied by `low_weight` (9) for the lower half
//    of the spectrum (the m/2 smallest Ritz values: ≈ 99% of the expected energy of b there
//    with the default), then b /= |b|. Stored as float32 [samples, N] in natural ordering.
// 4. Loss (unsupervised, the paper's): for q = f(b),
//        L(b) = | b − (qᵀb / qᵀAq) A q |²     (the residual after one DCDM step from x = 0)
//    averaged over the batch. A is applied as a torch sparse COO matrix (float32) built from
//    the PETSc matrix, so every boundary condition and obstacle of poisson.hpp is exactly the
//    operator the solver sees; at training sizes its cost is negligible beside the network's
//    (a convolution stencil would be faster but would duplicate poisson.cpp's boundary logic).
// 5. The training engine (training/trainer.hpp) minimises it as an objective that owns A:
//    Adam at a constant learning rate, the epoch plan shuffled from `seed`, a checkpoint per
//    epoch. torch::manual_seed(seed) precedes the right-hand sides and the network. The
//    network's biases start at zero (its weights at torch's default init): then f(c b) =
//    c f(b) at the start, and the small entries of a unit right-hand side on a large grid are
//    not drowned by the biases (with torch's default bias init the 3D loss sat on a plateau
//    near 1 for 600+ steps at 16^3).
//
// Outputs in the run directory (the training engine's conventions, training/trainer.hpp):
//   config.toml       the options of the run ([dcdm_train], [model])
//   metrics.jsonl     one JSON object per line: first {"event": "lanczos", "ritz", "ritz_min",
//                     "ritz_max", "time"}, then the trainer's {"event": "step", "step",
//                     "epoch", "loss", "lr", "samples_per_s", "time"} per step and {"event":
//                     "epoch", "step", "epoch", "loss" (the epoch's mean), "last_loss"} per epoch
//   checkpoint.pt     the trainer's checkpoint (model, optimizer, counters, generator), every epoch
//   model.safetensors the trainer's model file (as save_dcdm_net writes it), metadata
//                     "training" = this run's options and losses

#include <mpi.h>
#include <petscmat.h>

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "linear_systems/dcdm_net.hpp"
#include "linear_systems/poisson.hpp"

namespace pdestream::linear_systems {

struct DcdmTrainOptions {
  PoissonOptions problem;       // the training matrix (rhs/seed of the problem unused)
  int ritz = 100;               // Lanczos steps = Ritz vectors
  int samples = 1000;           // right-hand sides
  int epochs = 10;
  int batch = 16;
  double lr = 1e-3;
  std::uint64_t seed = 0;       // start vector, coefficients, network init, shuffles
  double low_weight = 9.0;      // factor on the coefficients of the lower half of the spectrum
  int threads = 0;              // torch intra-op threads; 0: the trainer's default (the cores)
  bool zero_bias = true;        // start from zero biases (see 5.)
  std::string out;              // run directory; empty: nothing written
  DcdmNetOptions net;           // net.dim is set from problem.dim

  // Throws a one-line Error naming the bad value.
  void validate() const;
  nlohmann::json to_json() const;
};

struct RitzPairs {
  torch::Tensor values;   // [m] float64, ascending
  torch::Tensor vectors;  // [m, N] float64, orthonormal rows, natural ordering
};

// m Lanczos steps with full reorthogonalisation on the sequential matrix A (N x N), from a
// seeded random start multiplied by `mask` (may be null) with the null space `ns` removed
// (may be null). Throws if A is not sequential.
RitzPairs lanczos_ritz(Mat A, int m, std::uint64_t seed, Vec mask = nullptr, MatNullSpace ns = nullptr);

// `samples` unit right-hand sides [samples, N] (float32) from the Ritz vectors (see 4. above),
// drawn with torch's global generator.
torch::Tensor make_training_rhs(const RitzPairs& ritz, int samples, double low_weight);

// The sequential AIJ matrix A as a coalesced float32 sparse COO tensor [N, N].
torch::Tensor sparse_from_mat(Mat A);

// The paper's loss for a batch b [B, N] (unit rows) and directions q [B, N]:
// |b - (q.b / q.Aq) Aq|^2 per example [B] (dcdm_residuals) and its batch mean (dcdm_loss),
// A a sparse tensor from sparse_from_mat.
torch::Tensor dcdm_residuals(const torch::Tensor& A, const torch::Tensor& b, const torch::Tensor& q);
torch::Tensor dcdm_loss(const torch::Tensor& A, const torch::Tensor& b, const torch::Tensor& q);

struct DcdmTrainReport {
  DcdmNet net{nullptr};
  int ritz = 0;                  // Ritz vectors actually used
  double ritz_min = 0, ritz_max = 0;
  double lanczos_seconds = 0, train_seconds = 0;
  std::int64_t steps = 0;
  std::vector<double> epoch_loss;  // mean loss per epoch
  double first_loss = 0;           // the first step's loss
  double final_loss = 0;           // the last epoch's mean
  std::string model_path;          // out/model.safetensors, or empty
};

// The whole pipeline (1.-5.) on the calling rank alone; `progress` receives one line after
// Lanczos and the trainer's line per epoch. Writes the run directory when options.out is set.
DcdmTrainReport train_dcdm(const DcdmTrainOptions& options,
                           const std::function<void(const std::string&)>& progress = {});

}  // namespace pdestream::linear_systems
