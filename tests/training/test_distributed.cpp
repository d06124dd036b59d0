// Data-parallel plumbing: broadcast makes replicas identical; weighted gradient sums over
// shards equal the single-process gradient of the whole batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/runtime.hpp"
#include "training/distributed.hpp"
#include "training/epoch_plan.hpp"

using namespace pdestream;
using namespace pdestream::training;

namespace {

torch::nn::Sequential small_net() {
  return torch::nn::Sequential(torch::nn::Linear(3, 16), torch::nn::GELU(), torch::nn::Linear(16, 2));
}

}  // namespace

TEST(Distributed, BroadcastMakesReplicasIdentical) {
  torch::set_num_threads(1);
  torch::manual_seed(100 + comm_rank(MPI_COMM_WORLD));  // deliberately different per rank
  auto net = small_net();
  broadcast_parameters(*net, MPI_COMM_WORLD);
  EXPECT_EQ(max_parameter_divergence(*net, MPI_COMM_WORLD), 0.0);
}

TEST(Distributed, WeightedShardGradientsSumToTheWholeBatchGradient) {
  torch::set_num_threads(1);
  const int rank = comm_rank(MPI_COMM_WORLD), size = comm_size(MPI_COMM_WORLD);
  torch::manual_seed(5);
  auto net = small_net();
  broadcast_parameters(*net, MPI_COMM_WORLD);
  torch::manual_seed(6);
  const auto x = torch::randn({7, 3}), y = torch::randn({7, 2});  // same data on every rank

  // Reference: the whole batch on this process.
  net->zero_grad();
  torch::mse_loss(net->forward(x), y).backward();
  std::vector<torch::Tensor> reference;
  for (auto& p : net->parameters()) reference.push_back(p.grad().clone());

  // Data parallel: this rank's shard, loss weighted by shard size / batch size.
  const auto [lo, hi] = shard_range(7, rank, size);
  net->zero_grad();
  if (hi > lo) {
    auto xs = x.slice(0, lo, hi), ys = y.slice(0, lo, hi);
    (torch::mse_loss(net->forward(xs), ys) * static_cast<double>(hi - lo) / 7.0).backward();
  }
  GradientAllreduce allreduce(MPI_COMM_WORLD);
  allreduce(*net);
  auto params = net->parameters();
  for (std::size_t i = 0; i < params.size(); ++i)
    EXPECT_LT((params[i].grad() - reference[i]).abs().max().item<double>(), 1e-6) << "parameter " << i;
}
