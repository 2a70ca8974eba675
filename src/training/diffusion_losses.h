// Training losses of the Gaussian diffusion, per sample with a timestep per
// sample: upstream guided_diffusion GaussianDiffusion.training_losses
// (LossType.MSE) with its VLB term _vb_terms_bpd, and losses.py normal_kl /
// approx_standard_normal_cdf / discretized_gaussian_log_likelihood.
// With learned sigma the loss is the hybrid L_simple + L_vlb of IDDPM
// (Nichol & Dhariwal 2021, eq. 16): eps-MSE plus the VLB in bits/dim with the
// mean's gradient stopped (only the variance learns from it). At T = 1000
// upstream's RESCALED_MSE factor T / 1000 is 1, so both loss types agree.
// Tested by tests/training/diffusion_losses_test.cpp (closed-form KL, the
// likelihood summing to 1 over the 256 bins, VLB vs its definition).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace sagbench::training {

// KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))) elementwise, in nats.
at::Tensor normal_kl(const at::Tensor& mean1, const at::Tensor& logvar1, const at::Tensor& mean2,
                     const at::Tensor& logvar2);
// log P(bin of x) for x in [-1, 1] quantised to 256 levels under a Gaussian
// (means, exp(log_scales)); the edge bins extend to -inf / +inf. In nats.
at::Tensor discretized_gaussian_log_likelihood(const at::Tensor& x, const at::Tensor& means,
                                               const at::Tensor& log_scales);

// The float64 tables of the training process, gathered per sample.
class DiffusionTrainingProcess {
 public:
  explicit DiffusionTrainingProcess(const std::vector<double>& betas);
  std::int64_t num_steps() const { return static_cast<std::int64_t>(betas_.size(0)); }
  // x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise, t (B,) int64.
  at::Tensor q_sample(const at::Tensor& x_start, const at::Tensor& t, const at::Tensor& noise) const;
  // Per-sample mean over non-batch dims of (eps - target)^2, plus when
  // `var_values` is defined the VLB term in bits/dim (decoder NLL at t = 0).
  // Returns (B,) losses; `mse_out` / `vb_out` receive the parts when non-null.
  at::Tensor training_losses(const at::Tensor& x_start, const at::Tensor& x_t, const at::Tensor& t,
                             const at::Tensor& noise, const at::Tensor& eps, const at::Tensor& var_values,
                             at::Tensor* mse_out = nullptr, at::Tensor* vb_out = nullptr) const;
  // The VLB term alone (bits/dim, (B,)) for a model output (eps, var_values).
  at::Tensor vb_terms_bpd(const at::Tensor& x_start, const at::Tensor& x_t, const at::Tensor& t,
                          const at::Tensor& eps, const at::Tensor& var_values) const;

 private:
  at::Tensor gather(const at::Tensor& table, const at::Tensor& t, const at::Tensor& like) const;

  at::Tensor betas_;  // float64, CPU
  at::Tensor log_betas_;
  at::Tensor sqrt_alphas_cumprod_;
  at::Tensor sqrt_one_minus_alphas_cumprod_;
  at::Tensor sqrt_recip_alphas_cumprod_;
  at::Tensor sqrt_recipm1_alphas_cumprod_;
  at::Tensor posterior_log_variance_clipped_;
  at::Tensor posterior_mean_coef1_;
  at::Tensor posterior_mean_coef2_;
};

}  // namespace sagbench::training
