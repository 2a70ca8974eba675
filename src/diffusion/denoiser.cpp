// StepModel::run: one forward pass split into eps, the model's own x0 and the
// learned-variance values, as guided-diffusion p_mean_variance splits model_output.
// Tested by tests/diffusion/sampler_test.cpp and trajectory_parity_test.cpp.
#include "diffusion/denoiser.h"

#include <fmt/format.h>

#include "core/error.h"
#include "diffusion/gaussian_diffusion.h"

namespace sagbench::diffusion {

ModelPass StepModel::run(const at::Tensor& x, const at::Tensor& y, models::AttentionProbe* probe) {
  SAG_CHECK(x.dim() == 4, "StepModel expects x of shape (B, C, H, W)");
  at::Tensor out = model_.forward(x, model_timesteps_, y, probe);
  ++passes_;
  const std::int64_t channels = x.size(1);
  const std::int64_t expected = diffusion_.model_output_channels(channels);
  SAG_REQUIRE(
      out.dim() == 4 && out.size(0) == x.size(0) && out.size(1) == expected && out.size(2) == x.size(2) &&
          out.size(3) == x.size(3),
      kShape,
      "model output of shape ({}) does not fit input ({}): expected {} channels ({}); check learn_sigma",
      fmt::join(out.sizes(), ", "), fmt::join(x.sizes(), ", "), expected,
      expected == channels ? "fixed variance" : "eps + learned variance");
  if (out.scalar_type() != at::kFloat) {
    out = out.to(at::kFloat);
  }
  ModelPass pass;
  at::Tensor prediction = out;
  if (expected != channels) {
    prediction = out.narrow(1, 0, channels);
    pass.var_values = out.narrow(1, channels, channels);
  }
  if (diffusion_.options().mean_type == ModelMeanType::kStartX) {
    pass.xstart = prediction;
    pass.eps = diffusion_.predict_eps_from_xstart(x, t_, prediction);
  } else {
    pass.eps = prediction;
  }
  return pass;
}

}  // namespace sagbench::diffusion
