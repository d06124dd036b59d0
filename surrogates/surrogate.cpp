#include "surrogates/surrogate.hpp"

#include <iomanip>
#include <sstream>

#include "core/error.hpp"

namespace pdestream::surrogates {

nlohmann::json ModelShape::to_json() const {
  nlohmann::json j = {{"dim", dim}, {"in_channels", in_channels}, {"out_channels", out_channels},
                      {"spatial", spatial}};
  if (cond_dim > 0) j["cond_dim"] = cond_dim;
  return j;
}

std::string ModelShape::str() const {
  std::ostringstream os;
  if (dim == 0) {
    os << in_channels << " -> " << out_channels << " features";
  } else {
    os << "dim " << dim << ", " << in_channels << " -> " << out_channels << " channels";
    if (!spatial.empty()) {
      os << " on ";
      for (std::size_t i = 0; i < spatial.size(); ++i) os << (i ? "x" : "") << spatial[i];
    }
  }
  if (cond_dim > 0) os << ", conditioned on " << cond_dim << (cond_dim == 1 ? " parameter" : " parameters");
  return os.str();
}

const char* layout_name(Layout layout) { return layout == Layout::Field ? "field" : "vector"; }

void check_cond(const std::string& kind, const torch::Tensor& cond, std::int64_t batch, std::int64_t cond_dim) {
  if (cond_dim == 0) {
    PDS_CHECK(!cond.defined(), kind << ": this model takes no conditioning vector (cond_dim = 0), got one of shape "
                                    << shape_str(cond) << "; train it with [task] condition to condition it");
    return;
  }
  PDS_CHECK(cond.defined(), kind << ": this model is conditioned on " << cond_dim
                                 << " parameter(s) ([task] condition): expected cond [" << batch << ", " << cond_dim
                                 << "], got none");
  PDS_CHECK(cond.dim() == 2 && cond.size(0) == batch && cond.size(1) == cond_dim,
            kind << ": expected cond [" << batch << ", " << cond_dim << "], got " << shape_str(cond));
}

torch::Tensor cond_as_channels(const torch::Tensor& cond, const std::vector<std::int64_t>& spatial) {
  std::vector<std::int64_t> view{cond.size(0), cond.size(1)}, expand = view;
  for (auto n : spatial) {
    view.push_back(1);
    expand.push_back(n);
  }
  return cond.view(view).expand(expand);
}

torch::Tensor Surrogate::infer(const torch::Tensor& x, const torch::Tensor& cond) {
  return cond.defined() ? forward(x, cond) : forward(x);
}

torch::Tensor Surrogate::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  check_cond(kind(), cond, x.defined() ? x.size(0) : 0, 0);
  return forward(x);
}

std::int64_t count_parameters(const torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

std::int64_t Surrogate::num_parameters() const { return count_parameters(*this); }

std::string Surrogate::describe() const {
  std::ostringstream os;
  os << *this << "\n";
  std::size_t width = 0;
  for (const auto& p : named_parameters()) width = std::max(width, p.key().size());
  for (const auto& p : named_parameters())
    os << "  " << std::left << std::setw(static_cast<int>(width)) << p.key() << "  "
       << std::setw(22) << shape_str(p.value()) << std::right << std::setw(12) << p.value().numel() << "\n";
  os << kind() << ": " << num_parameters() << " parameters in " << named_parameters().size()
     << " tensors";
  return os.str();
}

std::string shape_str(const std::vector<std::int64_t>& sizes) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) os << (i ? ", " : "") << sizes[i];
  os << "]";
  return os.str();
}

std::string shape_str(const torch::Tensor& t) {
  if (!t.defined()) return "(undefined)";
  return shape_str(t.sizes().vec());
}

}  // namespace pdestream::surrogates
