#pragma once
// Receiver impulse responses of a pointwise model (DeepONet on room acoustics): the model
// predicts the field at the receivers' exact positions at every stored time, the simulation's
// response is the stored field interpolated there (multilinear, as the solver's receivers), and
// both go to CSV (the format of `simulate`'s receivers.csv) and, on request, to WAV files.

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/grid.hpp"
#include "surrogates/tasks.hpp"
#include "training/evaluation.hpp"

namespace pdestream::training {

struct Receivers {
  std::vector<std::string> names;
  std::vector<std::vector<double>> positions;  // one coordinate per grid axis
  bool empty() const { return positions.empty(); }
};

// [solver] receivers (and receiver_names, default r0, r1, ...) of a config; none when it has
// no receivers. A receiver outside `grid` is a one-line Error.
Receivers receivers_of_config(const Config& config, const Grid& grid);

struct ReceiverResponses {
  std::vector<double> times;
  std::vector<std::vector<double>> predicted, simulated;  // [receiver][time]
  double predict_seconds = 0;                             // the model's wall time for all of them
};

// Collective-free: one trajectory on `grid` (frames [Nt, C, *spatial], the first channel).
ReceiverResponses receiver_responses(const LoadedSurrogate& surrogate, const surrogates::Trajectory& trajectory,
                                     const Grid& grid, const Receivers& receivers);

// <dir>/sample<id>_predicted.csv and _simulated.csv (t, one column per receiver).
void write_receiver_csv(const std::string& dir, std::int64_t id, const Receivers& receivers,
                        const ReceiverResponses& r);
// <dir>/sample<id>_<name>_{predicted,simulated}.wav at the frame rate, each pair scaled by
// its common peak, and the same convolved with io::dry_signal (<...>_dry.wav); dry.wav.
void write_receiver_wav(const std::string& dir, std::int64_t id, const Receivers& receivers,
                        const ReceiverResponses& r);

}  // namespace pdestream::training
