// The registry of guidance terms: the names accepted under `guidance:`.
// A new method adds its header and one line here.
#include "guidance/classifier_guidance.h"
#include "guidance/guidance.h"

namespace sagbench::guidance {

const std::vector<GuidanceRegistration>& guidance_registry() {
  static const std::vector<GuidanceRegistration> registry = {
      {"classifier", "classifier guidance with a noisy classifier (mean shift for DDPM, score for DDIM)",
       &make_classifier_guidance, &classifier_guidance_schema},
  };
  return registry;
}

}  // namespace sagbench::guidance
