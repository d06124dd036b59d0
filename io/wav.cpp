#include "io/wav.hpp"

#include <sndfile.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace pdestream::io {

void write_wav(const std::string& path, const std::vector<double>& samples, int sample_rate) {
  PDS_CHECK(sample_rate > 0, path << ": expected a positive sample rate, got " << sample_rate);
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  PDS_CHECK(f, path << ": expected a writable WAV file, libsndfile says: " << sf_strerror(nullptr));
  // libsndfile maps doubles in [-1, 1] to the PCM range; clip rather than wrap.
  sf_command(f, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  const sf_count_t n = static_cast<sf_count_t>(samples.size());
  const sf_count_t written = sf_write_double(f, samples.data(), n);
  const int closed = sf_close(f);
  PDS_CHECK(written == n && closed == 0, path << ": writing " << n << " samples failed (disk full?)");
}

std::pair<int, std::vector<double>> read_wav(const std::string& path) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  PDS_CHECK(f, path << ": expected a sound file libsndfile reads, it says: " << sf_strerror(nullptr));
  std::vector<double> all(static_cast<std::size_t>(info.frames * info.channels));
  const sf_count_t got = sf_readf_double(f, all.data(), info.frames);
  sf_close(f);
  PDS_CHECK(got == info.frames, path << ": expected " << info.frames << " frames, read " << got);
  std::vector<double> first(static_cast<std::size_t>(info.frames));
  for (sf_count_t i = 0; i < info.frames; ++i) first[i] = all[i * info.channels];
  return {info.samplerate, first};
}

std::vector<double> convolve(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || b.empty()) return {};
  std::vector<double> out(a.size() + b.size() - 1, 0.0);
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) out[i + j] += a[i] * b[j];
  return out;
}

std::vector<double> dry_signal(int sample_rate) {
  const double tone = 0.25;
  const std::vector<double> notes = {220.0, 329.63, 440.0};
  const auto per = static_cast<std::size_t>(tone * sample_rate);
  std::vector<double> s(per * notes.size() + per / 2, 0.0);
  for (std::size_t k = 0; k < notes.size(); ++k) {
    if (notes[k] >= 0.5 * sample_rate) continue;
    for (std::size_t i = 0; i < per; ++i) {
      const double t = static_cast<double>(i) / sample_rate;
      s[k * per + i] += std::exp(-8.0 * t) * std::sin(2.0 * M_PI * notes[k] * t);
    }
  }
  s[per * notes.size()] = 1.0;  // a click after the tones
  const double peak = std::max(1e-30, std::abs(*std::max_element(s.begin(), s.end(), [](double x, double y) {
    return std::abs(x) < std::abs(y);
  })));
  for (double& v : s) v /= peak;
  return s;
}

}  // namespace pdestream::io
