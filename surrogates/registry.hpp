#pragma once
// Builds any model by name from its TOML [model] section or from the JSON options stored
// with a model (.safetensors metadata), through the same validation.
//
//   [model]                       data/task fix the rest (ModelShape): dim, in and out
//   name = "fno"                  channels, grid size
//   width = 32
//   modes = 12          # or [12, 8]
//
// Keys per model (defaults in brackets):
//   fno:  width [64/32/20 for 1/2/3D], modes [16/12/8], layers [4], projection [128],
//         grid [true], padding [0]
//   mlp:  hidden [[256, 256]], activation ["relu"]
//   unet: width [32], levels [3], norm [true], activation ["gelu"]
// and cond_dim, which the task's condition sets (the number of [task] condition names): FNO
// takes the parameters as constant input channels, the MLP as input features, the U-Net
// through FiLM in every block.
// Unknown keys, wrong types and out-of-range values are errors naming the key.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {

class OptionReader;

// Builds a model from its options (a reader positioned on them) for data of `shape`. A
// model that wraps a base model keeps the base's options nested in its options_json(), so
// make_model_from_json() rebuilds both.
using ModelBuilder = std::function<std::shared_ptr<Surrogate>(OptionReader& options, const ModelShape& shape)>;
// Adds (or replaces) a model under `name`, like the solver registry: it is then available
// to [model] name, make_model_from_json() and the model file.
void register_model(const std::string& name, Layout layout, ModelBuilder build);

// The base model of a wrapping model, from the table under `key` (`[model.base]` in TOML,
// "base" in the wrapper's options_json): built by its own name for `shape`, every key
// checked. The wrapper's options_json() must hold base->options_json() under the same key.
std::shared_ptr<Surrogate> make_nested_model(OptionReader& reader, const std::string& key, const ModelShape& shape);

// Registered model names, sorted.
std::vector<std::string> model_names();
// The input layout of a model name (field or vector); throws for an unknown name.
Layout model_layout(const std::string& name);

// From the [model] section; the section's name key selects the model. Calls finish(), so
// every key must be understood.
std::shared_ptr<Surrogate> make_model(SectionReader& section, const ModelShape& shape);
// From the options_json() of a model (name, dim, in/out channels and architecture).
std::shared_ptr<Surrogate> make_model_from_json(const nlohmann::json& options,
                                                const std::string& origin = "model options");
// Shared implementation: `reader` positioned on the model's keys.
std::shared_ptr<Surrogate> make_model(const std::string& name, OptionReader& reader,
                                      const ModelShape& shape);

// Architecture printout for `pdestream train --dry-run`: the module tree, one line per
// parameter tensor, the total parameter count and the data shape it was built for.
std::string model_summary(const Surrogate& model, const ModelShape& shape);

}  // namespace pdestream::surrogates
