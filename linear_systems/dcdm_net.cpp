#include "linear_systems/dcdm_net.hpp"

#include <petscdmda.h>

#include <cstring>
#include <memory>
#include <set>

#include "core/error.hpp"
#include "linear_systems/torch_bridge.hpp"
#include "surrogates/model_file.hpp"
#include "surrogates/option_reader.hpp"
#include "surrogates/surrogate.hpp"

namespace pdestream::linear_systems {

namespace {

// 'same' padding, stride 1.
torch::nn::AnyModule make_conv(int dim, std::int64_t in, std::int64_t out, std::int64_t k, bool bias) {
  if (dim == 3)
    return torch::nn::AnyModule(torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, k).padding(k / 2).bias(bias)));
  return torch::nn::AnyModule(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(k / 2).bias(bias)));
}

// One convolution. In inference (no autograd) on CPU float32, the 3x3(x3) convolutions go
// straight to oneDNN: torch 1.13's own dispatch sends inputs with N*C*D*H <= 20480 (16
// channels at 32^3, or at half resolution of 64^3) to its im2col path, 2-3x slower here.
torch::Tensor conv(torch::nn::AnyModule& m, const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled() && at::hasMKLDNN() && x.scalar_type() == torch::kFloat32 &&
      x.device().is_cpu()) {
    torch::Tensor w, b;
    if (auto c3 = std::dynamic_pointer_cast<torch::nn::Conv3dImpl>(m.ptr())) {
      w = c3->weight;
      b = c3->bias;
    } else if (auto c2 = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(m.ptr())) {
      w = c2->weight;
      b = c2->bias;
    }
    if (w.defined() && w.size(-1) > 1) {
      const std::vector<std::int64_t> pad(w.dim() - 2, w.size(-1) / 2), one(w.dim() - 2, 1);
      return at::mkldnn_convolution(x.contiguous(), w, b, pad, one, one, 1);
    }
  }
  return m.forward(x);
}

}  // namespace

PetscLogEvent dcdm_network_event() {
  static PetscLogEvent event = -1;
  if (event < 0 && PetscLogEventRegister("DCDMNetwork", KSP_CLASSID, &event)) event = -1;
  return event;
}

nlohmann::json DcdmNetOptions::to_json() const {
  return {{"name", "dcdm"},          {"dim", dim},   {"channels", channels}, {"half_blocks", half_blocks},
          {"up_blocks", up_blocks}, {"bias", bias}, {"input", input}};
}

DcdmNetOptions DcdmNetOptions::read(surrogates::OptionReader& r) {
  DcdmNetOptions o;
  o.dim = static_cast<int>(r.get_int("dim", o.dim, 2, 3));
  o.channels = r.get_int("channels", o.channels, 1, 1024);
  o.half_blocks = r.get_int("half_blocks", o.half_blocks, 0, 64);
  o.up_blocks = r.get_int("up_blocks", o.up_blocks, 0, 64);
  o.bias = r.get_bool("bias", o.bias);
  o.input = r.get_string("input", o.input, {"rms", "unit"});
  return o;
}

void DcdmNetOptions::validate() const {
  PDS_CHECK(dim == 2 || dim == 3, "dcdm network: dim: expected 2 or 3, got " << dim);
  PDS_CHECK(channels >= 1 && half_blocks >= 0 && up_blocks >= 0,
            "dcdm network: expected channels >= 1 and block counts >= 0, got channels "
                << channels << ", half_blocks " << half_blocks << ", up_blocks " << up_blocks);
  PDS_CHECK(input == "rms" || input == "unit", "dcdm network: input: expected \"rms\" or \"unit\", got \"" << input << "\"");
}

DcdmResBlockImpl::DcdmResBlockImpl(int dim, std::int64_t channels, bool bias) {
  conv1_ = make_conv(dim, channels, channels, 3, bias);
  conv2_ = make_conv(dim, channels, channels, 3, bias);
  register_module("conv1", conv1_.ptr());
  register_module("conv2", conv2_.ptr());
}

torch::Tensor DcdmResBlockImpl::forward(const torch::Tensor& x) {
  return torch::relu(conv(conv2_, torch::relu(conv(conv1_, x)))) + x;
}

