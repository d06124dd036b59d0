#pragma once
// Online learners that pick one of K arms (here: SOR relaxation factors) from bandit
// feedback, i.e. only the cost of the arm actually played.
//
//   auto learner = make_learner("tsallis", {omega_grid(20)});
//   for (each system) {
//     int arm = learner->choose(context);   // context ignored by non-contextual learners
//     ... solve with omega = learner->arm(arm) ...
//     learner->observe(iterations / cap);  // cost in [0, 1]
//   }
//
// Learners (Khodak et al., "Learning to Relax", ICLR 2024, and the classic baselines):
//   tsallis  Tsallis-INF (alpha = 1/2, Zimmert & Seldin), eta_t = 2/sqrt(t), importance-
//            weighted loss estimates of the cost in units of the running mean cost, relative
//            to a moving baseline (an EMA of the previous costs; see ScaledLoss in the .cpp):
//            multiplying all costs by one factor changes no choice
//   exp3     Exp3 with the anytime rate eta_t = sqrt(2 ln K / (K t)), costs in units of the
//            running mean cost (no baseline)
//   ucb1     UCB1 on rewards 1 - cost (each arm once first, in a seeded random order)
//   chebcb   contextual: per-arm ridge regression of the cost on Chebyshev features of the
//            context, arms drawn by inverse-gap weighting (SquareCB)
//   binned   contextual: one Tsallis-INF per bin of the context range (own scale and baseline)
//   fixed    always the first arm (a baseline that still records through the same path)
//
// Every learner is reproducible from its seed (its own splitmix64 stream, no std::
// distributions whose output differs between standard libraries), and save()/load() restore
// it exactly: a restored learner makes the same choices as the original.

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace pdestream::linear_systems {

struct LearnerOptions {
  std::vector<double> arms;  // the values behind the arms (e.g. omega); at least one
  std::uint64_t seed = 0;
  // Contextual learners: raw contexts are mapped linearly from [context_lo, context_hi] to
  // [0, 1] and clamped; an empty range maps every context to 1/2.
  double context_lo = 0.0;
  double context_hi = 1.0;
  int degree = 3;        // chebcb: Chebyshev degree of the per-arm cost model
  double gamma = 10.0;   // chebcb: inverse-gap weight gamma_t = gamma * sqrt(K t)
  double ridge = 1.0;    // chebcb: ridge regularisation
  int bins = 5;          // binned: number of context bins
};

// linspace(lo, hi, n): the paper's default grid is omega_grid(20, 1.0, 1.95).
std::vector<double> omega_grid(int n, double lo = 1.0, double hi = 1.95);

// A tiny counter-free generator (splitmix64): portable, and its state is one integer.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed = 0) : state_(seed) {}
  std::uint64_t next();
  double uniform();  // [0, 1), 53 bits
  std::uint64_t state() const { return state_; }
  void set_state(std::uint64_t s) { state_ = s; }

 private:
  std::uint64_t state_;
};

class Learner {
 public:
  explicit Learner(const LearnerOptions& options);
  virtual ~Learner() = default;

  virtual std::string name() const = 0;
  virtual bool contextual() const { return false; }
  // True when multiplying every cost by one factor changes no choice (tsallis, exp3, binned):
  // such a learner only needs costs on one consistent scale, not spread over [0, 1].
  virtual bool scale_free() const { return false; }

  int num_arms() const { return static_cast<int>(options_.arms.size()); }
  double arm(int i) const { return options_.arms.at(i); }
  const std::vector<double>& arms() const { return options_.arms; }
  const LearnerOptions& options() const { return options_; }

  // Draw the arm for the next instance. Calling choose() twice without observe() is an error.
  int choose(double context = 0.0);
  // The cost of the arm returned by the last choose(), in [0, 1] (clamped).
  void observe(double cost);
  // Probabilities behind the last choice (one-hot for deterministic learners).
  const std::vector<double>& probabilities() const { return probabilities_; }
  // Completed rounds (choose + observe pairs).
  std::uint64_t rounds() const { return rounds_; }
  // The arm the learner currently believes is best (for reports), given a context.
  virtual int best_arm(double context = 0.0) const = 0;

  // Exact text snapshot of the state; load() checks that name and arms match.
  void save(std::ostream& out) const;
  void load(std::istream& in);
  std::string state() const;
  void restore(const std::string& state);

  // Where raw contexts map to [0, 1]; meant to be set before learning starts (statistics
  // gathered under another range are kept as they are).
  void set_context_range(double lo, double hi) {
    options_.context_lo = lo;
    options_.context_hi = hi;
  }
  // Context mapped to [0, 1].
  double normalise(double context) const;

 protected:
  virtual int choose_arm(double z) = 0;  // fills probabilities_
  virtual void update(int arm, double z, double cost) = 0;
  virtual void save_state(std::ostream& out) const = 0;
  virtual void load_state(std::istream& in) = 0;
  int sample(const std::vector<double>& p);

  LearnerOptions options_;
  SplitMix64 rng_;
  std::vector<double> probabilities_;
  std::uint64_t rounds_ = 0;

 private:
  int pending_arm_ = -1;
  double pending_z_ = 0.0;
};

// name: tsallis | exp3 | ucb1 | chebcb | binned | fixed
std::unique_ptr<Learner> make_learner(const std::string& name, const LearnerOptions& options);
const std::vector<std::string>& learner_names();
bool is_contextual_learner(const std::string& name);

// Tsallis-INF weights for cumulative loss estimates L and rate eta: w_i = 4 / (eta (L_i - x))^2
// with x chosen (Newton) so that the weights sum to one. Exposed for tests.
std::vector<double> tsallis_weights(const std::vector<double>& L, double eta);

}  // namespace pdestream::linear_systems
