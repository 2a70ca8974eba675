// UNetModel behind the Denoiser interface; labels reach the network only when
// it is class-conditional (upstream classifier_sample.py model_fn).
// Tested by tests/diffusion/trajectory_parity_test.cpp.
#include "diffusion/unet_denoiser.h"

#include "core/error.h"
#include "models/unet.h"

namespace sagbench::diffusion {

UNetDenoiser::UNetDenoiser(std::shared_ptr<models::UNetModel> model) : model_(std::move(model)) {
  SAG_CHECK(model_ != nullptr, "UNetDenoiser without a model");
}

at::Tensor UNetDenoiser::forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& y,
                                 models::AttentionProbe* probe) {
  // Upstream model_fn: y goes to the network only when it is class-conditional.
  const bool conditional = model_->num_classes() > 0;
  return model_->forward(x, timesteps, conditional ? y : at::Tensor(), probe);
}

}  // namespace sagbench::diffusion
