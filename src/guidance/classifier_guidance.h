// Classifier guidance (Dhariwal & Nichol 2021, Algorithms 1 and 2) with the
// official semantics of guided-diffusion's classifier_sample.py cond_fn and
// GaussianDiffusion.condition_mean / condition_score: the gradient
// s * grad_x log p(y | x_t, t) by autograd at x_t, the noisy classifier seeing
// the same timesteps as the diffusion model (original scale); DDPM adds
// variance * gradient to the mean, DDIM corrects eps by -sqrt(1 - abar) * gradient
// and recomputes x0 (unclipped). Combined with SAG it acts on the SAG-guided
// prediction, as the SAG repository orders it. Tested by
// tests/guidance/classifier_guidance_test.cpp (fixture gradients and trajectories).
#pragma once

#include <memory>
#include <string>

#include "guidance/guidance.h"

namespace sagbench::models {
class EncoderUNetModel;
}

namespace sagbench::guidance {

// Keys of `guidance.classifier:`; the classifier network itself is the
// top-level `classifier:` section (a preset from configs/models/).
struct ClassifierGuidanceSettings {
  double scale = 1.0;  // upstream --classifier_scale (README: 0.5 for DDPM-250 at 128 px, 1.0 for DDIM-25)

  template <class V>
  void visit(V& v) {
    v("scale", scale, "classifier scale s of s * grad log p(y|x_t) (--classifier_scale); 0 = off");
  }
  // kConfig unless scale is finite and >= 0.
  void validate() const;
};

// The noisy classifier as classifier guidance sees it.
class NoisyClassifier {
 public:
  virtual ~NoisyClassifier() = default;
  // Logits (B, classes) for x (B, C, H, W) at `timesteps` (B,), differentiable in x.
  virtual at::Tensor logits(const at::Tensor& x, const at::Tensor& timesteps) = 0;
  virtual std::int64_t num_classes() const = 0;
};

// An EncoderUNetModel as NoisyClassifier.
class EncoderUNetClassifier : public NoisyClassifier {
 public:
  explicit EncoderUNetClassifier(std::shared_ptr<models::EncoderUNetModel> model)
      : model_(std::move(model)) {}
  at::Tensor logits(const at::Tensor& x, const at::Tensor& timesteps) override;
  std::int64_t num_classes() const override;

 private:
  std::shared_ptr<models::EncoderUNetModel> model_;
};

// scale * d/dx sum_b log softmax(classifier(x, t))[b, labels_b], float32 like x.
// Labels outside the classifier's classes are a kConfig error.
at::Tensor classifier_gradient(NoisyClassifier& classifier, const at::Tensor& x, const at::Tensor& timesteps,
                               const at::Tensor& labels, double scale);

class ClassifierGuidance : public GuidanceTerm {
 public:
  ClassifierGuidance(std::shared_ptr<NoisyClassifier> classifier, ClassifierGuidanceSettings settings);

  std::string name() const override { return "classifier"; }
  std::string describe() const override;
  // DDPM: mean += variance * gradient (condition_mean).
  void guide_mean(const StepContext& ctx, const VarianceTerms& variance, at::Tensor& mean) override;
  // DDIM: eps = eps(x0) - sqrt(1 - abar) * gradient; x0 = x0(eps) (condition_score).
  void guide_xstart(const StepContext& ctx, at::Tensor& xstart) override;
  // The classifier's classes: labels are needed even for unconditional models.
  std::int64_t label_classes() const override { return classifier_->num_classes(); }

 private:
  at::Tensor gradient(const StepContext& ctx) const;

  std::shared_ptr<NoisyClassifier> classifier_;
  ClassifierGuidanceSettings settings_;
};

// Registry factory: binds `env.section`, builds the `classifier:` network on
// env.device with its checkpoint; nullptr when scale is 0.
std::unique_ptr<GuidanceTerm> make_classifier_guidance(const GuidanceEnvironment& env);
std::vector<config::SchemaEntry> classifier_guidance_schema();

}  // namespace sagbench::guidance
