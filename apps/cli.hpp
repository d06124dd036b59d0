#pragma once
// Shared plumbing of the `pdestream` subcommands: PETSc option pass-through, the options
// every command has (--config, --set), and run directories.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/parameter_space.hpp"
#include "core/runtime.hpp"
#include "core/strings.hpp"  // format_seconds

namespace pdestream::apps {

// Split argv into our arguments (for CLI11) and PETSc options. A PETSc option is a token
// with one leading dash and a multi-letter name (-ksp_type, -log_view); the next token is
// its value unless it looks like another option (negative numbers are values).
struct SplitArgs {
  std::vector<std::string> ours;   // argv[0] first
  std::vector<std::string> petsc;  // without argv[0]
};
SplitArgs split_petsc_options(int argc, char** argv);

// --config FILE and repeatable --set section.key=value.
struct ConfigOptions {
  std::string path;
  std::vector<std::string> sets;
  void add_to(CLI::App& cmd, bool config_required);
  // Load the file (or an empty config) and apply the overrides.
  Config load() const;
};

// The [output] section: where a run writes (runs/<name> by default), whether it writes
// ParaView files, and every how many outputs.
struct OutputOptions {
  std::string dir;
  bool paraview = false;
  int every = 1;
  bool reserve = true;  // generate: allocate the dataset's disk blocks before the first write
};
OutputOptions read_output_options(const Config& config, const std::string& default_name);

// [parameters], [sampler] and [simulation]: what to sample and how to spread the work.
struct SamplingOptions {
  ParameterSpace space;
  std::string kind = "lhs";
  std::uint64_t seed = 0;
  int ranks_per_sim = 1;
  int samples = 0;  // 0: not given
};
SamplingOptions read_sampling_options(const Config& config);

// A subcommand: registers its options on `app` and returns the function that runs it.
using Command = std::function<void(MPI_Comm world)>;
struct SubcommandRegistration {
  CLI::App* app;
  Command run;
};

SubcommandRegistration add_info(CLI::App& root);
SubcommandRegistration add_simulate(CLI::App& root);
SubcommandRegistration add_generate(CLI::App& root);
SubcommandRegistration add_export(CLI::App& root);
SubcommandRegistration add_train(CLI::App& root);
SubcommandRegistration add_evaluate(CLI::App& root);
SubcommandRegistration add_poisson(CLI::App& root);
SubcommandRegistration add_dcdm_train(CLI::App& root);
SubcommandRegistration add_plot(CLI::App& root);

}  // namespace pdestream::apps
