#include "linear_systems/learners.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <istream>
#include <limits>
#include <numeric>
#include <ostream>
#include <sstream>

#include "core/error.hpp"

namespace pdestream::linear_systems {

std::vector<double> omega_grid(int n, double lo, double hi) {
  PDS_CHECK(n >= 1, "an omega grid needs at least 1 arm, got " << n);
  PDS_CHECK(lo > 0 && hi < 2 && lo <= hi,
            "an omega grid needs 0 < lo <= hi < 2, got [" << lo << ", " << hi << "]");
  std::vector<double> g(n);
  for (int i = 0; i < n; ++i) g[i] = n == 1 ? lo : lo + (hi - lo) * i / (n - 1);
  return g;
}

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double SplitMix64::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

Learner::Learner(const LearnerOptions& options)
    : options_(options), rng_(options.seed ^ 0x5DEECE66Dull) {
  PDS_CHECK(!options_.arms.empty(), "a learner needs at least one arm, got none");
  probabilities_.assign(options_.arms.size(), 1.0 / options_.arms.size());
}

double Learner::normalise(double context) const {
  const double lo = options_.context_lo, hi = options_.context_hi;
  if (!(hi > lo)) return 0.5;
  return std::clamp((context - lo) / (hi - lo), 0.0, 1.0);
}

int Learner::choose(double context) {
  PDS_CHECK(pending_arm_ < 0, name() << " learner: choose() called twice without observe() in between");
  PDS_CHECK(std::isfinite(context), name() << " learner: expected a finite context, got " << context);
  pending_z_ = normalise(context);
  pending_arm_ = choose_arm(pending_z_);
  return pending_arm_;
}

void Learner::observe(double cost) {
  PDS_CHECK(pending_arm_ >= 0, name() << " learner: observe() without a preceding choose()");
  PDS_CHECK(!std::isnan(cost), name() << " learner: expected a cost in [0, 1], got NaN");
  update(pending_arm_, pending_z_, std::clamp(cost, 0.0, 1.0));
  pending_arm_ = -1;
  ++rounds_;
}

int Learner::sample(const std::vector<double>& p) {
  const double u = rng_.uniform();
  double acc = 0.0;
  int last = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0) continue;
    acc += p[i];
    last = static_cast<int>(i);
    if (u < acc) return last;
  }
  return last;  // rounding: the last arm with positive mass
}

namespace {

constexpr const char* kMagic = "pdestream-learner";

void write_vec(std::ostream& out, const std::vector<double>& v) {
  out << v.size();
  for (double x : v) out << ' ' << x;
  out << '\n';
}

std::vector<double> read_vec(std::istream& in, const char* what) {
  std::size_t n = 0;
  in >> n;
  PDS_CHECK(in && n < (1u << 26), "learner state: expected the length of " << what << ", got garbage");
  std::vector<double> v(n);
  for (auto& x : v) in >> x;
  PDS_CHECK(in, "learner state: truncated " << what);
  return v;
}

}  // namespace

void Learner::save(std::ostream& out) const {
  PDS_CHECK(pending_arm_ < 0, name() << " learner: cannot save between choose() and observe()");
  const auto old_precision = out.precision(17);
  out << kMagic << " 1 " << name() << '\n';
  write_vec(out, options_.arms);
  out << options_.seed << ' ' << options_.context_lo << ' ' << options_.context_hi << ' ' << options_.degree
      << ' ' << options_.gamma << ' ' << options_.ridge << ' ' << options_.bins << '\n';
  out << rounds_ << ' ' << rng_.state() << '\n';
  write_vec(out, probabilities_);
  save_state(out);
  out.precision(old_precision);
}

void Learner::load(std::istream& in) {
  std::string magic, kind;
  int version = 0;
  in >> magic >> version >> kind;
  PDS_CHECK(in && magic == kMagic && version == 1,
            "learner state: expected a '" << kMagic << " 1' header, got '" << magic << " " << version << "'");
  PDS_CHECK(kind == name(), "learner state: expected a " << name() << " learner, got " << kind);
  auto arms = read_vec(in, "arms");
  PDS_CHECK(arms.size() == options_.arms.size(), "learner state: expected " << options_.arms.size()
                                                                           << " arms, got " << arms.size());
  LearnerOptions o = options_;
  o.arms = arms;
  in >> o.seed >> o.context_lo >> o.context_hi >> o.degree >> o.gamma >> o.ridge >> o.bins;
  std::uint64_t rng_state = 0;
  in >> rounds_ >> rng_state;
  PDS_CHECK(in, "learner state: truncated header");
  PDS_CHECK(o.degree == options_.degree && o.bins == options_.bins,
            "learner state: expected degree " << options_.degree << " and " << options_.bins
                                              << " bins, got degree " << o.degree << " and " << o.bins << " bins");
  options_ = o;
  rng_.set_state(rng_state);
  probabilities_ = read_vec(in, "probabilities");
  load_state(in);
  PDS_CHECK(in, "learner state: truncated " << name() << " state");
  pending_arm_ = -1;
}

