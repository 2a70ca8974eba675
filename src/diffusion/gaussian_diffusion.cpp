// The respaced Gaussian diffusion process: float64 tables (GaussianDiffusion.__init__,
// SpacedDiffusion's rebuilt betas) and the float32 tensor formulas over them.
// Tested by tests/diffusion/gaussian_diffusion_test.cpp.
#include "diffusion/gaussian_diffusion.h"

#include <cmath>
#include <set>

#include "core/error.h"

namespace sagbench::diffusion {
namespace {

std::vector<double> map_values(const std::vector<double>& in, double (*fn)(double)) {
  std::vector<double> out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    out[i] = fn(in[i]);
  }
  return out;
}

double log_value(double v) {
  return std::log(v);
}

}  // namespace

DiffusionTables DiffusionTables::from_betas(std::vector<double> betas) {
  SAG_REQUIRE(
      betas.size() >= 2, kConfig,
      "a diffusion process needs at least 2 steps (got {}); check diffusion_steps and timestep_respacing",
      betas.size());
  for (std::size_t i = 0; i < betas.size(); ++i) {
    SAG_REQUIRE(betas[i] > 0.0 && betas[i] <= 1.0, kConfig, "beta[{}] = {} is outside (0, 1]", i, betas[i]);
  }
  const std::size_t n = betas.size();
  DiffusionTables tb;
  tb.betas = std::move(betas);
  tb.log_betas = map_values(tb.betas, log_value);
  tb.alphas_cumprod.resize(n);
  double product = 1.0;
  for (std::size_t i = 0; i < n; ++i) {
    product *= 1.0 - tb.betas[i];  // numpy.cumprod: sequential left-to-right product
    tb.alphas_cumprod[i] = product;
  }
  tb.alphas_cumprod_prev.resize(n);
  tb.alphas_cumprod_prev[0] = 1.0;
  for (std::size_t i = 1; i < n; ++i) {
    tb.alphas_cumprod_prev[i] = tb.alphas_cumprod[i - 1];
  }
  tb.sqrt_alphas_cumprod.resize(n);
  tb.sqrt_one_minus_alphas_cumprod.resize(n);
  tb.sqrt_recip_alphas_cumprod.resize(n);
  tb.sqrt_recipm1_alphas_cumprod.resize(n);
  tb.posterior_variance.resize(n);
  tb.posterior_mean_coef1.resize(n);
  tb.posterior_mean_coef2.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double ac = tb.alphas_cumprod[i];
    const double acp = tb.alphas_cumprod_prev[i];
    const double beta = tb.betas[i];
    tb.sqrt_alphas_cumprod[i] = std::sqrt(ac);
    tb.sqrt_one_minus_alphas_cumprod[i] = std::sqrt(1.0 - ac);
    tb.sqrt_recip_alphas_cumprod[i] = std::sqrt(1.0 / ac);
    tb.sqrt_recipm1_alphas_cumprod[i] = std::sqrt(1.0 / ac - 1.0);
    tb.posterior_variance[i] = beta * (1.0 - acp) / (1.0 - ac);
    tb.posterior_mean_coef1[i] = beta * std::sqrt(acp) / (1.0 - ac);
    tb.posterior_mean_coef2[i] = (1.0 - acp) * std::sqrt(1.0 - beta) / (1.0 - ac);
  }
  // posterior_variance[0] is 0; upstream replaces it by entry 1 before the log.
  std::vector<double> clipped = tb.posterior_variance;
  clipped[0] = tb.posterior_variance[1];
  tb.posterior_log_variance_clipped = map_values(clipped, log_value);
  tb.fixed_large_variance = tb.betas;
  tb.fixed_large_variance[0] = tb.posterior_variance[1];
  tb.fixed_large_log_variance = map_values(tb.fixed_large_variance, log_value);
  return tb;
}

GaussianDiffusion::GaussianDiffusion(const std::vector<double>& base_betas,
                                     const std::vector<std::int64_t>& use_timesteps, ProcessOptions options)
    : options_(options), original_num_steps_(static_cast<std::int64_t>(base_betas.size())) {
  const DiffusionTables base = DiffusionTables::from_betas(base_betas);
  const std::set<std::int64_t> keep(use_timesteps.begin(), use_timesteps.end());
  for (std::int64_t t : keep) {
    SAG_REQUIRE(t >= 0 && t < original_num_steps_, kConfig, "kept timestep {} is outside [0, {})", t,
                original_num_steps_);
  }
  // SpacedDiffusion: beta'_k = 1 - abar(kept_k) / abar(kept_{k-1}).
  std::vector<double> new_betas;
  double last_alpha_cumprod = 1.0;
  for (std::int64_t i = 0; i < original_num_steps_; ++i) {
    if (keep.count(i) != 0) {
      const double ac = base.alphas_cumprod[static_cast<std::size_t>(i)];
      new_betas.push_back(1.0 - ac / last_alpha_cumprod);
      last_alpha_cumprod = ac;
      timestep_map_.push_back(i);
    }
  }
  tables_ = DiffusionTables::from_betas(std::move(new_betas));
}

