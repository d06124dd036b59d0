#include "surrogates/model_file.hpp"

#include <torch/torch.h>

#include <cstring>
#include <sstream>

#include "core/error.hpp"
#include "io/safetensors.hpp"

namespace pdestream::surrogates {

namespace {

io::TensorRecord to_record(const std::string& name, const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU).contiguous();
  io::TensorRecord r;
  r.name = name;
  if (c.scalar_type() == torch::kFloat64) {
    r.dtype = "F64";
  } else if (c.scalar_type() == torch::kInt64) {
    r.dtype = "I64";
  } else {
    c = c.to(torch::kFloat32);
    r.dtype = "F32";
  }
  r.shape.assign(c.sizes().begin(), c.sizes().end());
  r.data.resize(c.numel() * c.element_size());
  if (!r.data.empty()) std::memcpy(r.data.data(), c.data_ptr(), r.data.size());
  return r;
}

torch::Tensor from_record(const io::TensorRecord& r, const std::string& path) {
  torch::ScalarType type;
  if (r.dtype == "F32")
    type = torch::kFloat32;
  else if (r.dtype == "F64")
    type = torch::kFloat64;
  else if (r.dtype == "I64")
    type = torch::kInt64;
  else
    PDS_FAIL(path << ": tensor '" << r.name << "' has dtype " << r.dtype << ", expected F32, F64 or I64");
  auto t = torch::empty(r.shape, torch::TensorOptions().dtype(type));
  if (!r.data.empty()) std::memcpy(t.data_ptr(), r.data.data(), r.data.size());
  return t;
}

std::string shape_text(c10::IntArrayRef s) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : module.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

void save_safetensors(const std::string& path, const torch::nn::Module& module,
                      const std::map<std::string, std::string>& metadata,
                      const std::vector<std::pair<std::string, torch::Tensor>>& extra) {
  std::vector<io::TensorRecord> records;
  for (const auto& [name, t] : named_state(module)) records.push_back(to_record(name, t));
  for (const auto& [name, t] : extra) records.push_back(to_record(name, t));
  io::write_safetensors(path, records, metadata);
}

LoadedFile read_safetensors_tensors(const std::string& path) {
  const auto content = io::read_safetensors(path);
  LoadedFile out;
  out.metadata = content.metadata;
  for (const auto& r : content.tensors) out.extra[r.name] = from_record(r, path);
  return out;
}

LoadedFile load_safetensors(const std::string& path, torch::nn::Module& module) {
  LoadedFile file = read_safetensors_tensors(path);
  torch::NoGradGuard no_grad;
  std::vector<std::string> missing;
  for (auto& [name, target] : named_state(module)) {
    auto it = file.extra.find(name);
    if (it == file.extra.end()) {
      missing.push_back(name);
      continue;
    }
    PDS_CHECK(it->second.sizes() == target.sizes(), path << ": tensor '" << name << "' has shape "
                                                         << shape_text(it->second.sizes()) << ", the model expects "
                                                         << shape_text(target.sizes()));
    target.copy_(it->second.to(target.scalar_type()));
    file.extra.erase(it);
  }
  if (!missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 5) list += ", ... (" + std::to_string(missing.size()) + " in all)";
    PDS_FAIL(path << ": missing tensor(s) the model expects: " << list);
  }
  return file;
}

}  // namespace pdestream::surrogates
