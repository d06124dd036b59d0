#pragma once
// Data-parallel plumbing between trainer ranks: identical initial weights and one
// MPI_Allreduce per step over a flat gradient buffer.

#include <mpi.h>
#include <torch/nn/module.h>

#include <vector>

namespace pdestream::training {

// Copy rank `root`'s parameters and buffers to every rank of `comm` (one broadcast).
void broadcast_parameters(torch::nn::Module& module, MPI_Comm comm, int root = 0);

// Sums the gradients of `module` over `comm` in place. Callers weight their local loss by
// (local examples / global examples), so the sum is the gradient of the global-batch mean
// whatever the shard sizes. Parameters without a gradient contribute zeros.
class GradientAllreduce {
 public:
  explicit GradientAllreduce(MPI_Comm comm) : comm_(comm) {}
  void operator()(torch::nn::Module& module);
  std::size_t buffer_elements() const { return buffer_.size(); }

 private:
  MPI_Comm comm_;
  std::vector<float> buffer_;
};

// Largest absolute difference between the parameters on this rank and on rank 0 (collective;
// the same value on every rank). A cheap check that replicas have not drifted apart.
double max_parameter_divergence(torch::nn::Module& module, MPI_Comm comm);

}  // namespace pdestream::training
