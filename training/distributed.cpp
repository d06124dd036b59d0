#include "training/distributed.hpp"

#include <torch/torch.h>

#include <cstring>

#include "core/error.hpp"

namespace pdestream::training {

namespace {

std::vector<torch::Tensor> state_tensors(torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  for (auto& p : module.parameters()) out.push_back(p);
  for (auto& b : module.buffers()) out.push_back(b);
  return out;
}

}  // namespace

void broadcast_parameters(torch::nn::Module& module, MPI_Comm comm, int root) {
  torch::NoGradGuard no_grad;
  auto tensors = state_tensors(module);
  std::int64_t total = 0;
  for (auto& t : tensors) {
    PDS_CHECK(t.scalar_type() == torch::kFloat32, "broadcast_parameters expects float32 tensors, got "
                                                      << t.scalar_type());
    total += t.numel();
  }
  std::vector<float> flat(static_cast<std::size_t>(total));
  std::int64_t offset = 0;
  for (auto& t : tensors) {
    auto c = t.contiguous();
    std::memcpy(flat.data() + offset, c.data_ptr<float>(), sizeof(float) * c.numel());
    offset += c.numel();
  }
  // Parameter counts above 2^31 would need chunking; no surrogate here comes close.
  PDS_CHECK(total < (1ll << 31), "broadcast of " << total << " parameters exceeds one MPI message");
  MPI_Bcast(flat.data(), static_cast<int>(total), MPI_FLOAT, root, comm);
  offset = 0;
  for (auto& t : tensors) {
    auto src = torch::from_blob(flat.data() + offset, t.sizes(), torch::kFloat32);
    t.copy_(src);
    offset += t.numel();
  }
}

void GradientAllreduce::operator()(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  auto params = module.parameters();
  std::int64_t total = 0;
  for (auto& p : params) total += p.numel();
  buffer_.assign(static_cast<std::size_t>(total), 0.0f);
  std::int64_t offset = 0;
  for (auto& p : params) {
    if (p.grad().defined()) {
      auto g = p.grad().contiguous();
      std::memcpy(buffer_.data() + offset, g.data_ptr<float>(), sizeof(float) * g.numel());
    }
    offset += p.numel();
  }
  PDS_CHECK(total < (1ll << 31), "allreduce of " << total << " gradients exceeds one MPI message");
  MPI_Allreduce(MPI_IN_PLACE, buffer_.data(), static_cast<int>(total), MPI_FLOAT, MPI_SUM, comm_);
  offset = 0;
  for (auto& p : params) {
    auto src = torch::from_blob(buffer_.data() + offset, p.sizes(), torch::kFloat32);
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    p.mutable_grad().copy_(src);
    offset += p.numel();
  }
}

double max_parameter_divergence(torch::nn::Module& module, MPI_Comm comm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> mine;
  for (auto& t : state_tensors(module)) mine.push_back(t.detach().clone());
  // Compare against rank 0's copy by broadcasting it into a scratch clone.
  std::int64_t total = 0;
  for (auto& t : mine) total += t.numel();
  std::vector<float> flat(static_cast<std::size_t>(total));
  std::int64_t offset = 0;
  for (auto& t : mine) {
    std::memcpy(flat.data() + offset, t.contiguous().data_ptr<float>(), sizeof(float) * t.numel());
    offset += t.numel();
  }
  std::vector<float> root = flat;
  MPI_Bcast(root.data(), static_cast<int>(total), MPI_FLOAT, 0, comm);
  double local = 0;
  for (std::size_t i = 0; i < flat.size(); ++i) local = std::max(local, static_cast<double>(std::abs(flat[i] - root[i])));
  double global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_MAX, comm);
  return global;
}

}  // namespace pdestream::training
