#include "training/dataset_layout.hpp"

#include <utility>

#include "solvers/solver.hpp"

namespace pdestream::training {

io::DatasetLayout dataset_layout(const solvers::Solver& solver, const Config& config, int num_samples,
                                 std::vector<double> times) {
  io::DatasetLayout layout;
  layout.grid = solver.grid();
  layout.channels = solver.channels();
  layout.num_samples = num_samples;
  layout.times = std::move(times);
  layout.param_names = solver.parameter_names();
  layout.solver = solver.name();
  layout.config_toml = config.to_toml();
  return layout;
}

}  // namespace pdestream::training
