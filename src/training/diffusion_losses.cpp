// Diffusion training losses (see diffusion_losses.h). Tables are float64 on
// the host and gathered per sample into float32 (B, 1, 1, 1) tensors on the
// input's device, like upstream _extract_into_tensor.
#include "training/diffusion_losses.h"

#include <cmath>

#include "core/error.h"
#include "diffusion/gaussian_diffusion.h"

namespace sagbench::training {
namespace {

at::Tensor table_tensor(const std::vector<double>& values) {
  return at::tensor(at::ArrayRef<double>(values), at::TensorOptions().dtype(at::kDouble));
}

at::Tensor approx_standard_normal_cdf(const at::Tensor& x) {
  return 0.5 * (1.0 + at::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * at::pow(x, 3))));
}

at::Tensor mean_flat(const at::Tensor& x) {
  std::vector<std::int64_t> dims;
  for (std::int64_t d = 1; d < x.dim(); ++d) {
    dims.push_back(d);
  }
  return x.mean(dims);
}

}  // namespace

at::Tensor normal_kl(const at::Tensor& mean1, const at::Tensor& logvar1, const at::Tensor& mean2,
                     const at::Tensor& logvar2) {
  return 0.5 *
         (-1.0 + logvar2 - logvar1 + at::exp(logvar1 - logvar2) + (mean1 - mean2).pow(2) * at::exp(-logvar2));
}

at::Tensor discretized_gaussian_log_likelihood(const at::Tensor& x, const at::Tensor& means,
                                               const at::Tensor& log_scales) {
  SAG_CHECK(x.sizes() == means.sizes() && x.sizes() == log_scales.sizes(),
            "likelihood operands differ in shape");
  const at::Tensor centered = x - means;
  const at::Tensor inv_stdv = at::exp(-log_scales);
  const at::Tensor cdf_plus = approx_standard_normal_cdf(inv_stdv * (centered + 1.0 / 255.0));
  const at::Tensor cdf_min = approx_standard_normal_cdf(inv_stdv * (centered - 1.0 / 255.0));
  const at::Tensor log_cdf_plus = at::log(cdf_plus.clamp_min(1e-12));
  const at::Tensor log_one_minus_cdf_min = at::log((1.0 - cdf_min).clamp_min(1e-12));
  const at::Tensor log_cdf_delta = at::log((cdf_plus - cdf_min).clamp_min(1e-12));
  return at::where(x < -0.999, log_cdf_plus, at::where(x > 0.999, log_one_minus_cdf_min, log_cdf_delta));
}

DiffusionTrainingProcess::DiffusionTrainingProcess(const std::vector<double>& betas) {
  const diffusion::DiffusionTables tables = diffusion::DiffusionTables::from_betas(betas);
  betas_ = table_tensor(tables.betas);
  log_betas_ = table_tensor(tables.log_betas);
  sqrt_alphas_cumprod_ = table_tensor(tables.sqrt_alphas_cumprod);
  sqrt_one_minus_alphas_cumprod_ = table_tensor(tables.sqrt_one_minus_alphas_cumprod);
  sqrt_recip_alphas_cumprod_ = table_tensor(tables.sqrt_recip_alphas_cumprod);
  sqrt_recipm1_alphas_cumprod_ = table_tensor(tables.sqrt_recipm1_alphas_cumprod);
  posterior_log_variance_clipped_ = table_tensor(tables.posterior_log_variance_clipped);
  posterior_mean_coef1_ = table_tensor(tables.posterior_mean_coef1);
  posterior_mean_coef2_ = table_tensor(tables.posterior_mean_coef2);
}

at::Tensor DiffusionTrainingProcess::gather(const at::Tensor& table, const at::Tensor& t,
                                            const at::Tensor& like) const {
  SAG_REQUIRE(t.dim() == 1 && t.size(0) == like.size(0), kShape, "timesteps must be (B,) matching the batch");
  const at::Tensor values = table.index_select(0, t.to(at::kCPU, at::kLong)).to(at::kFloat);
  std::vector<std::int64_t> shape(static_cast<std::size_t>(like.dim()), 1);
  shape[0] = like.size(0);
  return values.view(shape).to(like.device());
}

at::Tensor DiffusionTrainingProcess::q_sample(const at::Tensor& x_start, const at::Tensor& t,
                                              const at::Tensor& noise) const {
  return gather(sqrt_alphas_cumprod_, t, x_start) * x_start +
         gather(sqrt_one_minus_alphas_cumprod_, t, x_start) * noise;
}

at::Tensor DiffusionTrainingProcess::vb_terms_bpd(const at::Tensor& x_start, const at::Tensor& x_t,
                                                  const at::Tensor& t, const at::Tensor& eps,
                                                  const at::Tensor& var_values) const {
  // True posterior q(x_{t-1} | x_t, x_0).
  const at::Tensor coef1 = gather(posterior_mean_coef1_, t, x_t);
  const at::Tensor coef2 = gather(posterior_mean_coef2_, t, x_t);
  const at::Tensor min_log = gather(posterior_log_variance_clipped_, t, x_t);
  const at::Tensor true_mean = coef1 * x_start + coef2 * x_t;
  // Model p(x_{t-1} | x_t): learned-range variance, mean from the predicted
  // x_0 without clipping (upstream _vb_terms_bpd, clip_denoised=False).
  const at::Tensor frac = (var_values + 1.0) / 2.0;
  const at::Tensor model_log_variance = frac * gather(log_betas_, t, x_t) + (1.0 - frac) * min_log;
  const at::Tensor pred_xstart =
      gather(sqrt_recip_alphas_cumprod_, t, x_t) * x_t - gather(sqrt_recipm1_alphas_cumprod_, t, x_t) * eps;
  const at::Tensor model_mean = coef1 * pred_xstart + coef2 * x_t;
  const at::Tensor kl =
      mean_flat(normal_kl(true_mean, min_log, model_mean, model_log_variance)) / std::log(2.0);
  const at::Tensor decoder_nll =
      -mean_flat(discretized_gaussian_log_likelihood(x_start, model_mean, 0.5 * model_log_variance)) /
      std::log(2.0);
  return at::where(t.to(kl.device()) == 0, decoder_nll, kl);
}

at::Tensor DiffusionTrainingProcess::training_losses(const at::Tensor& x_start, const at::Tensor& x_t,
                                                     const at::Tensor& t, const at::Tensor& noise,
                                                     const at::Tensor& eps, const at::Tensor& var_values,
                                                     at::Tensor* mse_out, at::Tensor* vb_out) const {
  const at::Tensor mse = mean_flat((noise - eps).pow(2));
  at::Tensor loss = mse;
  if (var_values.defined()) {
    // The mean's gradient is stopped: the VLB trains only the variance.
    const at::Tensor vb = vb_terms_bpd(x_start, x_t, t, eps.detach(), var_values);
    loss = mse + vb;
    if (vb_out != nullptr) {
      *vb_out = vb;
    }
  }
  if (mse_out != nullptr) {
    *mse_out = mse;
  }
  return loss;
}

}  // namespace sagbench::training
