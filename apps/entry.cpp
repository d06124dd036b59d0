// pdestream::apps::main, the whole command line as a library function: the `pdestream`
// binary is only a call to it, and a program that registers its own solvers or models first
// (examples/own_solver) gets every subcommand for them.

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "apps/cli.hpp"
#include "apps/entry.hpp"
#include "core/error.hpp"
#include "core/runtime.hpp"
#include "linear_systems/dcdm.hpp"
#include "linear_systems/relaxation_tuner.hpp"

namespace {

struct NullBuffer : std::streambuf {
  int overflow(int c) override { return c; }
};

}  // namespace

namespace pdestream::apps {

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a write should fail like one on a full disk, with the
  // writer's one-line error and its cleanup, instead of SIGXFSZ killing the process mid-file.
  std::signal(SIGXFSZ, SIG_IGN);
  auto split = apps::split_petsc_options(argc, argv);

  std::unique_ptr<Runtime> runtime;
  try {
    runtime = std::make_unique<Runtime>(&argc, &argv, MPI_COMM_WORLD, split.petsc);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pdestream: error: %s\n", e.what());
    return 1;
  }
  const MPI_Comm world = runtime->comm();
  const bool root = runtime->rank() == 0;
  // -pc_type sor -pc_sor_omega_bandit tsallis on any KSP of any subcommand.
  if (linear_systems::register_sor_bandit()) {
    if (root) std::fprintf(stderr, "pdestream: error: registering the SOR omega bandit with PETSc failed\n");
    return 1;
  }
  // -ksp_type dcdm and -pc_type dcdm (deep conjugate directions) on any KSP.
  if (linear_systems::register_dcdm()) {
    if (root) std::fprintf(stderr, "pdestream: error: registering DCDM with PETSc failed\n");
    return 1;
  }

  CLI::App app{"pdestream: MPI-parallel PDE solvers streaming into neural surrogate trainers.\n"
               "PETSc options (-ksp_type cg, -log_view, ...) pass through to PETSc."};
  app.require_subcommand(1);
  // One line, like every other error; the usage is one --help away.
  app.failure_message([](const CLI::App* cmd, const CLI::Error& e) {
    std::string name = cmd->get_parent() ? "pdestream " + cmd->get_name() : "pdestream";
    return name + ": error: " + e.what() + " (run with --help for usage)\n";
  });
  app.set_version_flag("--version", std::string("pdestream ") + PDESTREAM_VERSION);
  std::vector<apps::SubcommandRegistration> commands = {
      apps::add_info(app), apps::add_simulate(app), apps::add_generate(app), apps::add_export(app),
      apps::add_poisson(app), apps::add_train(app), apps::add_evaluate(app), apps::add_dcdm_train(app),
      apps::add_plot(app)};

  std::vector<char*> cli_argv;
  for (auto& s : split.ours) cli_argv.push_back(s.data());
  NullBuffer null_buffer;
  std::ostream null_stream(&null_buffer);
  try {
    app.parse(static_cast<int>(cli_argv.size()), cli_argv.data());
  } catch (const CLI::ParseError& e) {
    // Every rank parses the same arguments; only rank 0 speaks.
    return app.exit(e, root ? std::cout : null_stream, root ? std::cerr : null_stream);
  }

  for (auto& command : commands) {
    if (!command.app->parsed()) continue;
    try {
      command.run(world);
      return 0;
    } catch (const CollectiveError& e) {
      if (root) std::fprintf(stderr, "pdestream %s: error: %s\n", command.app->get_name().c_str(), e.what());
      return 1;
    } catch (const std::exception& e) {
      // Only this rank knows: print with its rank and take the others down with it.
      std::string msg = e.what();
      if (const auto* pe = dynamic_cast<const Error*>(&e)) msg = pe->message();
      if (runtime->size() > 1) {
        std::fprintf(stderr, "pdestream %s: error on rank %d: %s\n", command.app->get_name().c_str(),
                     runtime->rank(), msg.c_str());
        std::fflush(stderr);
        MPI_Abort(world, 1);
      }
      std::fprintf(stderr, "pdestream %s: error: %s\n", command.app->get_name().c_str(), msg.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace pdestream::apps
