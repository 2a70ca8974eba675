// Ancestral DDPM and DDIM sampling loops over the respaced process, batched,
// with noise from a NoiseSource and guidance through StepGuidance hooks.
// DDPM follows the SAG repository's p_sample (x_{t-1} = mean + [t>0]
// exp(log var / 2) z, classifier guidance shifting the mean); DDIM its
// ddim_sample (eq. 12 of Song et al. with eta; score-corrected x0, eps
// re-derived from x0). Any non-finite value stops the run with
// sagbench::Error(kNumeric) naming the step and sample index.
// Tested by tests/diffusion/sampler_test.cpp and the fixture trajectories in
// tests/diffusion/trajectory_parity_test.cpp.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>

#include "diffusion/denoiser.h"
#include "diffusion/gaussian_diffusion.h"
#include "diffusion/noise.h"
#include "diffusion/step_guidance.h"

namespace sagbench::diffusion {

struct SamplerOptions {
  SamplerKind kind = SamplerKind::kDdpm;
  double eta = 0.0;           // DDIM noise scale (0 = deterministic); must be 0 for DDPM
  bool clip_denoised = true;  // clamp x0 predictions to [-1, 1]
};

// The samples of one batch: global indices [first_index, first_index + count).
struct SampleBatch {
  std::int64_t first_index = 0;
  std::int64_t count = 0;
  at::Tensor labels;            // (count,) int64 class labels; undefined when the run has none
  bool condition_model = true;  // pass the labels to the network (false: unconditional model + classifier)
};

// Called after every step with the sample x (B, C, H, W) after that step.
using StepObserver = std::function<void(std::int64_t step, const at::Tensor& x)>;

class Sampler {
 public:
  // Throws kConfig for a negative eta, or eta != 0 with DDPM.
  Sampler(const GaussianDiffusion& diffusion, SamplerOptions options);

  // Runs every step from x_T to x_0 for one batch; returns x_0 as float32
  // (count, C, H, W) on `device`. `guidance` may be null (plain sampling).
  at::Tensor sample(Denoiser& model, const NoiseSource& noise, StepGuidance* guidance,
                    const SampleBatch& batch, at::IntArrayRef sample_shape, const at::Device& device,
                    const StepObserver& observer = {}) const;

  const GaussianDiffusion& diffusion() const { return diffusion_; }
  const SamplerOptions& options() const { return options_; }

 private:
  at::Tensor ddpm_step(const StepContext& ctx, StepModel& model, StepGuidance* guidance,
                       const at::Tensor& noise) const;
  at::Tensor ddim_step(const StepContext& ctx, StepModel& model, StepGuidance* guidance,
                       const at::Tensor& noise) const;
  // x0 of a prediction: the model's own x0 when unguided, else from the guided eps.
  at::Tensor predicted_xstart(const StepContext& ctx, const Prediction& prediction) const;
  // Whether step `t` adds fresh noise (drawn only then).
  bool needs_noise(std::int64_t t) const;

  const GaussianDiffusion& diffusion_;
  SamplerOptions options_;
};

// Throws kNumeric naming the step, t and the first sample index whose values
// in x are not all finite.
void check_finite(const at::Tensor& x, std::int64_t step, std::int64_t t, std::int64_t first_index);

}  // namespace sagbench::diffusion
