#include "surrogates/registry.hpp"

#include <algorithm>
#include <mutex>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "surrogates/cape.hpp"
#include "surrogates/deeponet.hpp"
#include "surrogates/fno.hpp"
#include "surrogates/mlp.hpp"
#include "surrogates/option_reader.hpp"
#include "surrogates/pde_refiner.hpp"
#include "surrogates/unet.hpp"
#include "surrogates/unet_modern.hpp"

namespace pdestream::surrogates {

namespace {


void check_field_shape(const std::string& name, const ModelShape& shape, int max_dim) {
  PDS_CHECK(shape.dim >= 1 && shape.dim <= max_dim,
            name << ": expected field data of dimension 1.." << max_dim << ", got " << shape.str());
  PDS_CHECK(shape.in_channels >= 1 && shape.out_channels >= 1,
            name << ": expected at least 1 input and 1 output channel, got " << shape.str());
}

std::shared_ptr<Surrogate> build_fno(OptionReader& r, const ModelShape& shape) {
  check_field_shape("fno", shape, 3);
  FnoOptions o;
  o.dim = shape.dim;
  o.in_channels = shape.in_channels;
  o.out_channels = shape.out_channels;
  static const std::int64_t default_width[] = {64, 32, 20};
  static const std::int64_t default_modes[] = {16, 12, 8};
  o.width = r.get_int("width", default_width[o.dim - 1], 1, 4096);
  o.modes = r.get_ints("modes", std::vector<std::int64_t>{default_modes[o.dim - 1]}, 1);
  PDS_CHECK(o.modes.size() == 1 || static_cast<int>(o.modes.size()) == o.dim,
            r.where("modes") << ": expected 1 or " << o.dim << " values (one per axis), got " << o.modes.size());
  o.layers = r.get_int("layers", 4, 1, 64);
  o.projection = r.get_int("projection", 128, 1, 65536);
  o.grid = r.get_bool("grid", true);
  o.padding = r.get_int("padding", 0, 0, 4096);
  o.cond_dim = r.get_int("cond_dim", shape.cond_dim, 0, 65536);
  auto model = std::make_shared<FnoImpl>(o);
  if (!shape.spatial.empty()) model->check_spatial(shape.spatial);
  return model;
}

std::shared_ptr<Surrogate> build_mlp(OptionReader& r, const ModelShape& shape) {
  PDS_CHECK(shape.in_channels >= 1 && shape.out_channels >= 1,
            "mlp: expected at least 1 input and 1 output feature, got " << shape.str());
  MlpOptions o;
  o.in_features = shape.in_channels;
  o.out_features = shape.out_channels;
  o.hidden = r.get_ints("hidden", std::vector<std::int64_t>{256, 256}, 1);
  o.activation = r.get_string("activation", "relu", activation_names());
  o.cond_dim = r.get_int("cond_dim", shape.cond_dim, 0, 65536);
  return std::make_shared<MlpImpl>(o);
}

std::shared_ptr<Surrogate> build_unet(OptionReader& r, const ModelShape& shape) {
  check_field_shape("unet", shape, 2);
  UnetOptions o;
  o.dim = shape.dim;
  o.in_channels = shape.in_channels;
  o.out_channels = shape.out_channels;
  o.width = r.get_int("width", 32, 1, 4096);
  o.levels = r.get_int("levels", 3, 1, 8);
  o.norm = r.get_bool("norm", true);
  o.activation = r.get_string("activation", "gelu", activation_names());
  o.cond_dim = r.get_int("cond_dim", shape.cond_dim, 0, 65536);
  return std::make_shared<UnetImpl>(o);
}

std::shared_ptr<Surrogate> build_unet_modern(OptionReader& r, const ModelShape& shape) {
  check_field_shape("unet_modern", shape, 2);
  UnetModernOptions o;
  o.dim = shape.dim;
  o.in_channels = shape.in_channels;
  o.out_channels = shape.out_channels;
  o.hidden = r.get_int("hidden", 64, 8, 4096);
  o.ch_mults = r.get_ints("ch_mults", std::vector<std::int64_t>{1, 2, 2, 4}, 1);
  o.n_blocks = r.get_int("n_blocks", 2, 1, 16);
  o.norm = r.get_bool("norm", true);
  o.padding = r.get_string("padding", "circular", {"circular", "zeros"});
  o.cond_dim = r.get_int("cond_dim", shape.cond_dim, 0, 65536);
  o.difference_weight = r.get_double("difference_weight", 0.0, 0.0);
  o.validate();
  return std::make_shared<UnetModernImpl>(o);
}

// CAPE wraps a base model that sees [x, CAPE(x, p)] and returns 2 C_out channels.
std::shared_ptr<Surrogate> build_cape(OptionReader& r, const ModelShape& shape) {
  check_field_shape("cape", shape, 2);
  CapeOptions o;
  o.dim = shape.dim;
  o.in_channels = shape.in_channels;
  o.out_channels = shape.out_channels;
  o.cond_dim = r.get_int("cond_dim", shape.cond_dim, 0, 65536);
  o.width = r.get_int("width", 64, 2, 4096);
  o.kernel = r.get_int("kernel", 5, 1, 63);
  o.modes = r.get_int("modes", o.dim == 2 ? 9 : 16, 1, 4096);
  o.pool = r.get_int("pool", 4, 1, 64);
  // A stored model knows its grid; one built for data takes the data's.
  o.spatial = r.get_ints("spatial", shape.spatial, 1);
  o.validate();
  ModelShape base_shape = shape;
  base_shape.in_channels = 2 * shape.in_channels;
  base_shape.out_channels = 2 * shape.out_channels;
  base_shape.cond_dim = 0;
  base_shape.spatial = o.spatial;
  PDS_CHECK(r.has("base"), r.where("base") << ": expected the base model's table ([model.base] name = \"fno\" or "
                                              "\"unet\", ...)");
  return std::make_shared<CapeImpl>(o, make_nested_model(r, "base", base_shape));
}

// PDE-Refiner denoises [x, y] with a unet_modern whose time embedding takes the step.
std::shared_ptr<Surrogate> build_pde_refiner(OptionReader& r, const ModelShape& shape) {
  check_field_shape("pde_refiner", shape, 2);
  PdeRefinerOptions o;
  o.dim = shape.dim;
  o.in_channels = shape.in_channels;
  o.out_channels = shape.out_channels;
  o.cond_dim = r.get_int("cond_dim", shape.cond_dim, 0, 65536);
  o.num_refinement_steps = r.get_int("num_refinement_steps", 3, 1, 100);
  o.min_noise_std = r.get_double("min_noise_std", 4e-7);
  o.difference_weight = r.get_double("difference_weight", 0.3, 0.0);
  o.seed = static_cast<std::uint64_t>(r.get_int("seed", 0, 0));
  o.validate();
  ModelShape base_shape = shape;
  base_shape.in_channels = shape.in_channels + shape.out_channels;
  base_shape.cond_dim = o.cond_dim;
  PDS_CHECK(r.has("base"), r.where("base") << ": expected the denoiser's table ([model.base] name = \"unet_modern\", "
                                              "...)");
  auto base = std::dynamic_pointer_cast<UnetModernImpl>(make_nested_model(r, "base", base_shape));
  PDS_CHECK(base, r.where("base") << ": expected name = \"unet_modern\" (the denoiser embeds the refinement step)");
  return std::make_shared<PdeRefinerImpl>(o, base);
}

// DeepONet on points: the trunk takes the task's coordinates, the branch its condition.
std::shared_ptr<Surrogate> build_deeponet(OptionReader& r, const ModelShape& shape) {
  DeepOnetOptions o;
  o.in_channels = shape.in_channels;
  o.out_channels = shape.out_channels;
  o.cond_dim = r.get_int("cond_dim", shape.cond_dim, 0, 65536);
  o.latent = r.get_int("latent", o.latent, 1, 1 << 16);
  o.branch_width = r.get_int("branch_width", o.branch_width, 1, 1 << 16);
  o.branch_depth = r.get_int("branch_depth", o.branch_depth, 1, 64);
  o.trunk_width = r.get_int("trunk_width", o.trunk_width, 1, 1 << 16);
  o.trunk_depth = r.get_int("trunk_depth", o.trunk_depth, 1, 64);
  o.activation = r.get_string("activation", o.activation, {"sin", "tanh", "gelu"});
  o.omega0 = r.get_double("omega0", o.omega0, 1e-6, 1e6);
  o.modified = r.get_bool("modified", o.modified);
  o.fourier_features = r.get_doubles("fourier_features", std::vector<double>{});
  o.validate();
  return std::make_shared<DeepOnetImpl>(o);
}

struct Entry {
  std::string name;
  Layout layout;
  ModelBuilder build;
};

std::mutex& entries_mutex() {
  static std::mutex m;
  return m;
}

// Sorted by name; the built-in models first register themselves here.
std::vector<Entry>& entries() {
  static std::vector<Entry> e{{"cape", Layout::Field, build_cape},
                              {"deeponet", Layout::Vector, build_deeponet},
                              {"fno", Layout::Field, build_fno},
                              {"mlp", Layout::Vector, build_mlp},
                              {"pde_refiner", Layout::Field, build_pde_refiner},
                              {"unet", Layout::Field, build_unet},
                              {"unet_modern", Layout::Field, build_unet_modern}};
  return e;
}

Entry entry(const std::string& name, const std::string& where) {
  {
    std::lock_guard<std::mutex> lock(entries_mutex());
    for (const auto& e : entries())
      if (name == e.name) return e;
  }
  PDS_FAIL(where << ": unknown model \"" << name << "\"; expected one of: " << join(model_names()));
}

}  // namespace

void register_model(const std::string& name, Layout layout, ModelBuilder build) {
  std::lock_guard<std::mutex> lock(entries_mutex());
  auto& e = entries();
  auto it = std::find_if(e.begin(), e.end(), [&](const Entry& x) { return x.name == name; });
  if (it != e.end()) {
    *it = {name, layout, std::move(build)};
    return;
  }
  e.push_back({name, layout, std::move(build)});
  std::sort(e.begin(), e.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
}

std::vector<std::string> model_names() {
  std::lock_guard<std::mutex> lock(entries_mutex());
  std::vector<std::string> names;
  for (const auto& e : entries()) names.emplace_back(e.name);
  return names;
}

Layout model_layout(const std::string& name) { return entry(name, "model").layout; }

std::shared_ptr<Surrogate> make_model(const std::string& name, OptionReader& reader, const ModelShape& shape) {
  const auto e = entry(name, reader.where("name"));
  reader.accept("name");
  auto model = e.build(reader, shape);
  reader.finish();
  // The task decides the conditioning; a model built for data must take exactly its cond.
  PDS_CHECK(shape.cond_dim == 0 || model->cond_dim() == shape.cond_dim,
            reader.where("name") << ": the task conditions the model on " << shape.cond_dim
                                 << " parameter(s) ([task] condition), but " << name << " takes cond_dim = "
                                 << model->cond_dim());
  return model;
}

std::shared_ptr<Surrogate> make_nested_model(OptionReader& reader, const std::string& key, const ModelShape& shape) {
  auto sub = reader.nested(key);
  const std::string name = sub->get_string("name", std::nullopt, model_names());
  // A stored base model repeats the data shape; the wrapper decides it.
  for (const char* k : {"dim", "in_channels", "out_channels"})
    if (sub->has(k)) sub->accept(k);
  return make_model(name, *sub, shape);
}

std::shared_ptr<Surrogate> make_model(SectionReader& section, const ModelShape& shape) {
  SectionOptionReader reader(section);
  const std::string name = section.get_string("name", std::nullopt, model_names());
  return make_model(name, reader, shape);
}

std::shared_ptr<Surrogate> make_model_from_json(const nlohmann::json& options, const std::string& origin) {
  JsonOptionReader reader(options, origin, "model");
  const std::string name = reader.get_string("name", std::nullopt, model_names());
  ModelShape shape;
  if (model_layout(name) == Layout::Field) shape.dim = static_cast<int>(reader.get_int("dim", std::nullopt, 1, 3));
  shape.in_channels = reader.get_int("in_channels", std::nullopt, 1);
  shape.out_channels = reader.get_int("out_channels", std::nullopt, 1);
  return make_model(name, reader, shape);
}

std::string model_summary(const Surrogate& model, const ModelShape& shape) {
  std::ostringstream os;
  os << "model " << model.kind() << " (" << layout_name(model.layout()) << " layout) for " << shape.str() << "\n"
     << model.describe() << "\n"
     << "options " << model.options_json().dump();
  return os.str();
}

}  // namespace pdestream::surrogates