std::string Learner::state() const {
  std::ostringstream os;
  save(os);
  return os.str();
}

void Learner::restore(const std::string& state) {
  std::istringstream is(state);
  load(is);
}

std::vector<double> tsallis_weights(const std::vector<double>& L, double eta) {
  const double lmin = *std::min_element(L.begin(), L.end());
  // At x = min L - 2/eta the best arm alone has weight 1, so the sum is >= 1; the sum is
  // convex and increasing in x, so Newton from this side decreases x monotonically.
  double x = lmin - 2.0 / eta;
  std::vector<double> w(L.size());
  for (int it = 0; it < 100; ++it) {
    double sum = 0.0, slope = 0.0;
    for (std::size_t i = 0; i < L.size(); ++i) {
      const double d = eta * (L[i] - x);
      w[i] = 4.0 / (d * d);
      sum += w[i];
      slope += eta * w[i] * std::sqrt(w[i]);
    }
    if (std::abs(sum - 1.0) < 1e-12) break;
    x -= (sum - 1.0) / slope;
  }
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  for (auto& v : w) v /= total;
  return w;
}

namespace {

// The loss estimate shared by Tsallis-INF (per bin in the binned learner) and Exp3 (scale only:
// with negative estimates from a rarely played arm, exponential weights lock onto that arm).
//
// Costs are iterations / cap, so with counts that vary 20-fold over a sequence they are mostly
// a small fraction of 1, and a learning rate tuned for losses of order 1 (eta_t = 2/sqrt(t))
// hardly moves: the learner stays close to uniform. Two standard changes keep the objective
// (the total cost, so the best fixed arm in hindsight is unchanged) and the estimator unbiased:
//   scale     costs are divided by the running mean of the observed costs, i.e. the learning
//             rate is measured in units of the typical cost (a multiplicative change of all
//             costs leaves the learner's choices unchanged);
//   baseline  importance weighting of (cost - b_t) with b_t an exponential moving average of
//             the previously observed (scaled) costs; b_t is known before the draw, so adding
//             it back to every arm (a constant shift, which the weights ignore) leaves the
//             estimate unbiased, while it removes the cost level shared by all arms -- the part
//             that drifts with the instance -- from the variance (the reduced-variance
//             estimator of Zimmert & Seldin, JMLR 2021, with a learned instead of a fixed 1/2
//             baseline). Zimmert & Seldin drop the baseline when p < eta^2; on the heat2d
//             sequence that guard (it disables the baseline for the first rounds, where most of
//             the learning happens) doubled the gap to the best fixed omega, so it is not used.
struct ScaledLoss {
  static constexpr double kDecay = 0.2;  // weight of the newest cost in the baseline
  bool use_baseline = true;              // Exp3: off (its analysis needs eta * estimate >= -1)
  double sum = 0.0;                      // observed costs
  double count = 0.0;                    // observations
  double baseline = -1.0;                // EMA of previous raw costs; < 0: none yet

  // Importance-weighted estimate for the played arm (probability p, rate eta).
  double estimate(double cost, double p) {
    sum += cost;
    count += 1.0;
    const double scale = sum / count;
    const double b = use_baseline && baseline >= 0 ? baseline : 0.0;
    baseline = baseline < 0 ? cost : (1.0 - kDecay) * baseline + kDecay * cost;
    if (!(scale > 0)) return 0.0;  // every cost so far was 0
    return (cost - b) / scale / p;
  }
  void save(std::ostream& out) const { out << sum << ' ' << count << ' ' << baseline << '\n'; }
  void load(std::istream& in) { in >> sum >> count >> baseline; }
};

class TsallisInf final : public Learner {
 public:
  explicit TsallisInf(const LearnerOptions& o) : Learner(o), L_(o.arms.size(), 0.0) {}
  std::string name() const override { return "tsallis"; }
  bool scale_free() const override { return true; }
  int best_arm(double) const override {
    return static_cast<int>(std::min_element(L_.begin(), L_.end()) - L_.begin());
  }

