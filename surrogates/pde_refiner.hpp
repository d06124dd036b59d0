#pragma once
// PDE-Refiner (Lippe, Veeling, Perdikaris, Turner, Brandstetter, NeurIPS 2023): a one-step
// neural solver that refines its own prediction with K denoising steps, so the low-amplitude
// frequencies that long rollouts of chaotic systems amplify are learned too. Built as
// pdearena's implementation (pdearena/models/pderefiner.py) builds it:
//
//   model   a unet_modern on [x, y] (history frames and the noisy target stacked on
//           channels), its time embedding fed with the refinement step j times 1000 / K
//
// Target: y = (u(t + dt) - u(t)) / difference_weight (pdearena's predict_difference with
// difference_weight 0.3; 0 predicts u(t + dt) itself). Noise schedule: a DDPM scheduler with
// K + 1 steps and betas beta_j = min_noise_std^((K - j) / K), j = 0..K (so min_noise_std is
// step 0's variance and beta_K = 1: abar_K = 0), v-prediction. For K = 3 and 4e-7 the noise
// stds sqrt(1 - abar_j) are 0.086, 0.0074 and 6.3e-4 below the pure-noise level j = K.
//
// Training (the objective "pde_refiner", training/objective.cpp): j uniform in 0..K, eps ~ N(0, I),
//   y_j = sqrt(abar_j) y + sqrt(1 - abar_j) eps,   pred = model([x, y_j], j 1000 / K),
//   loss = |pred - (sqrt(abar_j) eps - sqrt(1 - abar_j) y)|^2 (mean over space, summed over
//   channels). j = K sees no signal: it is the plain one-step (MSE) prediction.
// Inference (infer, K + 1 passes): y ~ N(0, I); for j = K..0: pred = model([x, y], j);
//   x0 = sqrt(abar_j) y - sqrt(1 - abar_j) pred;
//   y = sqrt(abar_{j-1}) beta_j / (1 - abar_j) x0 + sqrt(alpha_j) (1 - abar_{j-1}) / (1 - abar_j) y
//       + [j > 0] sqrt(beta_j (1 - abar_{j-1}) / (1 - abar_j)) eps'     (abar_{-1} = 1);
//   returns the last input frame + difference_weight y.
//
// Noise in inference: from per-example seeds when set (set_noise_seeds: example b draws from
// (seeds[b], the number of draws since), so a rollout's samples do not depend on how the
// examples are split over ranks), else from the model's own generator (`seed`).
//
//   [model]
//   name = "pde_refiner"
//   num_refinement_steps = 3
//   min_noise_std = 4e-7
//   difference_weight = 0.3
//   [model.base]
//   name = "unet_modern"
//   hidden = 64

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/core/Generator.h>

#include "surrogates/surrogate.hpp"
#include "surrogates/unet_modern.hpp"

namespace pdestream::surrogates {

struct PdeRefinerOptions {
  int dim = 1;
  std::int64_t in_channels = 1;    // history frames x channels
  std::int64_t out_channels = 1;   // one frame's channels
  std::int64_t cond_dim = 0;
  std::int64_t num_refinement_steps = 3;  // K
  double min_noise_std = 4e-7;     // beta_0 (a variance, as pdearena uses it)
  double difference_weight = 0.3;  // 0: the target is the next frame, not its change
  std::uint64_t seed = 0;          // inference noise without per-example seeds

  void validate() const;
  nlohmann::json to_json() const;  // without the base model
};

class PdeRefinerImpl : public Surrogate {
 public:
  PdeRefinerImpl(const PdeRefinerOptions& options, std::shared_ptr<UnetModernImpl> base);

  torch::Tensor forward(const torch::Tensor& x) override;
  // The refinement loop under the caller's grad mode.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond) override;
  torch::Tensor infer(const torch::Tensor& x, const torch::Tensor& cond = {}) override;
  std::int64_t cond_dim() const override { return options_.cond_dim; }
  std::string kind() const override { return "pde_refiner"; }
  Layout layout() const override { return Layout::Field; }
  nlohmann::json options_json() const override;
  std::string training_objective() const override { return "pde_refiner"; }
  bool stochastic() const override { return true; }
  void set_noise_seeds(std::vector<std::uint64_t> seeds) override;
  void pretty_print(std::ostream& os) const override;

  // S predictions of the next state of every example, from S noise seeds per example
  // (derived from `seed` and the example's index): their mean and standard deviation, both
  // [B, C, *spatial]. evaluate rolls S samples out the same way, a trajectory at a time.
  std::pair<torch::Tensor, torch::Tensor> infer_samples(const torch::Tensor& x, const torch::Tensor& cond,
                                                        std::int64_t samples, std::uint64_t seed);

  // The pieces the objective uses. step [B] holds each example's j in 0..K.
  torch::Tensor denoise(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& step,
                        const torch::Tensor& cond);
  torch::Tensor target_to_y(const torch::Tensor& x, const torch::Tensor& target) const;
  torch::Tensor y_to_target(const torch::Tensor& x, const torch::Tensor& y) const;
  const std::vector<double>& betas() const { return betas_; }
  const std::vector<double>& alphas_cumprod() const { return alphas_cumprod_; }
  const PdeRefinerOptions& options() const { return options_; }

 private:
  torch::Tensor noise_like(const torch::Tensor& y);

  PdeRefinerOptions options_;
  std::shared_ptr<UnetModernImpl> model_;
  std::vector<double> betas_, alphas_cumprod_;
  at::Generator generator_;
  std::vector<std::uint64_t> seeds_;
  std::uint64_t draws_ = 0;
};
TORCH_MODULE(PdeRefiner);

}  // namespace pdestream::surrogates
