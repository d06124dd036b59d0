#pragma once
// WAV files through libsndfile, so impulse responses can be listened to. Torch-free.
//
//   io::write_wav("ir.wav", samples, 2000);   // mono, 16-bit PCM
//   auto [rate, samples] = io::read_wav("ir.wav");

#include <string>
#include <utility>
#include <vector>

namespace pdestream::io {

// Mono 16-bit PCM at `sample_rate` Hz. Values are written as they are: scale them into
// [-1, 1] first (larger magnitudes clip). A file that cannot be written is a one-line Error.
void write_wav(const std::string& path, const std::vector<double>& samples, int sample_rate);
// The sample rate and the (first channel's) samples in [-1, 1].
std::pair<int, std::vector<double>> read_wav(const std::string& path);

// Full linear convolution (length a + b - 1).
std::vector<double> convolve(const std::vector<double>& a, const std::vector<double>& b);
// A short dry test signal at `sample_rate`: three decaying tones (A3, E4, A4, each 0.25 s,
// only those below the Nyquist frequency) and a click, peak 1: what a room's impulse
// response is convolved with for listening.
std::vector<double> dry_signal(int sample_rate);

}  // namespace pdestream::io
