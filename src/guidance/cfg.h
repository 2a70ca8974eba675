// Classifier-free guidance (Ho & Salimans 2022, eq. 6 with w = 1 + their w):
// eps = eps_u + w (eps_c - eps_u) for a model trained with a null label, the
// form diffusers' pipelines use (guidance_scale = w). The null-label pass
// carries the attention probe when SAG asks for one (diffusers'
// StableDiffusionSAGPipeline reads the unconditional map); the DDPM variance
// comes from the conditional pass. The two passes run separately because a
// StepModel serves one batch size. Tested by tests/guidance/cfg_test.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "guidance/guidance.h"

namespace sagbench::guidance {

// Keys of `guidance.cfg:`.
struct CfgSettings {
  double scale = 3.0;  // w: 0 = unconditional, 1 = conditional, > 1 = guided
  std::optional<std::int64_t> null_label;

  template <class V>
  void visit(V& v) {
    v("scale", scale,
      "guidance weight w of eps_u + w (eps_c - eps_u) (diffusers guidance_scale); 1 = plain conditional");
    v("null_label", null_label,
      "the label the model was trained with as 'no class': its last, num_classes - 1; required");
  }
  // kConfig unless scale is finite and >= 0 and null_label, when set, is >= 0.
  void validate() const;
};

class ClassifierFreeGuidance : public GuidanceTerm {
 public:
  // kConfig when null_label is unset (the model must declare one).
  explicit ClassifierFreeGuidance(CfgSettings settings);

  std::string name() const override { return "cfg"; }
  std::string describe() const override;
  bool replaces_prediction() const override { return true; }
  // Passes on (x_t, null) with the probe and on (x_t, y); eps as above,
  // eps_guided set; main = the conditional pass, reference = the unconditional one.
  Prediction predict(const StepContext& ctx, StepModel& model, models::AttentionProbe* probe) override;
  // The real classes 0 .. null_label - 1 (the null label is the model's last).
  std::int64_t label_classes() const override { return *settings_.null_label; }

 private:
  CfgSettings settings_;
};

// Registry factory. With env.model set: kConfig when the model is
// unconditional or null_label is not its last label (num_classes - 1).
std::unique_ptr<GuidanceTerm> make_classifier_free_guidance(const GuidanceEnvironment& env);
std::vector<config::SchemaEntry> classifier_free_guidance_schema();

}  // namespace sagbench::guidance