  static double rate(std::uint64_t t) { return 2.0 / std::sqrt(static_cast<double>(t)); }
  // Also used per bin by the binned learner, which keeps its own round counters.
  int draw(std::uint64_t t, SplitMix64& rng, std::vector<double>& p) {
    p = tsallis_weights(L_, rate(t));
    const double u = rng.uniform();
    double acc = 0.0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      acc += p[i];
      if (u < acc) return static_cast<int>(i);
    }
    return static_cast<int>(p.size()) - 1;
  }
  // t: the round of the draw that chose arm (as passed to draw()).
  void feed(std::uint64_t t, int arm, double cost, const std::vector<double>& p) {
    L_[arm] += loss_.estimate(cost, p[arm]);
  }
  std::vector<double>& losses() { return L_; }
  const std::vector<double>& losses() const { return L_; }
  void save_losses(std::ostream& out) const {
    write_vec(out, L_);
    loss_.save(out);
  }
  void load_losses(std::istream& in) {
    L_ = read_vec(in, "losses");
    PDS_CHECK(L_.size() == options_.arms.size(), "learner state: loss vector has the wrong length");
    loss_.load(in);
  }

 protected:
  int choose_arm(double) override { return draw(rounds_ + 1, rng_, probabilities_); }
  void update(int arm, double, double cost) override { feed(rounds_ + 1, arm, cost, probabilities_); }
  void save_state(std::ostream& out) const override { save_losses(out); }
  void load_state(std::istream& in) override { load_losses(in); }

 private:
  std::vector<double> L_;
  ScaledLoss loss_;
};

class Exp3 final : public Learner {
 public:
  explicit Exp3(const LearnerOptions& o) : Learner(o), L_(o.arms.size(), 0.0) { loss_.use_baseline = false; }
  std::string name() const override { return "exp3"; }
  bool scale_free() const override { return true; }
  int best_arm(double) const override {
    return static_cast<int>(std::min_element(L_.begin(), L_.end()) - L_.begin());
  }

 protected:
  double rate() const {
    const double K = static_cast<double>(L_.size());
    return std::sqrt(2.0 * std::log(std::max(K, 2.0)) / (K * (rounds_ + 1)));
  }
  int choose_arm(double) override {
    const double eta = rate();
    const double lmin = *std::min_element(L_.begin(), L_.end());
    double sum = 0.0;
    for (std::size_t i = 0; i < L_.size(); ++i) sum += probabilities_[i] = std::exp(-eta * (L_[i] - lmin));
    for (auto& p : probabilities_) p /= sum;
    return sample(probabilities_);
  }
  void update(int arm, double, double cost) override {
    L_[arm] += loss_.estimate(cost, probabilities_[arm]);
  }
  void save_state(std::ostream& out) const override {
    write_vec(out, L_);
    loss_.save(out);
  }
  void load_state(std::istream& in) override {
    L_ = read_vec(in, "losses");
    loss_.load(in);
  }

 private:
  std::vector<double> L_;
  ScaledLoss loss_;
};

class Ucb1 final : public Learner {
 public:
  explicit Ucb1(const LearnerOptions& o)
      : Learner(o), sum_(o.arms.size(), 0.0), count_(o.arms.size(), 0.0), order_(o.arms.size()) {
    // A seeded order for the initial round-robin, so ties do not always favour arm 0.
    std::iota(order_.begin(), order_.end(), 0.0);
    for (std::size_t i = order_.size(); i > 1; --i)
      std::swap(order_[i - 1], order_[static_cast<std::size_t>(rng_.uniform() * i)]);
  }
  std::string name() const override { return "ucb1"; }
  int best_arm(double) const override {
    int best = 0;
    double best_mean = -1;
    for (std::size_t i = 0; i < sum_.size(); ++i) {
      const double m = count_[i] > 0 ? sum_[i] / count_[i] : -1;
      if (m > best_mean) best_mean = m, best = static_cast<int>(i);
    }
    return best;
  }