DcdmNetImpl::DcdmNetImpl(const DcdmNetOptions& o) : options_(o) {
  o.validate();
  const std::int64_t c = o.channels;
  conv_in_ = make_conv(o.dim, 1, c, 3, o.bias);
  enc_in_ = make_conv(o.dim, c, c, 3, o.bias);
  enc_block_ = DcdmResBlock(o.dim, c, o.bias);
  enc_out_ = make_conv(o.dim, c, c, 3, o.bias);
  conv_out_ = make_conv(o.dim, c, 1, 1, o.bias);
  register_module("conv_in", conv_in_.ptr());
  register_module("enc_in", enc_in_.ptr());
  register_module("enc_block", enc_block_);
  register_module("enc_out", enc_out_.ptr());
  half_ = register_module("half", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < o.half_blocks; ++i) half_->push_back(DcdmResBlock(o.dim, c, o.bias));
  up_ = register_module("up", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < o.up_blocks; ++i) up_->push_back(DcdmResBlock(o.dim, c, o.bias));
  register_module("conv_out", conv_out_.ptr());
}

torch::Tensor DcdmNetImpl::forward(const torch::Tensor& input) {
  const int d = options_.dim;
  PDS_CHECK(input.defined() && input.dim() == d + 2 && input.size(1) == 1,
            "dcdm network: expected input [B, 1, " << (d == 3 ? "Z, Y, X" : "Y, X") << "], got "
                                                   << surrogates::shape_str(input));
  // Odd axes get one plane of zeros at the end (pad lists the last axis first).
  std::vector<std::int64_t> pad;
  bool padded = false;
  for (int a = d + 1; a >= 2; --a) {
    pad.push_back(0);
    pad.push_back(input.size(a) % 2);
    padded = padded || input.size(a) % 2;
  }
  const torch::Tensor x = padded ? torch::constant_pad_nd(input, pad, 0.0) : input;

  auto a = torch::relu(conv(enc_in_, conv(conv_in_, x)));
  a = enc_block_->forward(a);
  const auto skip = torch::relu(conv(enc_out_, a));
  auto h = d == 3 ? torch::avg_pool3d(skip, {2, 2, 2}) : torch::avg_pool2d(skip, {2, 2});
  for (const auto& m : *half_) h = m->as<DcdmResBlockImpl>()->forward(h);
  const auto full = skip.sizes().slice(2).vec();
  auto u = torch::nn::functional::interpolate(
               h, torch::nn::functional::InterpolateFuncOptions().size(full).mode(torch::kNearest)) +
           skip;
  for (const auto& m : *up_) u = m->as<DcdmResBlockImpl>()->forward(u);
  auto q = conv(conv_out_, u);
  if (padded)
    for (int a2 = 2; a2 < d + 2; ++a2) q = q.narrow(a2, 0, input.size(a2));
  return q;
}

torch::Tensor DcdmNetImpl::direction(const torch::Tensor& unit_residual) {
  if (options_.input == "unit") return forward(unit_residual);
  PDS_CHECK(unit_residual.defined() && unit_residual.dim() >= 3,
            "dcdm network: expected input [B, 1, *spatial], got " << surrogates::shape_str(unit_residual));
  const auto cells = unit_residual[0][0].numel();
  return forward(unit_residual * std::sqrt(static_cast<double>(cells)));
}

void DcdmNetImpl::pretty_print(std::ostream& os) const {
  os << "DcdmNet" << options_.dim << "d(channels " << options_.channels << ", half blocks " << options_.half_blocks
     << ", up blocks " << options_.up_blocks << (options_.bias ? ", bias" : ", no bias") << ")";
}

// ---------------------------------------------------------------------------------------
// Files. Parameters only (the network has no buffers), always float32.

void save_dcdm_net(const std::string& path, const DcdmNet& net, std::map<std::string, std::string> metadata) {
  metadata["model"] = net->options().to_json().dump();
  metadata["format"] = "pt";
  surrogates::save_safetensors(path, *net, metadata);
}

std::map<std::string, std::string> read_dcdm_metadata(const std::string& path) {
  return surrogates::read_safetensors_tensors(path).metadata;
}

DcdmNet load_dcdm_net(const std::string& path) {
  const auto metadata = read_dcdm_metadata(path);
  const auto it = metadata.find("model");
  PDS_CHECK(it != metadata.end(), path << ": not a DCDM model (no \"model\" entry in the metadata)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(it->second);
  } catch (const std::exception&) {
    PDS_FAIL(path << ": the metadata entry \"model\" is not valid JSON");
  }
  PDS_CHECK(j.is_object() && j.value("name", std::string()) == "dcdm",
            path << ": not a DCDM model (metadata model.name is " << (j.is_object() && j.contains("name") ? j["name"].dump() : "missing")
                 << ", expected \"dcdm\")");
  if (!j.contains("input")) j["input"] = "unit";  // files written before the key existed
  surrogates::JsonOptionReader reader(j, path + " metadata", "model");
  reader.accept("name");
  const DcdmNetOptions options = DcdmNetOptions::read(reader);
  reader.finish();

  DcdmNet net(options);
  // The surrogates' model file: every parameter present with its shape, or a one-line error.
  const auto loaded = surrogates::load_safetensors(path, *net);
  for (const auto& [name, tensor] : loaded.extra)
    PDS_FAIL(path << ": tensor '" << name << "' is not a parameter of the DCDM network "
                  << net->options().to_json().dump());
  return net;
}

