// Diffusion / sampler config structs -> ProcessOptions, SamplerOptions and the
// respaced process, as upstream create_gaussian_diffusion maps its flags.
// Tested by tests/diffusion/diffusion_config_test.cpp.
#include "diffusion/diffusion_config.h"

#include "core/error.h"
#include "diffusion/beta_schedule.h"
#include "diffusion/respacing.h"

namespace sagbench::diffusion {

void DiffusionConfig::validate() const {
  SAG_REQUIRE(diffusion_steps >= 2, kConfig, "diffusion_steps must be >= 2 (got {})", diffusion_steps);
  SAG_REQUIRE(!(learn_sigma && sigma_small), kConfig,
              "sigma_small selects a fixed variance; it cannot be combined with learn_sigma");
}

void SamplerConfig::validate() const {
  SAG_REQUIRE(eta >= 0.0, kConfig, "eta must be >= 0 (got {})", eta);
  SAG_REQUIRE(kind == "ddim" || eta == 0.0, kConfig, "eta = {} applies to kind ddim only", eta);
}

ProcessOptions process_options(const DiffusionConfig& config) {
  ProcessOptions options;
  options.mean_type = config.predict_xstart ? ModelMeanType::kStartX : ModelMeanType::kEpsilon;
  if (config.learn_sigma) {
    options.variance_type = ModelVarianceType::kLearnedRange;
  } else {
    options.variance_type =
        config.sigma_small ? ModelVarianceType::kFixedSmall : ModelVarianceType::kFixedLarge;
  }
  options.rescale_timesteps = config.rescale_timesteps;
  return options;
}

SamplerOptions sampler_options(const SamplerConfig& config) {
  config.validate();
  SamplerOptions options;
  options.kind = config.kind == "ddim" ? SamplerKind::kDdim : SamplerKind::kDdpm;
  options.eta = config.eta;
  options.clip_denoised = config.clip_denoised;
  return options;
}

std::string effective_respacing(const DiffusionConfig& diffusion, const SamplerConfig& sampler) {
  return sampler.timestep_respacing.value_or(diffusion.timestep_respacing);
}

GaussianDiffusion make_diffusion(const DiffusionConfig& config, const std::string& respacing) {
  config.validate();
  const std::vector<double> betas = named_beta_schedule(config.noise_schedule, config.diffusion_steps);
  return GaussianDiffusion(betas, space_timesteps(config.diffusion_steps, respacing),
                           process_options(config));
}

}  // namespace sagbench::diffusion
