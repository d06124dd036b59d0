#include "solvers/spectral.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/random.hpp"

namespace pdestream::solvers::spectral {

double GrfSpec::mode_variance(double k2) const {
  if (k2 <= 0) return 0.0;
  const double lambda = 4.0 * M_PI * M_PI * k2 + tau * tau;
  return sigma * sigma * std::pow(lambda, -alpha);
}

namespace {

// Uniform in (0, 1]: never 0, so the logarithm of Box-Muller is finite.
double unit_open_closed(std::uint64_t bits) { return (static_cast<double>(bits >> 11) + 1.0) * 0x1.0p-53; }

}  // namespace

std::array<double, 2> gaussian_pair(std::uint64_t seed, std::int64_t a, std::int64_t b) {
  // Chained hashing keeps (seed, a, b) and (seed, b, a) apart.
  const std::uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ static_cast<std::uint64_t>(a)) ^
                                     static_cast<std::uint64_t>(b) * 0xD1B54A32D192ED03ULL);
  const double u1 = unit_open_closed(splitmix64(h ^ 0x243F6A8885A308D3ULL));
  const double u2 = unit_open_closed(splitmix64(h ^ 0x13198A2E03707344ULL));
  const double r = std::sqrt(-2.0 * std::log(u1)), phi = 2.0 * M_PI * u2;
  return {r * std::cos(phi), r * std::sin(phi)};
}

std::uint64_t seed_from_parameter(const std::string& solver, const std::string& name, double value) {
  constexpr double limit = 9007199254740992.0;  // 2^53: every integer below is exact
  PDS_CHECK(std::isfinite(value) && value >= 0.0 && value < limit,
            solver << " parameter " << name << " must be a number in [0, 2^53), got " << value);
  return static_cast<std::uint64_t>(std::floor(value));
}

std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace pdestream::solvers::spectral
