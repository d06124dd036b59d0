#include "apps/cli.hpp"

#include <cmath>
#include <cstdio>

#include "core/error.hpp"

namespace pdestream::apps {

namespace {

bool is_petsc_option(const std::string& a) {
  return a.size() > 2 && a[0] == '-' && a[1] != '-' && std::isalpha(static_cast<unsigned char>(a[1]));
}

bool looks_like_option(const std::string& a) {
  if (a.size() < 2 || a[0] != '-') return false;
  // "-1", "-0.5", "-.5" are values
  return !(std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.');
}

}  // namespace

SplitArgs split_petsc_options(int argc, char** argv) {
  SplitArgs out;
  out.ours.push_back(argc > 0 ? argv[0] : "pdestream");
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (is_petsc_option(a)) {
      out.petsc.push_back(a);
      if (i + 1 < argc && !looks_like_option(argv[i + 1])) out.petsc.push_back(argv[++i]);
    } else {
      out.ours.push_back(a);
    }
  }
  return out;
}

void ConfigOptions::add_to(CLI::App& cmd, bool config_required) {
  auto* opt = cmd.add_option("--config,-c", path, "TOML job configuration (see configs/)");
  if (config_required) opt->required();
  cmd.add_option("--set", sets, "Override a config key: section.key=value (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
}

Config ConfigOptions::load() const {
  Config c = path.empty() ? Config() : Config::load(path);
  c.apply_overrides(sets);
  return c;
}

OutputOptions read_output_options(const Config& config, const std::string& default_name) {
  SectionReader s(config, "output");
  OutputOptions o;
  o.dir = s.get_string("dir", "runs/" + default_name);
  o.paraview = s.get_bool("paraview", o.paraview);
  o.every = static_cast<int>(s.get_int("every", o.every, 1));
  o.reserve = s.get_bool("reserve", o.reserve);
  s.finish();
  PDS_CHECK(!o.dir.empty(), s.where("dir") << ": expected a directory, got an empty string");
  return o;
}

SamplingOptions read_sampling_options(const Config& config) {
  SamplingOptions o;
  SectionReader params(config, "parameters");
  o.space = ParameterSpace::from_section(params);
  params.finish();
  SectionReader sampler(config, "sampler");
  o.kind = sampler.get_string("kind", o.kind, sampler_kinds());
  o.seed = static_cast<std::uint64_t>(sampler.get_int("seed", 0, 0));
  sampler.finish();
  SectionReader sim(config, "simulation");
  o.ranks_per_sim = static_cast<int>(sim.get_int("ranks_per_sim", 1, 1));
  o.samples = static_cast<int>(sim.get_int("samples", 0, 0));
  sim.finish();
  return o;
}

}  // namespace pdestream::apps