// ---------------------------------------------------------------------------------------
// The network as a direction operator.

namespace {

class NetworkApplier {
 public:
  NetworkApplier(DcdmNet net, DM da) : net_(std::move(net)), da_(da) {
    PDS_PETSC(PetscObjectReference((PetscObject)da_));
    MPI_Comm comm = PetscObjectComm((PetscObject)da_);
    MPI_Comm_size(comm, &size_);
    MPI_Comm_rank(comm, &rank_);
    if (size_ > 1) gather_ = std::make_unique<NaturalGather>(da_, NaturalGather::Target::Zero);
    if (rank_ == 0) PDS_CHECK(net_, "dcdm: no network on rank 0");
  }
  ~NetworkApplier() {
    gather_.reset();
    (void)DMDestroy(&da_);
  }
  NetworkApplier(const NetworkApplier&) = delete;
  NetworkApplier& operator=(const NetworkApplier&) = delete;

  PetscErrorCode apply(Vec in, Vec out) {
    PetscFunctionBegin;
    std::string error;
    try {
      if (size_ == 1) {
        torch::Tensor q;
        {
          ConstVecTensorView view(in, da_);
          q = evaluate(view.tensor());
        }
        VecTensorView target(out, da_);
        target.tensor().copy_(q);
      } else {
        torch::Tensor field = gather_->gather(in);
        torch::Tensor q;
        if (rank_ == 0) error = evaluate_noexcept(field, q);
        // The other ranks wait in the scatter: they must learn of a failure on rank 0.
        int failed = !error.empty();
        MPI_Bcast(&failed, 1, MPI_INT, 0, PetscObjectComm((PetscObject)da_));
        if (failed && error.empty()) error = "the evaluation failed on rank 0";
        if (!failed) gather_->scatter(q, out);
      }
    } catch (const Error& e) {
      error = e.message();
    } catch (const std::exception& e) {
      error = e.what();
    }
    PetscCheck(error.empty(), PETSC_COMM_SELF, PETSC_ERR_LIB, "dcdm network: %s", error.c_str());
    PetscFunctionReturn(0);
  }

 private:
  // [*spatial] float64 -> [*spatial] of the network's output.
  torch::Tensor evaluate(const torch::Tensor& field) {
    c10::InferenceMode guard;
    struct Logged {  // ends the event also when the forward pass throws
      PetscLogEvent event = dcdm_network_event();
      Logged() {
        if (event >= 0) (void)PetscLogEventBegin(event, 0, 0, 0, 0);
      }
      ~Logged() {
        if (event >= 0) (void)PetscLogEventEnd(event, 0, 0, 0, 0);
      }
    } logged;
    auto x = field.to(torch::kFloat32).unsqueeze(0).unsqueeze(0);
    return net_->direction(x).squeeze(0).squeeze(0);
  }

  std::string evaluate_noexcept(const torch::Tensor& field, torch::Tensor& q) {
    try {
      q = evaluate(field);
    } catch (const Error& e) {
      return e.message();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }

  DcdmNet net_;
  DM da_;
  int size_ = 1, rank_ = 0;
  std::unique_ptr<NaturalGather> gather_;
};

}  // namespace

DcdmOperator make_network_operator(DcdmNet net, DM da) {
  PetscBool is_da = PETSC_FALSE;
  PDS_CHECK(da, "dcdm needs a DMDA grid: got no DM");
  PDS_PETSC(PetscObjectTypeCompare((PetscObject)da, DMDA, &is_da));
  const char* type = nullptr;
  PDS_PETSC(PetscObjectGetType((PetscObject)da, &type));
  PDS_CHECK(is_da, "dcdm needs a DMDA grid: got a DM of type " << (type ? type : "(unset)"));
  PetscInt dim = 0, dof = 0;
  PDS_PETSC(DMDAGetInfo(da, &dim, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &dof, nullptr, nullptr,
                        nullptr, nullptr, nullptr));
  PDS_CHECK(dof == 1, "dcdm needs a DMDA grid with one unknown per point, got dof " << dof);
  if (net)
    PDS_CHECK(net->options().dim == dim, "dcdm needs a DMDA grid of the network's dimension: the network is "
                                             << net->options().dim << "D, the grid " << dim << "D");
  auto applier = std::make_shared<NetworkApplier>(std::move(net), da);
  return [applier](Vec in, Vec out) { return applier->apply(in, out); };
}

}  // namespace pdestream::linear_systems
