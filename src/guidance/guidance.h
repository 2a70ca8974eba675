// Guidance terms: small classes behind one interface, composed from the
// config's `guidance:` map into a GuidanceChain that the DDPM/DDIM samplers
// call through diffusion::StepGuidance. The hooks mirror where the SAG
// repository's p_sample / ddim_sample apply each kind of guidance, so that
// composing terms reproduces the official order (eps-level SAG first, then
// classifier guidance on the guided prediction). Adding a method = one new
// .h/.cpp pair with a GuidanceTerm subclass + one entry in guidance_registry.cpp.
// Tested by tests/guidance/guidance_chain_test.cpp and the per-term tests.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "config/document.h"
#include "config/schema.h"
#include "diffusion/gaussian_diffusion.h"
#include "diffusion/step_guidance.h"

namespace sagbench::models {
struct AttentionProbe;
class UNetModel;
}  // namespace sagbench::models

namespace sagbench::guidance {

using diffusion::ModelPass;
using diffusion::Prediction;
using diffusion::SamplerKind;
using diffusion::StepContext;
using diffusion::StepModel;
using diffusion::VarianceTerms;

// One guidance method. Per sampling step the chain calls, in this order:
//
//  1. reference_probe(ctx): a term that needs the attention map of the
//     reference pass (SAG) returns its own models::AttentionProbe (selection
//     set, results empty) when it is active at this step, else nullptr. At
//     most one term may ask per step. The probe is attached to the reference
//     pass only, so no other pass materialises a map.
//
//  2. predict(ctx, model, probe): only the one term whose
//     replaces_prediction() is true (classifier-free guidance) is called; it
//     runs its own passes (cond and uncond) through `model`, attaches `probe`
//     to the pass it declares as reference (the unconditional one, diffusers
//     semantics), and returns the combined eps, `main` (the pass whose learned
//     variance the DDPM step uses: the conditional one, as GLIDE) and the
//     reference pass and labels. Without such a term the chain makes the
//     plain prediction: pass 1 on (x_t, y) with the probe; eps = main = reference.
//
//  3. guide_eps(ctx, model, prediction), in chain order: eps-level terms read
//     the reference pass (prediction.reference.eps, reference_y, their probe's
//     map), run extra passes with model.run(x, y, probe) at the same step, and
//     write prediction.eps (setting prediction.eps_guided = true). SAG, per
//     REFERENCE.md §1: x0 = process_xstart(ctx.diffusion->predict_xstart_from_eps(
//     ctx.x_t, ctx.t, reference.eps), ctx.clip_denoised); mask from the map;
//     blur/mix; x~_t = ctx.diffusion->q_sample(x~0, ctx.t, reference.eps);
//     eps~ = model.run(x~_t, reference_y).eps; then, when eps is still the
//     reference eps (no CFG), the official eps~ + g (eps - eps~); under CFG
//     eps + s (reference.eps - eps~). Window checks use ctx.t (the respaced
//     index, upstream `guide_start > t`). Do nothing when inactive (so s = 0
//     or an out-of-window step reproduces plain sampling bit for bit).
//     The sampler then forms x0 = process_xstart(pred_xstart_from_eps(eps)),
//     the DDPM mean = q_posterior_mean(x0, x_t) with the variance of
//     prediction.main (pass 1), or the DDIM x0.
//
//  4. guide_mean(ctx, variance, mean) (DDPM) or guide_xstart(ctx, xstart)
//     (DDIM), in chain order: mean/score-level terms (classifier guidance)
//     shift the posterior mean, or correct the score through x0.
//
// All tensors are float32 on the sampling device; hooks run under
// torch::NoGradGuard (a term that needs gradients enables them locally).
class GuidanceTerm {
 public:
  virtual ~GuidanceTerm() = default;
  // The registry key ("classifier", "sag", ...).
  virtual std::string name() const = 0;
  // The resolved settings in one line (logs, provenance), e.g. "sag s=0.5 (g=1.5) sigma=9 ...".
  virtual std::string describe() const = 0;

  virtual models::AttentionProbe* reference_probe(const StepContext& /*ctx*/) { return nullptr; }
  virtual bool replaces_prediction() const { return false; }
  // Called only when replaces_prediction(); the default fails an invariant.
  virtual Prediction predict(const StepContext& ctx, StepModel& model, models::AttentionProbe* probe);
  virtual void guide_eps(const StepContext& /*ctx*/, StepModel& /*model*/, Prediction& /*prediction*/) {}
  virtual void guide_mean(const StepContext& /*ctx*/, const VarianceTerms& /*variance*/,
                          at::Tensor& /*mean*/) {}
  virtual void guide_xstart(const StepContext& /*ctx*/, at::Tensor& /*xstart*/) {}
  // Sample labels: a term that needs labels for unconditional models too
  // (classifier guidance) returns its class count; a term that reserves
  // labels (a CFG null label) returns the count of real classes. The sampling
  // job draws labels from [0, min of the model's and the terms' non-zero counts).
  virtual std::int64_t label_classes() const { return 0; }
};

// The terms of one run, applied in the order above (config order within a stage).
class GuidanceChain : public diffusion::StepGuidance {
 public:
  GuidanceChain() = default;
  // kConfig error when two terms replace the prediction.
  explicit GuidanceChain(std::vector<std::unique_ptr<GuidanceTerm>> terms);

  Prediction predict(const StepContext& ctx, StepModel& model) override;
  void guide_mean(const StepContext& ctx, const VarianceTerms& variance, at::Tensor& mean) override;
  void guide_xstart(const StepContext& ctx, at::Tensor& xstart) override;
  // The smallest non-zero label_classes() of the terms; 0 when none needs labels.
  std::int64_t label_classes() const override;

  bool empty() const { return terms_.empty(); }
  const std::vector<std::unique_ptr<GuidanceTerm>>& terms() const { return terms_; }
  // "none", or the terms' describe() joined by "; ".
  std::string describe() const override;

 private:
  std::vector<std::unique_ptr<GuidanceTerm>> terms_;
  GuidanceTerm* predictor_ = nullptr;
};

// What a factory may use to build and validate its term.
struct GuidanceEnvironment {
  const config::Document* document = nullptr;  // the resolved run config (a term may read other sections)
  std::string section;                         // the term's own key path, e.g. "guidance.sag"
  const diffusion::GaussianDiffusion* diffusion = nullptr;
  const models::UNetModel* model =
      nullptr;  // the sampled network (layer / null-label checks); may be null in tests
  at::Device device = at::kCPU;
};

// Builds a term from its config section (bind it with config::bind<T>(*env.document,
// env.section)); returns nullptr when the settings switch it off (scale 0).
using GuidanceFactory = std::unique_ptr<GuidanceTerm> (*)(const GuidanceEnvironment& env);
// The term's keys (config::schema_entries<Settings>()) for --help and README tables.
using GuidanceSchema = std::vector<config::SchemaEntry> (*)();

struct GuidanceRegistration {
  const char* name;     // the key under `guidance:`
  const char* summary;  // one line for --help
  GuidanceFactory factory;
  GuidanceSchema schema;
};

// Every registered term (guidance_registry.cpp).
const std::vector<GuidanceRegistration>& guidance_registry();
// nullptr when no term has that name.
const GuidanceRegistration* find_guidance(const std::string& name);

// The chain from the `guidance:` map of `env.document` (absent or empty map =
// plain sampling): each key names a registered term, in document order.
// Unknown names are kConfig errors listing the registered ones.
GuidanceChain build_guidance_chain(const GuidanceEnvironment& env);

}  // namespace sagbench::guidance
