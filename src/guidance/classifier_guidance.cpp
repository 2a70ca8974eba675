// Classifier guidance: guided-diffusion classifier_sample.py cond_fn (autograd
// gradient of log p(y | x_t)), condition_mean (DDPM) and condition_score (DDIM).
// Tested by tests/guidance/classifier_guidance_test.cpp.
#include "guidance/classifier_guidance.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>

#include "config/config.h"
#include "core/error.h"
#include "models/model_loading.h"

namespace sagbench::guidance {

void ClassifierGuidanceSettings::validate() const {
  SAG_REQUIRE(std::isfinite(scale) && scale >= 0.0, kConfig, "scale must be a finite number >= 0 (got {})",
              scale);
}

at::Tensor EncoderUNetClassifier::logits(const at::Tensor& x, const at::Tensor& timesteps) {
  return model_->forward(x, timesteps);
}

at::Tensor classifier_gradient(NoisyClassifier& classifier, const at::Tensor& x, const at::Tensor& timesteps,
                               const at::Tensor& labels, double scale) {
  SAG_REQUIRE(labels.defined(), kConfig,
              "classifier guidance needs class labels; set sampling.labels (random or fixed)");
  torch::AutoGradMode enable_grad(true);
  const at::Tensor x_in = x.detach().requires_grad_(true);
  const at::Tensor logits = classifier.logits(x_in, timesteps);
  SAG_REQUIRE(logits.dim() == 2 && logits.size(0) == x.size(0), kShape,
              "classifier logits have shape ({}), expected ({}, classes)", fmt::join(logits.sizes(), ", "),
              x.size(0));
  const std::int64_t classes = logits.size(1);
  const std::int64_t max_label = labels.max().item<std::int64_t>();
  const std::int64_t min_label = labels.min().item<std::int64_t>();
  SAG_REQUIRE(min_label >= 0 && max_label < classes, kConfig,
              "class label {} is outside the classifier's {} classes", min_label < 0 ? min_label : max_label,
              classes);
  const at::Tensor log_probs = at::log_softmax(logits.to(at::kFloat), -1);
  const at::Tensor selected = log_probs.gather(1, labels.reshape({-1, 1}).to(at::kLong)).squeeze(1);
  const at::Tensor grad = torch::autograd::grad({selected.sum()}, {x_in})[0];
  return grad.to(at::kFloat) * scale;
}

std::int64_t EncoderUNetClassifier::num_classes() const {
  return model_->config().out_channels;
}

ClassifierGuidance::ClassifierGuidance(std::shared_ptr<NoisyClassifier> classifier,
                                       ClassifierGuidanceSettings settings)
    : classifier_(std::move(classifier)), settings_(settings) {
  SAG_CHECK(classifier_ != nullptr, "classifier guidance without a classifier");
  settings_.validate();
}

std::string ClassifierGuidance::describe() const {
  return fmt::format("classifier scale={}", settings_.scale);
}

at::Tensor ClassifierGuidance::gradient(const StepContext& ctx) const {
  return classifier_gradient(*classifier_, ctx.x_t, ctx.model_timesteps, ctx.labels, settings_.scale);
}

void ClassifierGuidance::guide_mean(const StepContext& ctx, const VarianceTerms& variance, at::Tensor& mean) {
  mean = mean + variance.variance * gradient(ctx);
}

void ClassifierGuidance::guide_xstart(const StepContext& ctx, at::Tensor& xstart) {
  const diffusion::GaussianDiffusion& d = *ctx.diffusion;
  const at::Tensor alpha_bar = d.extract(d.tables().alphas_cumprod, ctx.t, ctx.x_t);
  at::Tensor eps = d.predict_eps_from_xstart(ctx.x_t, ctx.t, xstart);
  eps = eps - at::sqrt(1 - alpha_bar) * gradient(ctx);
  xstart = d.predict_xstart_from_eps(ctx.x_t, ctx.t, eps);
}

std::unique_ptr<GuidanceTerm> make_classifier_guidance(const GuidanceEnvironment& env) {
  const auto settings = config::bind<ClassifierGuidanceSettings>(*env.document, env.section);
  if (settings.scale == 0.0) {
    return nullptr;
  }
  SAG_REQUIRE(env.document->has("classifier"), kConfig,
              "{} needs a `classifier:` section: include a classifier preset from configs/models/",
              env.section);
  const auto classifier_config = config::bind<models::EncoderUNetConfig>(*env.document, "classifier");
  SAG_REQUIRE(!classifier_config.checkpoint.empty(), kConfig,
              "classifier.checkpoint is empty: classifier guidance needs trained classifier weights");
  auto network = models::build_classifier(classifier_config, env.device);
  return std::make_unique<ClassifierGuidance>(std::make_shared<EncoderUNetClassifier>(std::move(network)),
                                              settings);
}

std::vector<config::SchemaEntry> classifier_guidance_schema() {
  return config::schema_entries<ClassifierGuidanceSettings>();
}

}  // namespace sagbench::guidance
