// Classifier-free guidance over a null label: settings and model checks, the
// two passes and their combination (diffusers' guidance_scale form). See cfg.h;
// tested by tests/guidance/cfg_test.cpp.
#include "guidance/cfg.h"

#include <fmt/format.h>

#include <cmath>

#include "config/config.h"
#include "core/error.h"
#include "models/unet.h"

namespace sagbench::guidance {
void CfgSettings::validate() const {
  SAG_REQUIRE(std::isfinite(scale) && scale >= 0.0, kConfig,
              "scale must be a finite number >= 0 (w: 0 = unconditional, 1 = conditional), got {}", scale);
  if (null_label.has_value()) {
    SAG_REQUIRE(*null_label >= 0, kConfig, "null_label must be a label index >= 0, got {}", *null_label);
  }
}

ClassifierFreeGuidance::ClassifierFreeGuidance(CfgSettings settings) : settings_(settings) {
  settings_.validate();
  SAG_REQUIRE(settings_.null_label.has_value(), kConfig,
              "null_label is not set: classifier-free guidance needs a model trained with a null label; set "
              "null_label to that label, the model's last (num_classes - 1)");
}

std::string ClassifierFreeGuidance::describe() const {
  return fmt::format("cfg w={} null_label={}", settings_.scale, *settings_.null_label);
}

Prediction ClassifierFreeGuidance::predict(const StepContext& ctx, StepModel& model,
                                           models::AttentionProbe* probe) {
  SAG_REQUIRE(
      ctx.y.defined(), kConfig,
      "classifier-free guidance needs class labels: use a class-conditional model and set sampling labels");
  const std::int64_t null_label = *settings_.null_label;
  SAG_REQUIRE(
      !at::eq(ctx.y, null_label).any().item<bool>(), kConfig,
      "a sample's class label equals guidance.cfg.null_label {}: draw labels from the real classes only",
      null_label);
  const at::Tensor y_null = at::full_like(ctx.y, null_label);
  Prediction prediction;
  // The unconditional pass first, with the probe (diffusers reads the unconditional map).
  prediction.reference = model.run(ctx.x_t, y_null, probe);
  prediction.main = model.run(ctx.x_t, ctx.y);
  prediction.reference_y = y_null;
  const at::Tensor& eps_u = prediction.reference.eps;
  prediction.eps = eps_u + settings_.scale * (prediction.main.eps - eps_u);
  prediction.eps_guided = true;
  return prediction;
}

std::unique_ptr<GuidanceTerm> make_classifier_free_guidance(const GuidanceEnvironment& env) {
  const auto settings = config::bind<CfgSettings>(*env.document, env.section);
  SAG_REQUIRE(
      settings.null_label.has_value(), kConfig,
      "{}.null_label is not set: classifier-free guidance needs a model trained with a null label; set it "
      "to that label, the model's last (num_classes - 1)",
      env.section);
  if (env.model != nullptr) {
    const std::int64_t classes = env.model->num_classes();
    SAG_REQUIRE(classes > 0, kConfig,
                "{}: the model is unconditional (model.class_cond false); classifier-free guidance needs a "
                "class-conditional model trained with a null label",
                env.section);
    SAG_REQUIRE(
        *settings.null_label == classes - 1, kConfig,
        "{}.null_label = {} must be the model's last label {} (num_classes - 1, trained as 'no class'); "
        "labels 0..{} are the real classes",
        env.section, *settings.null_label, classes - 1, classes - 2);
  }
  return std::make_unique<ClassifierFreeGuidance>(settings);
}

std::vector<config::SchemaEntry> classifier_free_guidance_schema() {
  return config::schema_entries<CfgSettings>();
}

}  // namespace sagbench::guidance
