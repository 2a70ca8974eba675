// The (respaced) Gaussian diffusion process: float64 tables and the tensor
// formulas that samplers and guidance share. Follows guided-diffusion's
// GaussianDiffusion (__init__, q_sample, q_posterior_mean_variance,
// p_mean_variance's variance branch, _predict_xstart_from_eps,
// _predict_eps_from_xstart) and respace.py's SpacedDiffusion (betas rebuilt
// from the kept alphas_cumprod, timestep map to the base process). Table values
// are cast to float32 (B,1,1,1) tensors before use, like _extract_into_tensor.
// Tested by tests/diffusion/gaussian_diffusion_test.cpp.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace sagbench::diffusion {

enum class ModelMeanType { kEpsilon, kStartX };  // predict_xstart false / true
enum class ModelVarianceType {
  kFixedSmall,
  kFixedLarge,
  kLearnedRange
};  // sigma_small / default / learn_sigma

struct ProcessOptions {
  ModelMeanType mean_type = ModelMeanType::kEpsilon;
  ModelVarianceType variance_type = ModelVarianceType::kFixedLarge;
  bool rescale_timesteps = false;  // the network sees t * 1000 / T (IDDPM)
};

// Float64 tables of one process, indexed by its own (respaced) timestep.
struct DiffusionTables {
  std::vector<double> betas;
  std::vector<double> log_betas;
  std::vector<double> alphas_cumprod;
  std::vector<double> alphas_cumprod_prev;
  std::vector<double> sqrt_alphas_cumprod;
  std::vector<double> sqrt_one_minus_alphas_cumprod;
  std::vector<double> sqrt_recip_alphas_cumprod;
  std::vector<double> sqrt_recipm1_alphas_cumprod;
  std::vector<double> posterior_variance;
  std::vector<double> posterior_log_variance_clipped;  // log of posterior_variance with entry 0 := entry 1
  std::vector<double> posterior_mean_coef1;            // multiplies x_0
  std::vector<double> posterior_mean_coef2;            // multiplies x_t
  std::vector<double> fixed_large_variance;            // betas with entry 0 := posterior_variance[1]
  std::vector<double> fixed_large_log_variance;

  // Needs at least 2 betas, each in (0, 1]; otherwise sagbench::Error(kConfig).
  static DiffusionTables from_betas(std::vector<double> betas);
};

// x_t's variance at one step and its log (both float32, shaped like x).
struct VarianceTerms {
  at::Tensor variance;
  at::Tensor log_variance;
};

class GaussianDiffusion {
 public:
  // `base_betas`: the full process; `use_timesteps`: the kept base steps
  // (space_timesteps' result, ascending). All steps kept = no respacing.
  GaussianDiffusion(const std::vector<double>& base_betas, const std::vector<std::int64_t>& use_timesteps,
                    ProcessOptions options);

  std::int64_t num_steps() const { return static_cast<std::int64_t>(timestep_map_.size()); }
  std::int64_t original_num_steps() const { return original_num_steps_; }
  // timestep_map()[t] = the base-process step of respaced index t.
  const std::vector<std::int64_t>& timestep_map() const { return timestep_map_; }
  const DiffusionTables& tables() const { return tables_; }
  const ProcessOptions& options() const { return options_; }

  // (batch,) timesteps the network (and a noisy classifier) sees at respaced
  // index t: int64 timestep_map[t], or float32 timestep_map[t] * 1000 / T_base
  // when rescale_timesteps (upstream _WrappedModel).
  at::Tensor model_timesteps(std::int64_t t, std::int64_t batch, const at::Device& device) const;

  // table[t] as a float32 tensor of shape (B, 1, ..., 1) matching `like`'s
  // batch and rank, on its device (upstream _extract_into_tensor).
  at::Tensor extract(const std::vector<double>& table, std::int64_t t, const at::Tensor& like) const;

  // x_0 = sqrt(1/abar) x_t - sqrt(1/abar - 1) eps.
  at::Tensor predict_xstart_from_eps(const at::Tensor& x_t, std::int64_t t, const at::Tensor& eps) const;
  // eps = (sqrt(1/abar) x_t - x_0) / sqrt(1/abar - 1).
  at::Tensor predict_eps_from_xstart(const at::Tensor& x_t, std::int64_t t, const at::Tensor& xstart) const;
  // x_t = sqrt(abar) x_0 + sqrt(1 - abar) noise.
  at::Tensor q_sample(const at::Tensor& x_start, std::int64_t t, const at::Tensor& noise) const;
  // Mean of q(x_{t-1} | x_t, x_0) = coef1 x_0 + coef2 x_t.
  at::Tensor q_posterior_mean(const at::Tensor& x_start, const at::Tensor& x_t, std::int64_t t) const;
  // The model's variance at t: fixed small/large from the tables, or learned
  // range from `var_values` in [-1, 1]: log var = frac log beta_t + (1 - frac)
  // log beta~_t with frac = (v + 1) / 2. `like` gives shape and device.
  VarianceTerms model_variance(std::int64_t t, const at::Tensor& var_values, const at::Tensor& like) const;

  // Number of output channels the network must produce for `channels` image
  // channels (2x with learned variance).
  std::int64_t model_output_channels(std::int64_t channels) const;

 private:
  void check_index(std::int64_t t) const;

  ProcessOptions options_;
  std::int64_t original_num_steps_ = 0;
  std::vector<std::int64_t> timestep_map_;
  DiffusionTables tables_;
};

// clamp(x, -1, 1) when `clip` (upstream process_xstart with clip_denoised).
at::Tensor process_xstart(const at::Tensor& x, bool clip);

}  // namespace sagbench::diffusion
