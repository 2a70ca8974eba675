// The ADM UNetModel as the sampler's Denoiser: labels are passed only to
// class-conditional models, the attention probe straight through. Tested by
// tests/diffusion/trajectory_parity_test.cpp (fixture trajectories).
#pragma once

#include <memory>

#include "diffusion/denoiser.h"

namespace sagbench::models {
class UNetModel;
}

namespace sagbench::diffusion {

class UNetDenoiser : public Denoiser {
 public:
  explicit UNetDenoiser(std::shared_ptr<models::UNetModel> model);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& y,
                     models::AttentionProbe* probe) override;
  const models::UNetModel& model() const { return *model_; }

 private:
  std::shared_ptr<models::UNetModel> model_;
};

}  // namespace sagbench::diffusion
