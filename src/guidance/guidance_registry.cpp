// The registry of guidance terms: the names accepted under `guidance:`.
// A new method adds its header and one line here.
// Tested by tests/guidance/guidance_chain_test.cpp (every entry builds a schema).
#include "guidance/cfg.h"
#include "guidance/classifier_guidance.h"
#include "guidance/guidance.h"
#include "guidance/sag.h"

namespace sagbench::guidance {

const std::vector<GuidanceRegistration>& guidance_registry() {
  static const std::vector<GuidanceRegistration> registry = {
      {"classifier", "classifier guidance with a noisy classifier (mean shift for DDPM, score for DDIM)",
       &make_classifier_guidance, &classifier_guidance_schema},
      {"sag", "self-attention guidance (mode sag) or blur guidance (mode blur)",
       &make_self_attention_guidance, &self_attention_guidance_schema},
      {"cfg", "classifier-free guidance over the model's null label", &make_classifier_free_guidance,
       &classifier_free_guidance_schema},
  };
  return registry;
}

}  // namespace sagbench::guidance
