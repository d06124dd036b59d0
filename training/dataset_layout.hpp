#pragma once
// The layout a solver's trajectories are stored in (simulate --hdf5, generate, an online
// job's validation.h5). Torch-free, so the commands that only simulate stay light.

#include <vector>

#include "core/config.hpp"
#include "io/hdf5_dataset.hpp"

namespace pdestream::solvers {
class Solver;
}

namespace pdestream::training {

// The solver's grid, channels, parameter names and name, and the merged config; `times`
// are the stored frames' times.
io::DatasetLayout dataset_layout(const solvers::Solver& solver, const Config& config, int num_samples,
                                 std::vector<double> times);

}  // namespace pdestream::training
