#pragma once
// The files an online checkpoint keeps beside checkpoint.pt, and what `train --resume` reads
// back from them:
//   online_state_<step>.json    the coordinator's accounts (rank 0)
//   buffer_<rank>_<step>.pt     each trainer rank's samples, as their examples
// Both are written to a temporary name and renamed. The readers take files that a killed
// job, a full disk or a user may have left behind: anything they cannot use is a one-line
// pdestream::Error naming the file and what was expected (fuzzed: fuzz/targets.cpp).

#include <cstdint>
#include <string>
#include <vector>

#include "online_training/buffer.hpp"
#include "online_training/server.hpp"

namespace pdestream::online_training {

std::string state_path(const std::string& dir, std::int64_t step);
std::string buffer_path(const std::string& dir, int rank, std::int64_t step);

void write_online_state(const std::string& path, std::int64_t step, const CoordinatorState& state);
// The accounts of checkpoint step `step`; a file of another step is an error.
CoordinatorState read_online_state(const std::string& path, std::int64_t step);

// Samples stored as trajectories are saved as their examples (a resumed buffer holds them
// materialised).
void save_samples(const std::string& path, const std::vector<Sample>& samples, const surrogates::Task& task);
std::vector<Sample> load_samples(const std::string& path);

}  // namespace pdestream::online_training
