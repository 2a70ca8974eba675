// The network as the sampler sees it (Denoiser), and one sampling step's view
// of it (StepModel): a forward pass at the step's timesteps, split into eps,
// the model's own x0 (x0-predicting models) and the learned-variance values,
// as guided-diffusion's p_mean_variance splits model_output. Guidance terms
// run their extra passes through StepModel. Tested through
// tests/diffusion/sampler_test.cpp (with a closed-form test double).
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace sagbench::models {
struct AttentionProbe;
}

namespace sagbench::diffusion {

class GaussianDiffusion;

class Denoiser {
 public:
  virtual ~Denoiser() = default;
  // The raw network output (B, C or 2C, H, W) for x (B, C, H, W) at
  // `timesteps` (B,) (int64, or float32 when rescaled), labels `y` (B,) int64
  // or undefined for unconditional calls. `probe`, when given, selects one
  // attention block and receives its map during this call.
  virtual at::Tensor forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& y,
                             models::AttentionProbe* probe) = 0;
};

// One model evaluation in the sampler's terms.
struct ModelPass {
  at::Tensor eps;         // (B, C, H, W); for x0-predicting models derived from their x0
  at::Tensor xstart;      // the model's own (unclipped) x0 when it predicts x0; else undefined
  at::Tensor var_values;  // (B, C, H, W) learned-range values in [-1, 1]; undefined for fixed variance
};

// The model bound to one sampling step: respaced index t and the timesteps the
// network sees there.
class StepModel {
 public:
  StepModel(const GaussianDiffusion& diffusion, Denoiser& model, std::int64_t t, at::Tensor model_timesteps)
      : diffusion_(diffusion), model_(model), t_(t), model_timesteps_(std::move(model_timesteps)) {}

  // One forward pass on x (B, C, H, W) with labels y (undefined = none).
  // The output's channel count is checked against the process (kShape).
  ModelPass run(const at::Tensor& x, const at::Tensor& y, models::AttentionProbe* probe = nullptr);

  // Forward passes made through this object (cost accounting, tests).
  std::int64_t passes() const { return passes_; }
  const at::Tensor& model_timesteps() const { return model_timesteps_; }

 private:
  const GaussianDiffusion& diffusion_;
  Denoiser& model_;
  std::int64_t t_;
  at::Tensor model_timesteps_;
  std::int64_t passes_ = 0;
};

}  // namespace sagbench::diffusion
