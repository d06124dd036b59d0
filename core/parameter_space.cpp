// Named parameter ranges and seeded, seekable samplers over the unit cube.
//
// Every sampler computes its n-th point directly from (seed, n) — there is no hidden
// sequential state beyond the position counter (and a cache for the current LHS block) —
// so seek(n) followed by next_unit() gives exactly the n-th point of a fresh sampler.
//
// Random numbers come from a counter-based generator: the splitmix64 finaliser applied
// to (seed, stream tag, counters). Each use (uniform coordinates, LHS permutations, LHS
// jitter, Halton shift, Sobol shift) has its own stream tag, so the streams are
// independent of each other.
#include "core/parameter_space.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"

namespace pdestream {

namespace {

// ---------------------------------------------------------------------------------------
// Counter-based random numbers
// ---------------------------------------------------------------------------------------

// splitmix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// Hash of (seed, tag, a, b, c): each word is absorbed through a full mix, so flipping any
// input bit changes the output unpredictably.
inline std::uint64_t hash_words(std::uint64_t seed, std::uint64_t tag, std::uint64_t a,
                                std::uint64_t b = 0, std::uint64_t c = 0) {
  std::uint64_t h = mix64(seed + kGolden);
  h = mix64(h ^ (tag + 1 * kGolden));
  h = mix64(h ^ (a + 2 * kGolden));
  h = mix64(h ^ (b + 3 * kGolden));
  h = mix64(h ^ (c + 4 * kGolden));
  return h;
}

// 53-bit double in [0, 1).
inline double to_unit(std::uint64_t bits) {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

// Stream tags (domain separation between the uses of the generator).
enum : std::uint64_t {
  kTagUniform = 0x756e69666f726dULL,   // "uniform"
  kTagLhsPerm = 0x6c68737065726dULL,   // "lhsperm"
  kTagLhsJitter = 0x6c68736a6974ULL,   // "lhsjit"
  kTagHaltonShift = 0x68616c746f6eULL, // "halton"
  kTagSobolShift = 0x736f626f6cULL,    // "sobol"
};


// ---------------------------------------------------------------------------------------
// uniform
// ---------------------------------------------------------------------------------------

// Point n, coordinate j = U(hash(seed, n, j)): i.i.d. uniform, and seek is O(1).
class UniformSampler final : public Sampler {
 public:
  UniformSampler(std::size_t dim, std::uint64_t seed) : Sampler(dim), seed_(seed) {}
  std::string kind() const override { return "uniform"; }
  std::vector<double> next_unit() override {
    std::vector<double> x(dim_);
    for (std::size_t j = 0; j < dim_; ++j) x[j] = to_unit(hash_words(seed_, kTagUniform, pos_, j));
    ++pos_;
    return x;
  }
  std::uint64_t position() const override { return pos_; }
  void seek(std::uint64_t n) override { pos_ = n; }

 private:
  std::uint64_t seed_;
  std::uint64_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------
// Latin hypercube, in blocks
// ---------------------------------------------------------------------------------------

// Point n lies in block b = n / B at index i = n % B. In every dimension j, the B points of
// a block occupy the B strata [k/B, (k+1)/B) once each: point i goes to stratum
// perm_{b,j}(i), jittered uniformly inside it. The permutation (Fisher-Yates) and the
// jitter are derived from (seed, b, j) and (seed, n, j), so any block can be rebuilt.
class LhsSampler final : public Sampler {
 public:
  LhsSampler(std::size_t dim, std::uint64_t seed, std::uint64_t block)
      : Sampler(dim), seed_(seed), block_(block) {}
  std::string kind() const override { return "lhs"; }

  std::vector<double> next_unit() override {
    const std::uint64_t b = pos_ / block_;
    const std::uint64_t i = pos_ % block_;
    if (!have_block_ || b != cached_block_) build_block(b);
    const double B = static_cast<double>(block_);
    std::vector<double> x(dim_);
    for (std::size_t j = 0; j < dim_; ++j) {
      const std::uint64_t k = perm_[j * block_ + i];
      const double u = to_unit(hash_words(seed_, kTagLhsJitter, pos_, j));
      x[j] = clamp_to_stratum((static_cast<double>(k) + u) / B, k, B);
    }
    ++pos_;
    return x;
  }
  std::uint64_t position() const override { return pos_; }
  void seek(std::uint64_t n) override { pos_ = n; }

 private:
  void build_block(std::uint64_t b) {
    perm_.resize(dim_ * block_);
    for (std::size_t j = 0; j < dim_; ++j) {
      std::uint64_t* p = perm_.data() + j * block_;
      for (std::uint64_t k = 0; k < block_; ++k) p[k] = k;
      // Fisher-Yates; the r-th swap draws from its own counter.
      for (std::uint64_t r = block_ - 1; r > 0; --r) {
        const std::uint64_t h = hash_words(seed_, kTagLhsPerm, b, j, r);
        // Unbiased enough for r < 2^32 (bias < 2^-32); exact range reduction via 128-bit
        // multiply would be overkill for a stratification permutation.
        const std::uint64_t s = h % (r + 1);
        std::swap(p[r], p[s]);
      }
    }
    cached_block_ = b;
    have_block_ = true;
  }

  // Guard against rounding pushing (k + u) / B out of [k/B, (k+1)/B) as seen by floor(x*B).
  static double clamp_to_stratum(double x, std::uint64_t k, double B) {
    const double kd = static_cast<double>(k);
    while (x > 0.0 && std::floor(x * B) > kd) x = std::nextafter(x, 0.0);
    while (std::floor(x * B) < kd) x = std::nextafter(x, 1.0);
    return std::min(x, std::nextafter(1.0, 0.0));
  }

  std::uint64_t seed_;
  std::uint64_t block_;
  std::uint64_t pos_ = 0;
  std::vector<std::uint64_t> perm_;  // dim_ x block_, row j = permutation of dimension j
  std::uint64_t cached_block_ = 0;
  bool have_block_ = false;
};

// ---------------------------------------------------------------------------------------
// Halton
// ---------------------------------------------------------------------------------------

std::vector<std::uint64_t> first_primes(std::size_t count) {
  std::vector<std::uint64_t> primes;
  primes.reserve(count);
  for (std::uint64_t c = 2; primes.size() < count; ++c) {
    bool prime = true;
    for (std::uint64_t p : primes) {
      if (p * p > c) break;
      if (c % p == 0) {
        prime = false;
        break;
      }
    }
    if (prime) primes.push_back(c);
  }
  return primes;
}

// Radical inverse of i in base b: digits of i mirrored about the radix point.
double radical_inverse(std::uint64_t i, std::uint64_t base) {
  const double inv = 1.0 / static_cast<double>(base);
  double f = inv;
  double r = 0.0;
  while (i > 0) {
    r += static_cast<double>(i % base) * f;
    i /= base;
    f *= inv;
  }
  return r;
}

// Position n is the Halton point of index n + 1: index 0 is the origin in every base
// (before the shift), a degenerate corner point, so the sequence starts at index 1.
// Coordinate j = frac(radical_inverse(n + 1, p_j) + shift_j), shift_j ~ U[0,1) from the
// seed (Cranley-Patterson rotation): it keeps the low discrepancy and makes seeds differ.
class HaltonSampler final : public Sampler {
 public:
  HaltonSampler(std::size_t dim, std::uint64_t seed)
      : Sampler(dim), primes_(first_primes(dim)), shift_(dim) {
    for (std::size_t j = 0; j < dim; ++j) shift_[j] = to_unit(hash_words(seed, kTagHaltonShift, j));
  }
  std::string kind() const override { return "halton"; }
  std::vector<double> next_unit() override {
    PDS_CHECK(pos_ < std::numeric_limits<std::uint64_t>::max(),
              "halton sampler exhausted: position " << pos_ << " is the last representable index");
    std::vector<double> x(dim_);
    for (std::size_t j = 0; j < dim_; ++j) {
      double v = radical_inverse(pos_ + 1, primes_[j]) + shift_[j];
      if (v >= 1.0) v -= 1.0;  // exact for v in [1, 2)
      x[j] = v;
    }
    ++pos_;
    return x;
  }
  std::uint64_t position() const override { return pos_; }
  void seek(std::uint64_t n) override { pos_ = n; }

 private:
  std::vector<std::uint64_t> primes_;
  std::vector<double> shift_;
  std::uint64_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------
// Sobol
// ---------------------------------------------------------------------------------------

// Joe & Kuo's "new-joe-kuo-6.21201" table (https://web.maths.unsw.edu.au/~fkuo/sobol/),
// rows d = 2..40: degree s of the primitive polynomial, its coefficient word a, and the
// initial direction numbers m_1..m_s. Dimension 1 (van der Corput, base 2) has no row.
// The rows were checked against independent public copies of the table.
struct JoeKuoRow {
  unsigned s;
  unsigned a;
  std::array<unsigned, 8> m;
};

constexpr JoeKuoRow kJoeKuo[] = {
    {1, 0, {1}},                                //  2
    {2, 1, {1, 3}},                             //  3
    {3, 1, {1, 3, 1}},                          //  4
    {3, 2, {1, 1, 1}},                          //  5
    {4, 1, {1, 1, 3, 3}},                       //  6
    {4, 4, {1, 3, 5, 13}},                      //  7
    {5, 2, {1, 1, 5, 5, 17}},                   //  8
    {5, 4, {1, 1, 5, 5, 5}},                    //  9
    {5, 7, {1, 1, 7, 11, 19}},                  // 10
    {5, 11, {1, 1, 5, 1, 1}},                   // 11
    {5, 13, {1, 1, 1, 3, 11}},                  // 12
    {5, 14, {1, 3, 5, 5, 31}},                  // 13
    {6, 1, {1, 3, 3, 9, 7, 49}},                // 14
    {6, 13, {1, 1, 1, 15, 21, 21}},             // 15
    {6, 16, {1, 3, 1, 13, 27, 49}},             // 16
    {6, 19, {1, 1, 1, 15, 7, 5}},               // 17
    {6, 22, {1, 3, 1, 15, 13, 25}},             // 18
    {6, 25, {1, 1, 5, 5, 19, 61}},              // 19
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},         // 20
    {7, 4, {1, 3, 7, 13, 13, 15, 69}},          // 21
    {7, 7, {1, 1, 3, 13, 7, 35, 63}},           // 22
    {7, 8, {1, 3, 5, 9, 1, 25, 53}},            // 23
    {7, 14, {1, 3, 1, 13, 9, 35, 107}},         // 24
    {7, 19, {1, 3, 1, 5, 27, 61, 31}},          // 25
    {7, 21, {1, 1, 5, 11, 19, 41, 61}},         // 26
    {7, 28, {1, 3, 5, 3, 3, 13, 69}},           // 27
    {7, 31, {1, 1, 7, 13, 1, 19, 1}},           // 28
    {7, 32, {1, 3, 7, 5, 13, 19, 59}},          // 29
    {7, 37, {1, 1, 3, 9, 25, 29, 41}},          // 30
    {7, 41, {1, 3, 5, 13, 23, 1, 55}},          // 31
    {7, 42, {1, 3, 7, 3, 13, 59, 17}},          // 32
    {7, 50, {1, 3, 1, 3, 5, 53, 69}},           // 33
    {7, 55, {1, 1, 5, 5, 23, 33, 13}},          // 34
    {7, 56, {1, 1, 7, 7, 1, 61, 123}},          // 35
    {7, 59, {1, 1, 7, 9, 13, 61, 49}},          // 36
    {7, 62, {1, 3, 3, 5, 3, 55, 33}},           // 37
    {8, 14, {1, 3, 1, 15, 31, 13, 49, 245}},    // 38
    {8, 21, {1, 3, 5, 15, 31, 59, 63, 97}},     // 39
    {8, 22, {1, 3, 1, 11, 11, 11, 77, 249}},    // 40
};

constexpr std::size_t kSobolMaxDim = 1 + sizeof(kJoeKuo) / sizeof(kJoeKuo[0]);
constexpr unsigned kSobolBits = 32;

// 32-bit direction numbers v_1..v_32 of dimension `dim` (1-based), as in Joe & Kuo's
// reference implementation: v_i = m_i << (32 - i), then the recurrence
// v_i = v_{i-s} ^ (v_{i-s} >> s) ^ XOR_k a_k v_{i-k}.
std::array<std::uint32_t, kSobolBits> sobol_directions(std::size_t dim) {
  std::array<std::uint32_t, kSobolBits> v{};
  if (dim == 1) {
    for (unsigned i = 1; i <= kSobolBits; ++i) v[i - 1] = std::uint32_t{1} << (kSobolBits - i);
    return v;
  }
  const JoeKuoRow& row = kJoeKuo[dim - 2];
  const unsigned s = row.s;
  for (unsigned i = 1; i <= std::min(s, kSobolBits); ++i)
    v[i - 1] = static_cast<std::uint32_t>(row.m[i - 1]) << (kSobolBits - i);
  for (unsigned i = s + 1; i <= kSobolBits; ++i) {
    std::uint32_t x = v[i - s - 1] ^ (v[i - s - 1] >> s);
    for (unsigned k = 1; k <= s - 1; ++k)
      x ^= ((row.a >> (s - 1 - k)) & 1u) * v[i - k - 1];
    v[i - 1] = x;
  }
  return v;
}

// Point n (0-based; point 0 is the origin before the shift) in Gray-code order, built
// directly: x_n = XOR of v_i over the set bits i of gray(n) = n ^ (n >> 1). This is the
// same sequence as Joe & Kuo's Gray-code generator, and seek is O(1). A seeded random
// digital shift (XOR with a 32-bit word per dimension) is applied; it preserves the
// (t,m,s)-net structure. 32-bit precision: at most 2^32 points.
class SobolSampler final : public Sampler {
 public:
  SobolSampler(std::size_t dim, std::uint64_t seed) : Sampler(dim), v_(dim), shift_(dim) {
    PDS_CHECK(dim <= kSobolMaxDim, "sobol sampler supports dimensions 1.." << kSobolMaxDim
                                       << " (Joe-Kuo direction numbers), got dim = " << dim
                                       << "; use kind 'halton', 'lhs' or 'uniform' instead");
    for (std::size_t j = 0; j < dim; ++j) {
      v_[j] = sobol_directions(j + 1);
      shift_[j] = static_cast<std::uint32_t>(hash_words(seed, kTagSobolShift, j) >> 32);
    }
  }
  std::string kind() const override { return "sobol"; }
  std::vector<double> next_unit() override {
    PDS_CHECK(pos_ < (std::uint64_t{1} << kSobolBits),
              "sobol sampler exhausted: 32-bit Sobol points are limited to 2^32 = "
                  << (std::uint64_t{1} << kSobolBits) << " points, position is " << pos_);
    const std::uint64_t gray = pos_ ^ (pos_ >> 1);
    std::vector<double> x(dim_);
    for (std::size_t j = 0; j < dim_; ++j) {
      std::uint32_t w = shift_[j];
      for (unsigned i = 0; i < kSobolBits; ++i)
        if ((gray >> i) & 1u) w ^= v_[j][i];
      x[j] = static_cast<double>(w) * 0x1.0p-32;
    }
    ++pos_;
    return x;
  }
  std::uint64_t position() const override { return pos_; }
  void seek(std::uint64_t n) override { pos_ = n; }

 private:
  std::vector<std::array<std::uint32_t, kSobolBits>> v_;
  std::vector<std::uint32_t> shift_;
  std::uint64_t pos_ = 0;
};

void check_range(const std::string& name, double low, double high) {
  PDS_CHECK(!name.empty(), "parameter names must be non-empty");
  PDS_CHECK(std::isfinite(low) && std::isfinite(high),
            "parameter '" << name << "': expected a finite range [low, high], got [" << low
                          << ", " << high << "]");
  PDS_CHECK(low <= high, "parameter '" << name << "': expected low <= high, got [" << low << ", "
                                       << high << "]");
}

}  // namespace

// ---------------------------------------------------------------------------------------
// ParameterSpace
// ---------------------------------------------------------------------------------------

ParameterSpace::ParameterSpace(std::vector<ParameterRange> ranges) {
  for (auto& r : ranges) add(r.name, r.low, r.high);
}

ParameterSpace ParameterSpace::from_section(SectionReader& section) {
  ParameterSpace space;
  // Parameter order = sorted key order (sorted here too, whatever the reader's order).
  std::vector<std::string> keys = section.keys();
  std::sort(keys.begin(), keys.end());
  for (const std::string& key : keys) {
    if (!section.is_table(key)) {
      const auto [low, high] = section.get_range(key);
      space.add(key, low, high);
      continue;
    }
    section.accept(key);
    SectionReader table(section.config(), section.section() + "." + key);
    PDS_CHECK(table.has("values") != table.has("range"),
              section.where(key) << ": expected a table with either range = [low, high] (and scale) or values = "
                                    "[...], got keys " << join(table.keys()));
    if (table.has("values")) {
      space.add_values(key, table.get_doubles("values"));
    } else {
      const auto [low, high] = table.get_range("range");
      if (table.get_string("scale", "linear", {"linear", "log"}) == "log") {
        PDS_CHECK(low > 0, table.where("range") << ": a log scale needs low > 0, got [" << low << ", " << high << "]");
        space.add_log(key, low, high);
      } else {
        space.add(key, low, high);
      }
    }
    table.finish();
  }
  return space;
}

void ParameterSpace::add(const std::string& name, double low, double high) {
  check_range(name, low, high);
  PDS_CHECK(!contains(name), "parameter '" << name << "' is defined twice");
  ranges_.push_back({name, low, high});
}

void ParameterSpace::add_log(const std::string& name, double low, double high) {
  PDS_CHECK(low > 0, "parameter '" << name << "': a log scale needs low > 0, got [" << low << ", " << high << "]");
  add(name, low, high);
  ranges_.back().scale = "log";
}

void ParameterSpace::add_values(const std::string& name, std::vector<double> values) {
  PDS_CHECK(!values.empty(), "parameter '" << name << "': expected at least one value");
  for (double v : values) PDS_CHECK(std::isfinite(v), "parameter '" << name << "': expected finite values, got " << v);
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  add(name, *lo, *hi);
  ranges_.back().values = std::move(values);
}

double ParameterRange::at(double u) const {
  if (!values.empty()) {
    const auto n = values.size();
    return values[std::min(n - 1, static_cast<std::size_t>(u * static_cast<double>(n)))];
  }
  const double v = scale == "log" ? std::exp(std::log(low) + u * (std::log(high) - std::log(low)))
                                  : low + u * (high - low);
  // Kept inside [low, high] despite rounding.
  return std::min(high, std::max(low, v));
}

std::string ParameterRange::describe() const {
  std::ostringstream os;
  if (!values.empty()) {
    os << "{";
    for (std::size_t i = 0; i < values.size(); ++i) os << (i ? ", " : "") << values[i];
    os << "}";
  } else {
    os << "[" << low << ", " << high << "]" << (scale == "log" ? " log" : "");
  }
  return os.str();
}

std::vector<std::string> ParameterSpace::names() const {
  std::vector<std::string> out;
  out.reserve(ranges_.size());
  for (const auto& r : ranges_) out.push_back(r.name);
  return out;
}

bool ParameterSpace::contains(const std::string& name) const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const ParameterRange& r) { return r.name == name; });
}