void GaussianDiffusion::check_index(std::int64_t t) const {
  SAG_CHECK(t >= 0 && t < num_steps(), "respaced timestep {} outside [0, {})", t, num_steps());
}

at::Tensor GaussianDiffusion::model_timesteps(std::int64_t t, std::int64_t batch,
                                              const at::Device& device) const {
  check_index(t);
  const std::int64_t base_t = timestep_map_[static_cast<std::size_t>(t)];
  if (options_.rescale_timesteps) {
    // new_ts.float() * (1000.0 / original_num_steps): a float32 product.
    const float scale = static_cast<float>(1000.0 / static_cast<double>(original_num_steps_));
    const float value = static_cast<float>(base_t) * scale;
    return at::full({batch}, value, at::TensorOptions().dtype(at::kFloat).device(device));
  }
  return at::full({batch}, base_t, at::TensorOptions().dtype(at::kLong).device(device));
}

at::Tensor GaussianDiffusion::extract(const std::vector<double>& table, std::int64_t t,
                                      const at::Tensor& like) const {
  check_index(t);
  SAG_CHECK(table.size() == static_cast<std::size_t>(num_steps()), "table of {} entries for {} steps",
            table.size(), num_steps());
  std::vector<std::int64_t> shape(static_cast<std::size_t>(like.dim()), 1);
  shape[0] = like.size(0);
  const auto value = static_cast<float>(table[static_cast<std::size_t>(t)]);
  return at::full(shape, value, at::TensorOptions().dtype(at::kFloat).device(like.device()));
}

at::Tensor GaussianDiffusion::predict_xstart_from_eps(const at::Tensor& x_t, std::int64_t t,
                                                      const at::Tensor& eps) const {
  return extract(tables_.sqrt_recip_alphas_cumprod, t, x_t) * x_t -
         extract(tables_.sqrt_recipm1_alphas_cumprod, t, x_t) * eps;
}

at::Tensor GaussianDiffusion::predict_eps_from_xstart(const at::Tensor& x_t, std::int64_t t,
                                                      const at::Tensor& xstart) const {
  return (extract(tables_.sqrt_recip_alphas_cumprod, t, x_t) * x_t - xstart) /
         extract(tables_.sqrt_recipm1_alphas_cumprod, t, x_t);
}

at::Tensor GaussianDiffusion::q_sample(const at::Tensor& x_start, std::int64_t t,
                                       const at::Tensor& noise) const {
  return extract(tables_.sqrt_alphas_cumprod, t, x_start) * x_start +
         extract(tables_.sqrt_one_minus_alphas_cumprod, t, x_start) * noise;
}

at::Tensor GaussianDiffusion::q_posterior_mean(const at::Tensor& x_start, const at::Tensor& x_t,
                                               std::int64_t t) const {
  return extract(tables_.posterior_mean_coef1, t, x_t) * x_start +
         extract(tables_.posterior_mean_coef2, t, x_t) * x_t;
}

VarianceTerms GaussianDiffusion::model_variance(std::int64_t t, const at::Tensor& var_values,
                                                const at::Tensor& like) const {
  VarianceTerms out;
  switch (options_.variance_type) {
    case ModelVarianceType::kLearnedRange: {
      SAG_CHECK(var_values.defined(), "learned-range variance needs the model's variance output");
      const at::Tensor min_log = extract(tables_.posterior_log_variance_clipped, t, like);
      const at::Tensor max_log = extract(tables_.log_betas, t, like);
      const at::Tensor frac = (var_values + 1) / 2;
      out.log_variance = frac * max_log + (1 - frac) * min_log;
      out.variance = at::exp(out.log_variance);
      return out;
    }
    case ModelVarianceType::kFixedLarge:
      out.variance = extract(tables_.fixed_large_variance, t, like).expand(like.sizes());
      out.log_variance = extract(tables_.fixed_large_log_variance, t, like).expand(like.sizes());
      return out;
    case ModelVarianceType::kFixedSmall:
      out.variance = extract(tables_.posterior_variance, t, like).expand(like.sizes());
      out.log_variance = extract(tables_.posterior_log_variance_clipped, t, like).expand(like.sizes());
      return out;
  }
  SAG_CHECK(false, "unhandled variance type");
  return out;
}

std::int64_t GaussianDiffusion::model_output_channels(std::int64_t channels) const {
  return options_.variance_type == ModelVarianceType::kLearnedRange ? 2 * channels : channels;
}

at::Tensor process_xstart(const at::Tensor& x, bool clip) {
  return clip ? x.clamp(-1, 1) : x;
}

}  // namespace sagbench::diffusion
