#pragma once
// splitmix64: a fixed, portable mixing function. Seeds derived with it are the same on every
// platform and standard library (unlike std::shuffle's or the distributions' use of an
// engine), so a seeded draw is reproducible across machines and rank counts.

#include <cstdint>

namespace pdestream {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A uniform number in [0, 1) determined by (seed, slot) alone: counter-based, so draw `slot`
// of a seed is the same whatever else was drawn, on every rank and platform.
inline double uniform01(std::uint64_t seed, std::uint64_t slot) {
  return static_cast<double>(splitmix64(splitmix64(seed) ^ (0x632be59bd9b4e019ull * (slot + 1))) >> 11) * 0x1.0p-53;
}

}  // namespace pdestream