 protected:
  int choose_arm(double) override {
    const std::size_t K = sum_.size();
    int arm = -1;
    if (rounds_ < K) {
      arm = static_cast<int>(order_[rounds_]);
    } else {
      double best = -std::numeric_limits<double>::infinity();
      const double log_t = std::log(static_cast<double>(rounds_ + 1));
      for (std::size_t i = 0; i < K; ++i) {
        const double score = sum_[i] / count_[i] + std::sqrt(2.0 * log_t / count_[i]);
        if (score > best) best = score, arm = static_cast<int>(i);
      }
    }
    std::fill(probabilities_.begin(), probabilities_.end(), 0.0);
    probabilities_[arm] = 1.0;
    return arm;
  }
  void update(int arm, double, double cost) override {
    sum_[arm] += 1.0 - cost;
    count_[arm] += 1.0;
  }
  void save_state(std::ostream& out) const override {
    write_vec(out, sum_);
    write_vec(out, count_);
    write_vec(out, order_);
  }
  void load_state(std::istream& in) override {
    sum_ = read_vec(in, "reward sums");
    count_ = read_vec(in, "counts");
    order_ = read_vec(in, "order");
  }

 private:
  std::vector<double> sum_, count_, order_;
};

// Solve the SPD system M x = r (D <= ~16) by Cholesky; M is small and well conditioned
// thanks to the ridge term.
std::vector<double> solve_spd(std::vector<double> M, std::vector<double> r, int D) {
  for (int j = 0; j < D; ++j) {
    double d = M[j * D + j];
    for (int k = 0; k < j; ++k) d -= M[j * D + k] * M[j * D + k];
    d = std::sqrt(std::max(d, 1e-300));
    M[j * D + j] = d;
    for (int i = j + 1; i < D; ++i) {
      double s = M[i * D + j];
      for (int k = 0; k < j; ++k) s -= M[i * D + k] * M[j * D + k];
      M[i * D + j] = s / d;
    }
  }
  for (int i = 0; i < D; ++i) {
    for (int k = 0; k < i; ++k) r[i] -= M[i * D + k] * r[k];
    r[i] /= M[i * D + i];
  }
  for (int i = D - 1; i >= 0; --i) {
    for (int k = i + 1; k < D; ++k) r[i] -= M[k * D + i] * r[k];
    r[i] /= M[i * D + i];
  }
  return r;
}

class ChebCB final : public Learner {
 public:
  explicit ChebCB(const LearnerOptions& o) : Learner(o) {
    PDS_CHECK(o.degree >= 0 && o.degree <= 12, "chebcb: expected a Chebyshev degree in [0, 12], got " << o.degree);
    PDS_CHECK(o.gamma > 0, "chebcb: expected gamma > 0, got " << o.gamma);
    PDS_CHECK(o.ridge > 0, "chebcb: expected ridge > 0, got " << o.ridge);
    const int D = o.degree + 1;
    gram_.assign(o.arms.size(), std::vector<double>(D * D, 0.0));
    for (auto& g : gram_)
      for (int i = 0; i < D; ++i) g[i * D + i] = o.ridge;
    moment_.assign(o.arms.size(), std::vector<double>(D, 0.0));
  }
  std::string name() const override { return "chebcb"; }
  bool contextual() const override { return true; }
  int best_arm(double context) const override {
    auto y = predict(normalise(context));
    return static_cast<int>(std::min_element(y.begin(), y.end()) - y.begin());
  }

 protected:
  int choose_arm(double z) override {
    const auto y = predict(z);
    const std::size_t K = y.size();
    const int best = static_cast<int>(std::min_element(y.begin(), y.end()) - y.begin());
    const double gamma = options_.gamma * std::sqrt(static_cast<double>(K) * (rounds_ + 1));
    double rest = 0.0;
    for (std::size_t i = 0; i < K; ++i) {
      if (static_cast<int>(i) == best) continue;
      probabilities_[i] = 1.0 / (K + gamma * (y[i] - y[best]));
      rest += probabilities_[i];
    }
    probabilities_[best] = 1.0 - rest;
    return sample(probabilities_);
  }
  void update(int arm, double z, double cost) override {
    const auto phi = features(z);
    const int D = static_cast<int>(phi.size());
    for (int i = 0; i < D; ++i) {
      moment_[arm][i] += phi[i] * cost;
      for (int j = 0; j < D; ++j) gram_[arm][i * D + j] += phi[i] * phi[j];
    }
  }
  void save_state(std::ostream& out) const override {
    for (const auto& g : gram_) write_vec(out, g);
    for (const auto& m : moment_) write_vec(out, m);
  }
  void load_state(std::istream& in) override {
    for (auto& g : gram_) g = read_vec(in, "gram matrix");
    for (auto& m : moment_) m = read_vec(in, "moments");
  }

