#pragma once
// Modules <-> .safetensors: parameter and buffer names follow the module hierarchy
// ("fc0.weight", "conv0.weights1", ...), exactly as torch.nn.Module.state_dict() names
// them in Python, so files move both ways.

#include <torch/nn/module.h>

#include <map>
#include <string>
#include <vector>

namespace pdestream::surrogates {

// Named float32 tensors of a module: parameters then buffers, in registration order.
std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& module);

// Write `module`'s state plus `extra` tensors (e.g. normaliser statistics under their own
// prefix) and string metadata (e.g. architecture options as JSON).
void save_safetensors(const std::string& path, const torch::nn::Module& module,
                      const std::map<std::string, std::string>& metadata = {},
                      const std::vector<std::pair<std::string, torch::Tensor>>& extra = {});

struct LoadedFile {
  std::map<std::string, std::string> metadata;
  std::map<std::string, torch::Tensor> extra;  // tensors in the file the module does not own
};

// Load into `module`: every parameter and buffer must be present with the same shape
// (a missing or mis-shaped tensor is a pdestream::Error naming the file, the tensor, the
// expected and the found shape). Tensors the module does not own are returned in `extra`.
LoadedFile load_safetensors(const std::string& path, torch::nn::Module& module);

// Tensors and metadata of a file without a module (e.g. to read metadata first).
LoadedFile read_safetensors_tensors(const std::string& path);

}  // namespace pdestream::surrogates
