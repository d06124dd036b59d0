#pragma once
// Named parameter ranges and seeded samplers over them.
//
// Samplers are reproducible streams: the same (space, kind, seed) gives the same points,
// and position()/seek() let a resumed job continue exactly where it stopped.
//   kind "uniform": i.i.d. uniform (counter-based splitmix64 hash of (seed, n, dim))
//   kind "lhs":     Latin hypercube in blocks of `lhs_block` points (each block stratified)
//   kind "halton":  Halton sequence (from index 1, skipping the origin) with a seeded
//                   Cranley-Patterson shift
//   kind "sobol":   Sobol sequence (Joe-Kuo new-joe-kuo-6.21201 direction numbers, dims
//                   1..40, 32-bit, Gray-code order from index 0) with a seeded digital shift

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pdestream {

class SectionReader;

// A point in parameter space: name -> value.
using Parameters = std::map<std::string, double>;

// One sampled parameter. [parameters] in a config:
//   ic_seed = [0, 1e9]                                # uniform on [low, high]
//   beta = { range = [0.1, 7.0], scale = "log" }      # log-uniform (low > 0)
//   nu = { values = [0.002, 0.02, 0.2, 2.0] }         # one of the values, each equally likely
// low and high are the extremes in every case (min-max conditioning uses them).
struct ParameterRange {
  std::string name;
  double low = 0.0;
  double high = 1.0;
  std::string scale = "linear";  // linear | log
  std::vector<double> values;    // non-empty: a discrete parameter

  // The value at u in [0, 1] of the unit interval.
  double at(double u) const;
  // "[0.1, 7] log", "{0.2, 0.4}", "[0, 1]": for messages and summaries.
  std::string describe() const;
};

class ParameterSpace {
 public:
  ParameterSpace() = default;
  explicit ParameterSpace(std::vector<ParameterRange> ranges);
  // From a config's [parameters] section (see ParameterRange for the three forms).
  static ParameterSpace from_section(SectionReader& section);

  void add(const std::string& name, double low, double high);
  // A log-uniform parameter (0 < low <= high) and a discrete one (values, each finite).
  void add_log(const std::string& name, double low, double high);
  void add_values(const std::string& name, std::vector<double> values);
  std::size_t size() const { return ranges_.size(); }
  const std::vector<ParameterRange>& ranges() const { return ranges_; }
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;

  // Map a point of the unit cube [0,1)^d to the ranges.
  Parameters to_parameters(const std::vector<double>& unit_point) const;

 private:
  std::vector<ParameterRange> ranges_;
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string kind() const = 0;
  // Next point in the unit cube [0, 1)^dim.
  virtual std::vector<double> next_unit() = 0;
  // Number of points drawn so far; seek(n) makes the next point the n-th (0-based).
  virtual std::uint64_t position() const = 0;
  virtual void seek(std::uint64_t n) = 0;
  std::size_t dim() const { return dim_; }

  // Convenience: n points at once.
  std::vector<std::vector<double>> take_unit(std::size_t n);

 protected:
  explicit Sampler(std::size_t dim) : dim_(dim) {}
  std::size_t dim_;
};

// kind: uniform | lhs | halton | sobol. `lhs_block` is the stratification block size.
std::unique_ptr<Sampler> make_sampler(const std::string& kind, std::size_t dim, std::uint64_t seed,
                                      std::uint64_t lhs_block = 64);
const std::vector<std::string>& sampler_kinds();

// A space and its sampler together: what a coordinator draws work from.
class ParameterSampler {
 public:
  ParameterSampler(ParameterSpace space, std::unique_ptr<Sampler> sampler);
  Parameters next();
  std::vector<Parameters> take(std::size_t n);
  const ParameterSpace& space() const { return space_; }
  Sampler& sampler() { return *sampler_; }

 private:
  ParameterSpace space_;
  std::unique_ptr<Sampler> sampler_;
};

// Discrepancy measures (for tests and diagnostics): L2-star discrepancy (Warnock's
// formula) of points in [0,1]^d; returns D, not D^2.
double l2_star_discrepancy(const std::vector<std::vector<double>>& points);

}  // namespace pdestream
