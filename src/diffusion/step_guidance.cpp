// The plain (unguided) prediction of a step. See step_guidance.h.
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
