// The plain (unguided) prediction of a step: pass 1 on (x_t, y), which is also
// the reference pass for degradation guidance (SAG).
// Tested by tests/diffusion/sampler_test.cpp and tests/guidance/guidance_chain_test.cpp.
#include "diffusion/step_guidance.h"

namespace sagbench::diffusion {

Prediction plain_prediction(const StepContext& ctx, StepModel& model, models::AttentionProbe* probe) {
  Prediction prediction;
  prediction.main = model.run(ctx.x_t, ctx.y, probe);
  prediction.eps = prediction.main.eps;
  prediction.reference = prediction.main;
  prediction.reference_y = ctx.y;
  return prediction;
}

}  // namespace sagbench::diffusion
