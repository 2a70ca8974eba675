// DDPM and DDIM sampling loops with guidance hooks and non-finite checks,
// following the SAG repository's p_sample / ddim_sample.
// Tested by tests/diffusion/sampler_test.cpp and trajectory_parity_test.cpp.
#include "diffusion/sampler.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/error.h"

namespace sagbench::diffusion {

Sampler::Sampler(const GaussianDiffusion& diffusion, SamplerOptions options)
    : diffusion_(diffusion), options_(options) {
  SAG_REQUIRE(options_.eta >= 0.0, kConfig, "sampler.eta must be >= 0 (got {})", options_.eta);
  SAG_REQUIRE(options_.kind == SamplerKind::kDdim || options_.eta == 0.0, kConfig,
              "sampler.eta = {} applies to DDIM only; the DDPM sampler takes no eta", options_.eta);
}

bool Sampler::needs_noise(std::int64_t t) const {
  if (t == 0) {
    return false;  // upstream's nonzero_mask: the last step adds no noise
  }
  return options_.kind == SamplerKind::kDdpm || options_.eta != 0.0;
}

at::Tensor Sampler::predicted_xstart(const StepContext& ctx, const Prediction& prediction) const {
  if (!prediction.eps_guided && prediction.main.xstart.defined()) {
    return process_xstart(prediction.main.xstart, ctx.clip_denoised);
  }
  return process_xstart(diffusion_.predict_xstart_from_eps(ctx.x_t, ctx.t, prediction.eps),
                        ctx.clip_denoised);
}

at::Tensor Sampler::ddpm_step(const StepContext& ctx, StepModel& model, StepGuidance* guidance,
                              const at::Tensor& noise) const {
  const Prediction prediction =
      guidance != nullptr ? guidance->predict(ctx, model) : plain_prediction(ctx, model);
  // The variance comes from pass 1 even when eps is guided (REFERENCE.md §1 step 7).
  const VarianceTerms variance = diffusion_.model_variance(ctx.t, prediction.main.var_values, ctx.x_t);
  const at::Tensor xstart = predicted_xstart(ctx, prediction);
  at::Tensor mean = diffusion_.q_posterior_mean(xstart, ctx.x_t, ctx.t);
  if (guidance != nullptr) {
    guidance->guide_mean(ctx, variance, mean);
  }
  if (!noise.defined()) {
    return mean;
  }
  return mean + at::exp(0.5 * variance.log_variance) * noise;
}

at::Tensor Sampler::ddim_step(const StepContext& ctx, StepModel& model, StepGuidance* guidance,
                              const at::Tensor& noise) const {
  const Prediction prediction =
      guidance != nullptr ? guidance->predict(ctx, model) : plain_prediction(ctx, model);
  at::Tensor xstart = predicted_xstart(ctx, prediction);
  if (guidance != nullptr) {
    guidance->guide_xstart(ctx, xstart);
  }
  // eps is re-derived from x0 (upstream does so for every model type).
  const at::Tensor eps = diffusion_.predict_eps_from_xstart(ctx.x_t, ctx.t, xstart);
  const DiffusionTables& tb = diffusion_.tables();
  const at::Tensor alpha_bar = diffusion_.extract(tb.alphas_cumprod, ctx.t, ctx.x_t);
  const at::Tensor alpha_bar_prev = diffusion_.extract(tb.alphas_cumprod_prev, ctx.t, ctx.x_t);
  // DDIM eq. 16: sigma = eta sqrt((1 - abar_prev) / (1 - abar)) sqrt(1 - abar / abar_prev), in float32.
  const at::Tensor sigma = options_.eta * at::sqrt((1 - alpha_bar_prev) / (1 - alpha_bar)) *
                           at::sqrt(1 - alpha_bar / alpha_bar_prev);
  const at::Tensor mean =
      xstart * at::sqrt(alpha_bar_prev) + at::sqrt(1 - alpha_bar_prev - at::pow(sigma, 2)) * eps;
  if (!noise.defined()) {
    return mean;
  }
  return mean + sigma * noise;
}

at::Tensor Sampler::sample(Denoiser& model, const NoiseSource& noise, StepGuidance* guidance,
                           const SampleBatch& batch, at::IntArrayRef sample_shape, const at::Device& device,
                           const StepObserver& observer) const {
  SAG_REQUIRE(batch.count > 0 && batch.first_index >= 0, kConfig, "empty or negative sample range [{}, {})",
              batch.first_index, batch.first_index + batch.count);
  SAG_REQUIRE(sample_shape.size() == 3, kShape, "sample shape must be (C, H, W), got {} dims",
              sample_shape.size());
  SAG_REQUIRE(!batch.labels.defined() || (batch.labels.dim() == 1 && batch.labels.size(0) == batch.count),
              kShape, "labels must be ({},), one per sample", batch.count);
  const std::int64_t num_steps = diffusion_.num_steps();
  noise.check(batch.first_index + batch.count, num_steps, sample_shape);

  torch::NoGradGuard no_grad;
  at::Tensor x = noise.initial_noise(batch.first_index, batch.count, sample_shape).to(device);
  const at::Tensor labels = batch.labels.defined() ? batch.labels.to(device, at::kLong) : at::Tensor();
  const at::Tensor y = batch.condition_model ? labels : at::Tensor();
  for (std::int64_t step = 0; step < num_steps; ++step) {
    StepContext ctx;
    ctx.diffusion = &diffusion_;
    ctx.sampler = options_.kind;
    ctx.step = step;
    ctx.t = num_steps - 1 - step;
    ctx.x_t = x;
    ctx.model_timesteps = diffusion_.model_timesteps(ctx.t, batch.count, device);
    ctx.y = y;
    ctx.labels = labels;
    ctx.alpha_bar = diffusion_.tables().alphas_cumprod[static_cast<std::size_t>(ctx.t)];
    ctx.clip_denoised = options_.clip_denoised;
    ctx.first_index = batch.first_index;
    StepModel step_model(diffusion_, model, ctx.t, ctx.model_timesteps);
    const at::Tensor z = needs_noise(ctx.t)
                             ? noise.step_noise(step, batch.first_index, batch.count, sample_shape).to(device)
                             : at::Tensor();
    x = options_.kind == SamplerKind::kDdpm ? ddpm_step(ctx, step_model, guidance, z)
                                            : ddim_step(ctx, step_model, guidance, z);
    check_finite(x, step, ctx.t, batch.first_index);
    if (observer) {
      observer(step, x);
    }
  }
  return x;
}

void check_finite(const at::Tensor& x, std::int64_t step, std::int64_t t, std::int64_t first_index) {
  if (at::isfinite(x).all().item<bool>()) {
    return;
  }
  const at::Tensor per_sample = at::isfinite(x).reshape({x.size(0), -1}).all(1).cpu();
  const auto* ok = per_sample.data_ptr<bool>();
  std::int64_t bad = 0;
  while (bad < x.size(0) && ok[bad]) {
    ++bad;
  }
  SAG_FAIL(kNumeric, "non-finite value (NaN or inf) in x after sampling step {} (t = {}) for sample index {}",
           step, t, first_index + bad);
}

}  // namespace sagbench::diffusion
