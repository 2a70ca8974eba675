// Config structs of the diffusion process (`diffusion:` section of a model
// preset, upstream create_gaussian_diffusion / diffusion_defaults flag names
// and defaults) and of the sampler (`sampler:` section; upstream --use_ddim,
// --clip_denoised, DDIM eta), and the objects they build. Keys and their
// upstream flags are tabulated in configs/README.md.
// Tested by tests/diffusion/diffusion_config_test.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "diffusion/gaussian_diffusion.h"
#include "diffusion/sampler.h"

namespace sagbench::diffusion {

struct DiffusionConfig {
  int diffusion_steps = 1000;
  std::string noise_schedule = "linear";
  bool learn_sigma = false;
  bool sigma_small = false;
  bool use_kl = false;
  bool predict_xstart = false;
  bool rescale_timesteps = false;
  bool rescale_learned_sigmas = false;
  std::string timestep_respacing;

  template <class V>
  void visit(V& v) {
    v("diffusion_steps", diffusion_steps, "steps T of the base process (--diffusion_steps)");
    v.choice("noise_schedule", noise_schedule, {"linear", "cosine"}, "beta schedule (--noise_schedule)");
    v("learn_sigma", learn_sigma,
      "model outputs learned-range variance values; must match model.learn_sigma "
      "(--learn_sigma)");
    v("sigma_small", sigma_small, "fixed variance = posterior variance instead of beta (--sigma_small)");
    v("use_kl", use_kl, "training loss only (--use_kl); recorded, no effect on sampling");
    v("predict_xstart", predict_xstart, "model predicts x0 instead of eps (--predict_xstart)");
    v("rescale_timesteps", rescale_timesteps, "model sees t * 1000 / T (IDDPM) (--rescale_timesteps)");
    v("rescale_learned_sigmas", rescale_learned_sigmas,
      "training loss only (--rescale_learned_sigmas); "
      "no effect on sampling");
    v("timestep_respacing", timestep_respacing,
      "kept steps: '' = all, '250', '10,15,20', 'ddim25' "
      "(--timestep_respacing)");
  }
  void validate() const;
};

struct SamplerConfig {
  std::string kind = "ddpm";
  std::optional<std::string> timestep_respacing;
  double eta = 0.0;
  bool clip_denoised = true;

  template <class V>
  void visit(V& v) {
    v.choice("kind", kind, {"ddpm", "ddim"}, "ancestral DDPM or DDIM (--use_ddim)");
    v("timestep_respacing", timestep_respacing, "overrides diffusion.timestep_respacing when set");
    v("eta", eta, "DDIM noise scale; 0 = deterministic (ddim_sample eta); DDPM requires 0");
    v("clip_denoised", clip_denoised, "clamp x0 predictions to [-1, 1] (--clip_denoised)");
  }
  void validate() const;
};

ProcessOptions process_options(const DiffusionConfig& config);
SamplerOptions sampler_options(const SamplerConfig& config);
// The respacing in effect: the sampler's override when set, else the process's.
std::string effective_respacing(const DiffusionConfig& diffusion, const SamplerConfig& sampler);
// The respaced process of `config` with `respacing` (space_timesteps syntax).
GaussianDiffusion make_diffusion(const DiffusionConfig& config, const std::string& respacing);

}  // namespace sagbench::diffusion