 private:
  std::vector<double> features(double z) const {
    const double x = 2.0 * z - 1.0;
    std::vector<double> T(options_.degree + 1);
    T[0] = 1.0;
    if (options_.degree >= 1) T[1] = x;
    for (int k = 2; k <= options_.degree; ++k) T[k] = 2.0 * x * T[k - 1] - T[k - 2];
    return T;
  }
  // Ridge estimates shrink towards cost 0, i.e. optimism for arms seldom played.
  std::vector<double> predict(double z) const {
    const auto phi = features(z);
    const int D = static_cast<int>(phi.size());
    std::vector<double> y(gram_.size());
    for (std::size_t a = 0; a < gram_.size(); ++a) {
      const auto theta = solve_spd(gram_[a], moment_[a], D);
      y[a] = std::inner_product(theta.begin(), theta.end(), phi.begin(), 0.0);
    }
    return y;
  }

  std::vector<std::vector<double>> gram_, moment_;
};

class BinnedTsallis final : public Learner {
 public:
  explicit BinnedTsallis(const LearnerOptions& o) : Learner(o) {
    PDS_CHECK(o.bins >= 1 && o.bins <= 1000, "binned: expected 1..1000 bins, got " << o.bins);
    for (int b = 0; b < o.bins; ++b) bins_.emplace_back(o);
    counts_.assign(o.bins, 0.0);
  }
  std::string name() const override { return "binned"; }
  bool scale_free() const override { return true; }
  bool contextual() const override { return true; }
  int best_arm(double context) const override { return bins_[bin(normalise(context))].best_arm(0.0); }

 protected:
  int choose_arm(double z) override {
    const int b = bin(z);
    return bins_[b].draw(static_cast<std::uint64_t>(counts_[b]) + 1, rng_, probabilities_);
  }
  void update(int arm, double z, double cost) override {
    const int b = bin(z);
    bins_[b].feed(static_cast<std::uint64_t>(counts_[b]) + 1, arm, cost, probabilities_);
    counts_[b] += 1.0;
  }
  void save_state(std::ostream& out) const override {
    write_vec(out, counts_);
    for (const auto& t : bins_) t.save_losses(out);
  }
  void load_state(std::istream& in) override {
    counts_ = read_vec(in, "bin counts");
    for (auto& t : bins_) t.load_losses(in);
  }

 private:
  int bin(double z) const { return std::min(options_.bins - 1, static_cast<int>(z * options_.bins)); }
  std::vector<TsallisInf> bins_;
  std::vector<double> counts_;
};

class Fixed final : public Learner {
 public:
  explicit Fixed(const LearnerOptions& o) : Learner(o) {
    std::fill(probabilities_.begin(), probabilities_.end(), 0.0);
    probabilities_[0] = 1.0;
  }
  std::string name() const override { return "fixed"; }
  int best_arm(double) const override { return 0; }

 protected:
  int choose_arm(double) override { return 0; }
  void update(int, double, double) override {}
  void save_state(std::ostream&) const override {}
  void load_state(std::istream&) override {}
};

}  // namespace

const std::vector<std::string>& learner_names() {
  static const std::vector<std::string> names = {"tsallis", "exp3", "ucb1", "chebcb", "binned", "fixed"};
  return names;
}

bool is_contextual_learner(const std::string& name) { return name == "chebcb" || name == "binned"; }

std::unique_ptr<Learner> make_learner(const std::string& name, const LearnerOptions& options) {
  if (name == "tsallis") return std::make_unique<TsallisInf>(options);
  if (name == "exp3") return std::make_unique<Exp3>(options);
  if (name == "ucb1") return std::make_unique<Ucb1>(options);
  if (name == "chebcb") return std::make_unique<ChebCB>(options);
  if (name == "binned") return std::make_unique<BinnedTsallis>(options);
  if (name == "fixed") return std::make_unique<Fixed>(options);
  std::ostringstream os;
  for (const auto& n : learner_names()) os << (os.tellp() ? ", " : "") << n;
  PDS_FAIL("unknown learner '" << name << "': expected one of " << os.str());
}

}  // namespace pdestream::linear_systems
