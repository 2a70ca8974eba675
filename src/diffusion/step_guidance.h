// The three points where guidance enters one sampling step, as the samplers
// call them (the hook interface; the composable guidance terms of
// src/guidance/guidance.h implement it):
//   1. predict:      the eps the step uses (plain: one pass; SAG/CFG: more)
//   2. guide_mean:   DDPM only, shifts the posterior mean (classifier guidance,
//                    guided-diffusion condition_mean)
//   3. guide_xstart: DDIM only, corrects the score through x0 (classifier
//                    guidance, condition_score)
// Order within a step follows the SAG repository's p_sample / ddim_sample.
// Tested through tests/diffusion/sampler_test.cpp and tests/guidance/.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "diffusion/denoiser.h"
#include "diffusion/gaussian_diffusion.h"

namespace sagbench::diffusion {

enum class SamplerKind { kDdpm, kDdim };

// Everything one sampling step knows, for every guidance hook.
struct StepContext {
  const GaussianDiffusion* diffusion = nullptr;  // the respaced process (tables, formulas)
  SamplerKind sampler = SamplerKind::kDdpm;
  std::int64_t step = 0;         // sampling step: 0 = first (largest t) ... num_steps - 1
  std::int64_t t = 0;            // respaced index: num_steps - 1 ... 0 (SAG's guide_start window)
  at::Tensor x_t;                // (B, C, H, W) float32, the current sample
  at::Tensor model_timesteps;    // (B,) what the network and a noisy classifier see at t
  at::Tensor y;                  // (B,) int64 labels the network gets; undefined for unconditional models
  at::Tensor labels;             // (B,) int64 class labels of the samples (the classifier-guidance
                                 // target; equal to y for conditional models); undefined when none
  double alpha_bar = 1.0;        // abar_t of the respaced process (float64)
  bool clip_denoised = true;     // clamp x0 predictions to [-1, 1]
  std::int64_t first_index = 0;  // global index of the batch's first sample
};

// The model's prediction for a step after eps-level guidance.
struct Prediction {
  ModelPass main;           // pass 1 on (x_t, y): the DDPM variance always comes from here
  at::Tensor eps;           // the eps the sampler uses; main.eps unless a term changed it
  bool eps_guided = false;  // true once a term replaced eps (x0 is then re-derived from it)
  // The pass a degradation guidance (SAG, blur) contrasts with, and its labels:
  // `main` for plain sampling; the unconditional pass under classifier-free guidance.
  ModelPass reference;
  at::Tensor reference_y;
};

// Pass 1 on (x_t, y) with `probe` attached; eps = the model's eps.
Prediction plain_prediction(const StepContext& ctx, StepModel& model,
                            models::AttentionProbe* probe = nullptr);

class StepGuidance {
 public:
  virtual ~StepGuidance() = default;
  // The step's prediction (must at least run pass 1, e.g. via plain_prediction).
  virtual Prediction predict(const StepContext& ctx, StepModel& model) = 0;
  // DDPM: `mean` is the posterior mean of the (clipped) x0; `variance` is the
  // step's model variance. Shift `mean` in place.
  virtual void guide_mean(const StepContext& ctx, const VarianceTerms& variance, at::Tensor& mean) = 0;
  // DDIM: `xstart` is the processed x0 of the guided eps; replace it by the
  // x0 of the corrected score (left unclipped, as upstream).
  virtual void guide_xstart(const StepContext& ctx, at::Tensor& xstart) = 0;
  // The number of classes the guidance needs sample labels over (a noisy
  // classifier's class count); 0 when it needs no labels.
  virtual std::int64_t label_classes() const { return 0; }
  // One line for logs and provenance.
  virtual std::string describe() const { return "custom guidance"; }
};

}  // namespace sagbench::diffusion
