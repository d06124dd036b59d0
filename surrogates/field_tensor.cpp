#include "surrogates/field_tensor.hpp"

#include <torch/torch.h>

#include <cstring>

#include "core/error.hpp"
#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {

Field to_field(const torch::Tensor& frame, const std::vector<std::string>& channels) {
  const auto dim = frame.dim() - 1;
  PDS_CHECK(dim >= 1 && dim <= 3 && frame.size(0) == static_cast<std::int64_t>(channels.size()),
            "to_field needs a [C, *spatial] frame with C = " << channels.size() << ", got " << shape_str(frame));
  Box box;
  for (int a = 0; a < dim; ++a) box.hi[a] = static_cast<int>(frame.size(1 + a));
  Field f(channels, box);
  std::vector<std::int64_t> perm;
  for (int a = 0; a < dim; ++a) perm.push_back(1 + a);
  perm.push_back(0);
  auto t = frame.permute(perm).contiguous().to(torch::kFloat64);
  std::memcpy(f.data().data(), t.data_ptr<double>(), sizeof(double) * f.size());
  return f;
}

torch::Tensor block_view(const double* data, const Box& box, std::int64_t channels) {
  return torch::from_blob(const_cast<double*>(data), {box.extent(0), box.extent(1), box.extent(2), channels},
                          torch::kFloat64)
      .permute({3, 0, 1, 2});
}

}  // namespace pdestream::surrogates