Parameters ParameterSpace::to_parameters(const std::vector<double>& unit_point) const {
  PDS_CHECK(unit_point.size() == ranges_.size(),
            "expected a unit point of dimension " << ranges_.size() << " (parameters: "
                                                  << join(names()) << "), got dimension "
                                                  << unit_point.size());
  Parameters out;
  for (std::size_t j = 0; j < ranges_.size(); ++j) {
    const double u = unit_point[j];
    const ParameterRange& r = ranges_[j];
    PDS_CHECK(u >= 0.0 && u <= 1.0, "unit point coordinate " << j << " (parameter '" << r.name
                                                             << "'): expected a value in [0, 1], got "
                                                             << u);
    out[r.name] = r.at(u);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Samplers
// ---------------------------------------------------------------------------------------

std::vector<std::vector<double>> Sampler::take_unit(std::size_t n) {
  std::vector<std::vector<double>> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(next_unit());
  return out;
}

const std::vector<std::string>& sampler_kinds() {
  static const std::vector<std::string> kinds{"uniform", "lhs", "halton", "sobol"};
  return kinds;
}

std::unique_ptr<Sampler> make_sampler(const std::string& kind, std::size_t dim, std::uint64_t seed,
                                      std::uint64_t lhs_block) {
  const auto& kinds = sampler_kinds();
  PDS_CHECK(std::find(kinds.begin(), kinds.end(), kind) != kinds.end(),
            "unknown sampler kind '" << kind << "'; expected one of: " << join(kinds));
  PDS_CHECK(dim > 0, "sampler '" << kind << "': expected a dimension >= 1 (at least one "
                                    "parameter), got 0");
  if (kind == "uniform") return std::make_unique<UniformSampler>(dim, seed);
  if (kind == "lhs") {
    PDS_CHECK(lhs_block >= 1, "sampler 'lhs': expected lhs_block >= 1, got 0");
    // The block's permutations are held in memory (dim x lhs_block words).
    constexpr std::uint64_t kMaxBlock = std::uint64_t{1} << 26;
    PDS_CHECK(lhs_block <= kMaxBlock / dim,
              "sampler 'lhs': lhs_block x dim must be <= " << kMaxBlock << ", got lhs_block = "
                                                            << lhs_block << ", dim = " << dim);
    return std::make_unique<LhsSampler>(dim, seed, lhs_block);
  }
  if (kind == "halton") return std::make_unique<HaltonSampler>(dim, seed);
  return std::make_unique<SobolSampler>(dim, seed);
}

// ---------------------------------------------------------------------------------------
// ParameterSampler
// ---------------------------------------------------------------------------------------

ParameterSampler::ParameterSampler(ParameterSpace space, std::unique_ptr<Sampler> sampler)
    : space_(std::move(space)), sampler_(std::move(sampler)) {
  PDS_CHECK(sampler_ != nullptr, "ParameterSampler: expected a sampler, got null");
  PDS_CHECK(sampler_->dim() == space_.size(),
            "ParameterSampler: the " << sampler_->kind() << " sampler has dimension "
                                     << sampler_->dim() << " but the parameter space has "
                                     << space_.size() << " parameters (" << join(space_.names())
                                     << ")");
}

Parameters ParameterSampler::next() { return space_.to_parameters(sampler_->next_unit()); }

std::vector<Parameters> ParameterSampler::take(std::size_t n) {
  std::vector<Parameters> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(next());
  return out;
}

// ---------------------------------------------------------------------------------------
// Discrepancy
// ---------------------------------------------------------------------------------------

// Warnock's formula for the L2-star discrepancy of N points in [0,1]^d:
//   D^2 = 3^-d - (2^(1-d) / N) sum_i prod_k (1 - x_ik^2)
//         + (1 / N^2) sum_i sum_j prod_k (1 - max(x_ik, x_jk)).
// Returns D (not D^2). O(N^2 d).
double l2_star_discrepancy(const std::vector<std::vector<double>>& points) {
  PDS_CHECK(!points.empty(), "l2_star_discrepancy: expected at least one point, got none");
  const std::size_t n = points.size();
  const std::size_t d = points[0].size();
  PDS_CHECK(d > 0, "l2_star_discrepancy: expected points of dimension >= 1, got 0");
  for (std::size_t i = 0; i < n; ++i) {
    PDS_CHECK(points[i].size() == d, "l2_star_discrepancy: expected every point to have dimension "
                                         << d << ", point " << i << " has " << points[i].size());
    for (std::size_t k = 0; k < d; ++k)
      PDS_CHECK(points[i][k] >= 0.0 && points[i][k] <= 1.0,
                "l2_star_discrepancy: expected coordinates in [0, 1], point "
                    << i << " coordinate " << k << " is " << points[i][k]);
  }
  const double N = static_cast<double>(n);
  const double term1 = std::pow(3.0, -static_cast<double>(d));
  double sum2 = 0.0;
  for (const auto& x : points) {
    double p = 1.0;
    for (double xk : x) p *= 1.0 - xk * xk;
    sum2 += p;
  }
  const double term2 = std::pow(2.0, 1.0 - static_cast<double>(d)) / N * sum2;
  double sum3 = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& xi = points[i];
    // Diagonal once, off-diagonal pairs twice (the double sum is symmetric).
    double diag = 1.0;
    for (std::size_t k = 0; k < d; ++k) diag *= 1.0 - xi[k];
    sum3 += diag;
    for (std::size_t j = i + 1; j < n; ++j) {
      const auto& xj = points[j];
      double p = 1.0;
      for (std::size_t k = 0; k < d; ++k) p *= 1.0 - std::max(xi[k], xj[k]);
      sum3 += 2.0 * p;
    }
  }
  const double term3 = sum3 / (N * N);
  const double d2 = term1 - term2 + term3;
  return std::sqrt(std::max(0.0, d2));
}

}  // namespace pdestream
