// Self-Attention Guidance (Hong et al., ICCV 2023, eq. 14-15) and blur
// guidance (the paper's ablation: the same step with a mask of ones), as the
// SAG repository's p_sample / ddim_sample do it: the reference pass's
// attention map -> mask, blur of the clipped x0, masked mix, re-noise with the
// predicted eps, a second pass, eps~ + g (eps - eps~) with g = 1 + s. Under
// classifier-free guidance it follows diffusers' StableDiffusionSAGPipeline:
// map and x0 of the unconditional pass, eps += s (eps_u - eps~). Tested by
// tests/guidance/sag_test.cpp (settings, properties) and sag_parity_test.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "guidance/guidance.h"
#include "models/attention_probe.h"

namespace sagbench::guidance {

// `guidance.sag.layer`: the attention block whose map SAG reads.
struct SagLayerSettings {
  std::string block = "output";
  int depth = 2;

  template <class V>
  void visit(V& v) {
    v.choice("block", block, {"input", "middle", "output"},
             "UNet part holding the probed attention layer (--sel_attn_block)");
    v("depth", depth, "index into input_blocks / output_blocks; ignored for middle (--sel_attn_depth)");
  }
};

// Keys of `guidance.sag:`. The scale is the paper's s (0 = off); the official
// flag guide_scale is g = 1 + s and is accepted as an alias.
struct SagSettings {
  std::optional<double> s;            // paper scale; with guide_scale unset too, kDefaultScale
  std::optional<double> guide_scale;  // official g = 1 + s
  std::string mode = "sag";
  std::string attention_map = "official";
  SagLayerSettings layer;
  double threshold = 1.0;
  double blur_sigma = 9.0;
  std::int64_t blur_kernel_size = 31;
  std::optional<std::int64_t> guide_start;
  std::optional<std::int64_t> guide_stop;

  // The official scripts' default --guide_scale 1.5.
  static constexpr double kDefaultScale = 0.5;

  template <class V>
  void visit(V& v) {
    v("s", s, "guidance scale s of the paper (0 = off); default 0.5 when neither s nor guide_scale is set");
    v("guide_scale", guide_scale, "the official --guide_scale g = 1 + s (alias of s; both must agree)");
    v.choice("mode", mode, {"sag", "blur"},
             "sag: blur where the attention mask selects; blur: blur everywhere (the paper's ablation)");
    v.choice(
        "attention_map", attention_map, {"official", "exact"},
        "official: the SAG repository's map (num_heads flag, legacy layout); exact: the block's true heads");
    v("layer", layer, "the attention layer SAG reads (validated against the model)");
    v("threshold", threshold, "mask threshold psi: positions whose received attention is > psi are blurred");
    v("blur_sigma", blur_sigma, "Gaussian blur sigma in pixels (--blur_sigma)");
    v("blur_kernel_size", blur_kernel_size, "Gaussian kernel size, odd and <= the image side (31 upstream)");
    v("guide_start", guide_start,
      "active while the respaced index t < guide_start (--guide_start); null = every step");
    v("guide_stop", guide_stop, "inactive once t < guide_stop (no upstream flag); null = to the last step");
  }
  // kConfig errors naming the key and its allowed values.
  void validate() const;

  // The resolved scales: s, and g = 1 + s (the given guide_scale when set).
  double paper_scale() const;
  double official_scale() const;
  // Whether SAG runs at respaced index t (guide_start > t >= guide_stop).
  bool active_at(std::int64_t t) const;
  // The probe selection these settings describe (results empty).
  models::AttentionProbe probe() const;
};

class SelfAttentionGuidance : public GuidanceTerm {
 public:
  // Validates `settings` (kConfig).
  explicit SelfAttentionGuidance(SagSettings settings);

  std::string name() const override { return "sag"; }
  std::string describe() const override;
  // Mode sag, inside the window: the probe for the reference pass.
  models::AttentionProbe* reference_probe(const StepContext& ctx) override;
  void guide_eps(const StepContext& ctx, StepModel& model, Prediction& prediction) override;

  const SagSettings& settings() const { return settings_; }

 private:
  SagSettings settings_;
  models::AttentionProbe probe_;
};

// Registry factory: binds `env.section`; nullptr when the scale is 0. With
// env.model set, the layer (mode sag) and the kernel size are checked against
// the network: kConfig listing the valid attention sites.
std::unique_ptr<GuidanceTerm> make_self_attention_guidance(const GuidanceEnvironment& env);
std::vector<config::SchemaEntry> self_attention_guidance_schema();

}  // namespace sagbench::guidance
