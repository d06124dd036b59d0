#pragma once
// The common interface of every pdestream model, so the trainer, the registry and the
// model exchange (safetensors) hold any architecture the same way.
//
// Tensor conventions, for every model:
//   field models (FNO, U-Net): channels first, [B, C_in, *spatial] -> [B, C_out, *spatial]
//   vector models (MLP):       [B, F_in] -> [B, F_out], and points [B, F_in, M] -> [B, F_out, M]
//                              (the pointwise task: one network at each of M points)
// A model checks its input and throws pdestream::Error with one line naming the expected
// and the found shape.
//
// Parameter names (named_parameters()) follow the module hierarchy exactly as the Python
// reference implementation names them (fc0.weight, conv0.weights1, layers.0.weight, ...):
// they are the keys of the .safetensors files exchanged with Python.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pdestream::surrogates {

// What the data and the task impose on a model: everything else is architecture.
struct ModelShape {
  int dim = 0;                   // spatial dimension of field models; 0 for vector models
  std::int64_t in_channels = 0;  // input channels (field) or input features (vector)
  std::int64_t out_channels = 0; // output channels (field) or output features (vector)
  std::vector<std::int64_t> spatial;  // grid size of the training data (may be empty)
  std::int64_t cond_dim = 0;     // length of the conditioning vector cond [B, cond_dim]

  nlohmann::json to_json() const;
  std::string str() const;  // "dim 2, 3 -> 1 channels on 64x64"
};

// How a model consumes its input: a field on a grid, or a flat feature vector.
enum class Layout { Field, Vector };
const char* layout_name(Layout layout);

class Surrogate : public torch::nn::Module {
 public:
  using torch::nn::Module::Module;
  ~Surrogate() override = default;

  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // Conditioned evaluation (a FiLM vector [B, cond_dim], e.g. a time or noise-level
  // embedding for PDE-Refiner/CAPE). Models without conditioning reject a defined `cond`.
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond);
  virtual std::int64_t cond_dim() const { return 0; }
  // What validation, prediction, rollout and evaluate call: one forward pass, unless a
  // model's inference differs from its training pass (PDE-Refiner's refinement loop,
  // several samples for an uncertainty estimate). `cond` undefined: unconditioned.
  virtual torch::Tensor infer(const torch::Tensor& x, const torch::Tensor& cond = {});
  // The [training] objective a model must train with ("": any); the trainer checks it.
  virtual std::string training_objective() const { return ""; }
  // Whether infer() draws noise (PDE-Refiner), so repeated calls give samples of a
  // distribution. Such a model draws example b's noise from seeds[b] once they are set,
  // independently of the batch's other examples; deterministic models ignore the seeds.
  virtual bool stochastic() const { return false; }
  virtual void set_noise_seeds(std::vector<std::uint64_t> /*seeds*/) {}

  // Registry name: "fno", "mlp", "unet".
  virtual std::string kind() const = 0;
  virtual Layout layout() const = 0;
  // Everything needed to rebuild the model with make_model_from_json(), "name" included.
  virtual nlohmann::json options_json() const = 0;

  std::int64_t num_parameters() const;
  // Module tree (torch's printout), one line per parameter tensor and the total count.
  std::string describe() const;
};

// Throws unless cond is [batch, cond_dim] (the model's name in the message).
void check_cond(const std::string& kind, const torch::Tensor& cond, std::int64_t batch, std::int64_t cond_dim);
// cond [B, P] as P constant channels over a grid [B, P, *spatial] (how FNO and other field
// models without a conditioning pathway of their own take the PDE parameters).
torch::Tensor cond_as_channels(const torch::Tensor& cond, const std::vector<std::int64_t>& spatial);

// Parameters of any module (a real [..., 2] spectral weight counts as 2 per complex
// entry, like the reference's count_params).
std::int64_t count_parameters(const torch::nn::Module& module);

// "[B, 3, 64, 64]"
std::string shape_str(const torch::Tensor& t);
std::string shape_str(const std::vector<std::int64_t>& sizes);

}  // namespace pdestream::surrogates
