#pragma once
// The DCDM network (Kaneda et al., "A Deep Conjugate Direction Method for Iteratively
// Solving Linear Systems", ICML 2023): a fully convolutional CNN that maps a normalised
// residual r/|r| to a search direction q ~ A^-1 r (up to scale). Shape as in the authors'
// reference model (Keras, 3D), C = channels (16), every convolution 3x3x3 (3x3 in 2D),
// 'same' zero padding, stride 1, with bias (Keras' default, which the reference keeps):
//
//   conv_in        conv 1 -> C, linear                          x0
//   enc_in         conv C -> C, ReLU                            a = relu(enc_in(x0))
//   enc_block      residual block at full resolution            a = block(a)
//   enc_out        conv C -> C, ReLU                            s = relu(enc_out(a))   (skip)
//                  average-pool 2 (every axis)                  h = avgpool(s)
//   half.{0..2}    residual blocks at half resolution           h = block(h)
//                  nearest upsample 2, plus the skip            u = upsample(h) + s
//   up.{0,1}       residual blocks at full resolution           u = block(u)
//   conv_out       1x1(x1) conv C -> 1, linear                  q = conv_out(u)
//   residual block (conv1, conv2):                              y = relu(conv2(relu(conv1(x)))) + x
//
// Parameter names (the .safetensors keys) follow this tree: conv_in.weight, enc_block.conv1.bias,
// half.2.conv2.weight, conv_out.weight, ... Parameter count with the defaults (C = 16, 3 half
// blocks, 2 up blocks, bias): 97,457 in 3D and 32,657 in 2D.
//
// direction() is what DCDM calls, on residuals of unit norm: it feeds the network r sqrt(N)
// (unit RMS per cell, N cells; options "input" = "rms", the default) or r itself ("unit",
// the paper's r / |r|). The paper trains and solves on one grid size, where the two are the
// same up to a constant; across sizes "unit" inputs shrink like 1/sqrt(N) against the
// trained biases.
//
// Tensors: [B, 1, Z, Y, X] (3D) or [B, 1, Y, X] (2D) -> same shape. Grids of any size work:
// the network is fully convolutional, so a model trained on one grid applies to any other.
// An odd axis is padded with one plane of zeros at its end before the pooling (a zero
// residual there: an extra Dirichlet layer) and the output is cropped back.
// Without autograd (inference) the 3x3(x3) convolutions call oneDNN directly: torch 1.13's
// dispatch would send small inputs (16 channels at 32^3) to a 2-3x slower im2col path.
//
// Files: save_dcdm_net writes .safetensors (float32 parameters) through the surrogates'
// model file, with the architecture as JSON in the metadata key "model" ({"name": "dcdm",
// "dim": 3, "channels": 16, ...}) and "format": "pt"; load_dcdm_net rebuilds the network
// from that metadata and checks every tensor's name and shape.

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include <petscdm.h>
#include <petsclog.h>

#include "linear_systems/dcdm.hpp"
#include "surrogates/surrogate.hpp"

namespace pdestream::surrogates {
class OptionReader;
}

namespace pdestream::linear_systems {

struct DcdmNetOptions {
  int dim = 3;                     // 2 or 3
  std::int64_t channels = 16;      // C
  std::int64_t half_blocks = 3;    // residual blocks at half resolution
  std::int64_t up_blocks = 2;      // residual blocks after the upsample
  bool bias = true;
  // What the network is fed (see direction()): "rms", the residual at unit RMS per cell,
  // r sqrt(N) / |r| for a grid of N cells, so that a model trained on one grid sees inputs
  // of the same size on any other; or "unit", r / |r| as in the paper, whose entries shrink
  // like 1/sqrt(N) until the trained biases dominate (the 16³ model took 137 iterations at
  // 128³ fed "unit", 68 fed at its training scale). Files without the key are "unit".
  std::string input = "rms";

  nlohmann::json to_json() const;  // includes "name": "dcdm"
  // Reads and validates every key (unknown keys and out-of-range values are errors naming
  // the key), from a TOML section or a file's JSON metadata alike.
  static DcdmNetOptions read(surrogates::OptionReader& reader);
  void validate() const;
};

class DcdmResBlockImpl : public torch::nn::Module {
 public:
  DcdmResBlockImpl(int dim, std::int64_t channels, bool bias);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::AnyModule conv1_, conv2_;
};
TORCH_MODULE(DcdmResBlock);

// A Surrogate, so the training engine trains, checkpoints and saves it as any model. It is
// not in the model registry: it maps residuals to search directions, not PDE data.
class DcdmNetImpl : public surrogates::Surrogate {
 public:
  explicit DcdmNetImpl(const DcdmNetOptions& options = {});
  using Surrogate::forward;
  // [B, 1, *spatial] -> [B, 1, *spatial]; a pdestream::Error for any other shape.
  torch::Tensor forward(const torch::Tensor& x) override;
  // The search direction for unit-norm residuals [B, 1, *spatial] (each sample |r| = 1):
  // forward() of the input options().input asks for. Training and solving both call this.
  torch::Tensor direction(const torch::Tensor& unit_residual);
  const DcdmNetOptions& options() const { return options_; }
  std::string kind() const override { return "dcdm"; }
  surrogates::Layout layout() const override { return surrogates::Layout::Field; }
  nlohmann::json options_json() const override { return options_.to_json(); }
  void pretty_print(std::ostream& os) const override;

 private:
  DcdmNetOptions options_;
  torch::nn::AnyModule conv_in_, enc_in_, enc_out_, conv_out_;
  DcdmResBlock enc_block_{nullptr};
  torch::nn::ModuleList half_{nullptr}, up_{nullptr};
};
TORCH_MODULE(DcdmNet);

// Writes `net` as .safetensors; `metadata` adds keys ("model" and "format" are set here).
void save_dcdm_net(const std::string& path, const DcdmNet& net, std::map<std::string, std::string> metadata = {});
// Rebuilds the network a file describes. Errors name the file and what is wrong (missing
// file, not a DCDM model, a tensor missing or of the wrong shape, unknown options).
DcdmNet load_dcdm_net(const std::string& path);
// The metadata of a DCDM model file (architecture and anything the trainer added).
std::map<std::string, std::string> read_dcdm_metadata(const std::string& path);

// The network as a DCDM direction operator on the grid `da` (a DMDA with dof 1 whose
// dimension matches the network's): out = f(in) as a float32 evaluation of the network,
// in inference mode. On one rank the Vecs are viewed in place (zero copy, then a float32
// conversion); on several ranks the input is gathered to rank 0 in natural ordering, the
// network runs there, and the output is scattered back (the other ranks wait): the network
// sees the whole grid exactly as on one rank, so the result does not depend on the rank
// count. The network's time is logged under the PETSc event "DCDMNetwork". `net` is only
// used on rank 0 and may be empty elsewhere.
DcdmOperator make_network_operator(DcdmNet net, DM da);

// The PETSc log event "DCDMNetwork" (registered at the first call, on every rank:
// register_dcdm() makes that call so event ids agree across ranks).
PetscLogEvent dcdm_network_event();

}  // namespace pdestream::linear_systems
