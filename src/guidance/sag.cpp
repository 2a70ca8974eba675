// Self-Attention Guidance and blur guidance: settings checks, the probe of the
// reference pass and the guided eps (SAG repository p_sample / ddim_sample;
// diffusers StableDiffusionSAGPipeline under CFG). See sag.h; tested by
// tests/guidance/sag_test.cpp, sag_settings_test.cpp and sag_parity_test.cpp.
#include "guidance/sag.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "config/config.h"
#include "core/error.h"
#include "guidance/sag_degrade.h"
#include "models/unet.h"

namespace sagbench::guidance {
namespace {

// g and 1 + s agree when they differ by float64 rounding only.
bool scales_agree(double s, double g) {
  return std::abs((1.0 + s) - g) <= 1e-12 * std::max(1.0, std::abs(g));
}

std::string optional_text(const std::optional<std::int64_t>& value) {
  return value.has_value() ? std::to_string(*value) : std::string("none");
}

}  // namespace

void SagSettings::validate() const {
  if (s.has_value()) {
    SAG_REQUIRE(std::isfinite(*s) && *s >= 0.0, kConfig,
                "s must be a finite number >= 0 (the paper's scale, 0 = off), got {}", *s);
  }
  if (guide_scale.has_value()) {
    SAG_REQUIRE(std::isfinite(*guide_scale) && *guide_scale >= 1.0, kConfig,
                "guide_scale must be a finite number >= 1 (the official g = 1 + s, 1 = off), got {}",
                *guide_scale);
  }
  if (s.has_value() && guide_scale.has_value()) {
    SAG_REQUIRE(scales_agree(*s, *guide_scale), kConfig,
                "s = {} and guide_scale = {} disagree: guide_scale is 1 + s; set only one of them", *s,
                *guide_scale);
  }
  SAG_REQUIRE(!std::isnan(threshold) && threshold < std::numeric_limits<double>::infinity(), kConfig,
              "threshold must be a number < +inf (-.inf selects every position, like mode blur), got {}",
              threshold);
  SAG_REQUIRE(std::isfinite(blur_sigma) && blur_sigma > 0.0, kConfig,
              "blur_sigma must be a finite number > 0 (pixels), got {}", blur_sigma);
  SAG_REQUIRE(blur_kernel_size >= 1 && blur_kernel_size % 2 == 1, kConfig,
              "blur_kernel_size must be an odd integer >= 1 (and <= the image side), got {}",
              blur_kernel_size);
  SAG_REQUIRE(layer.depth >= 0, kConfig, "layer.depth must be >= 0, got {}", layer.depth);
  if (guide_start.has_value()) {
    SAG_REQUIRE(*guide_start >= 1, kConfig,
                "guide_start must be >= 1 (SAG runs while t < guide_start; null = every step), got {}",
                *guide_start);
  }
  if (guide_stop.has_value()) {
    SAG_REQUIRE(*guide_stop >= 0, kConfig, "guide_stop must be >= 0, got {}", *guide_stop);
    SAG_REQUIRE(
        !guide_start.has_value() || *guide_stop < *guide_start, kConfig,
        "guide_stop ({}) must be < guide_start ({}): the window guide_start > t >= guide_stop is empty",
        *guide_stop, *guide_start);
  }
}

double SagSettings::paper_scale() const {
  if (s.has_value()) {
    return *s;
  }
  return guide_scale.has_value() ? *guide_scale - 1.0 : kDefaultScale;
}

double SagSettings::official_scale() const {
  return guide_scale.has_value() ? *guide_scale : 1.0 + paper_scale();
}

bool SagSettings::active_at(std::int64_t t) const {
  return (!guide_start.has_value() || t < *guide_start) && (!guide_stop.has_value() || t >= *guide_stop);
}

models::AttentionProbe SagSettings::probe() const {
  models::AttentionProbe probe;
  probe.block = models::parse_attention_block(layer.block, "layer.block");
  probe.depth = layer.depth;
  probe.map_kind = models::parse_attention_map(attention_map, "attention_map");
  return probe;
}

SelfAttentionGuidance::SelfAttentionGuidance(SagSettings settings) : settings_(std::move(settings)) {
  settings_.validate();
  probe_ = settings_.probe();
}

std::string SelfAttentionGuidance::describe() const {
  const std::string what =
      settings_.mode == "blur"
          ? std::string("mode=blur")
          : fmt::format("mode=sag map={} layer={} {} threshold={}", settings_.attention_map,
                        settings_.layer.block, settings_.layer.depth, settings_.threshold);
  return fmt::format(
      "sag s={} (guide_scale={}) {} blur_sigma={} blur_kernel_size={} guide_start={} guide_stop={}",
      settings_.paper_scale(), settings_.official_scale(), what, settings_.blur_sigma,
      settings_.blur_kernel_size, optional_text(settings_.guide_start), optional_text(settings_.guide_stop));
}

models::AttentionProbe* SelfAttentionGuidance::reference_probe(const StepContext& ctx) {
  if (settings_.mode != "sag" || !settings_.active_at(ctx.t)) {
    return nullptr;
  }
  probe_.map = at::Tensor();
  probe_.heads = probe_.grid_height = probe_.grid_width = 0;
  return &probe_;
}

void SelfAttentionGuidance::guide_eps(const StepContext& ctx, StepModel& model, Prediction& prediction) {
  if (!settings_.active_at(ctx.t)) {
    return;
  }
  const diffusion::GaussianDiffusion& d = *ctx.diffusion;
  const ModelPass& reference = prediction.reference;
  // The reference pass's x0 as p_mean_variance gives it: clipped, from the
  // model's own x0 for x0-predicting models.
  const at::Tensor x0 = diffusion::process_xstart(
      reference.xstart.defined() ? reference.xstart
                                 : d.predict_xstart_from_eps(ctx.x_t, ctx.t, reference.eps),
      ctx.clip_denoised);
  at::Tensor mask;
  if (settings_.mode == "sag") {
    SAG_CHECK(probe_.map.defined(), "the SAG probe was not attached to the reference pass");
    mask = attention_mask(probe_.map, probe_.heads, probe_.grid_height, probe_.grid_width,
                          settings_.threshold, x0.size(2), x0.size(3));
    probe_.map = at::Tensor();  // the map is (B*heads, T, T): release it before the second pass
  }
  const at::Tensor degraded =
      degraded_input(d, ctx.t, x0, reference.eps, mask, settings_.blur_kernel_size, settings_.blur_sigma);
  const at::Tensor eps_degraded = model.run(degraded, prediction.reference_y).eps;
  if (!prediction.eps_guided) {
    // The official form eps~ + g (eps - eps~), eps being the reference pass's.
    prediction.eps = eps_degraded + settings_.official_scale() * (prediction.eps - eps_degraded);
  } else {
    // On top of another eps-level term (CFG): eps += s (eps_ref - eps~), diffusers' form.
    prediction.eps = prediction.eps + settings_.paper_scale() * (reference.eps - eps_degraded);
  }
  prediction.eps_guided = true;
}

std::unique_ptr<GuidanceTerm> make_self_attention_guidance(const GuidanceEnvironment& env) {
  const auto settings = config::bind<SagSettings>(*env.document, env.section);
  if (settings.paper_scale() == 0.0) {
    return nullptr;
  }
  if (env.model != nullptr) {
    const std::int64_t image_size = env.model->config().image_size;
    SAG_REQUIRE(settings.blur_kernel_size <= image_size, kConfig,
                "{}.blur_kernel_size = {} is larger than the model's {}x{} images; use an odd size <= {}",
                env.section, settings.blur_kernel_size, image_size, image_size,
                image_size % 2 == 1 ? image_size : image_size - 1);
    if (settings.mode == "sag") {
      try {
        models::validate_attention_probe(*env.model, settings.probe());
      } catch (const Error& error) {
        throw Error(error.kind(), fmt::format("{}.layer / attention_map: {}", env.section, error.what()));
      }
    }
  }
  return std::make_unique<SelfAttentionGuidance>(settings);
}

std::vector<config::SchemaEntry> self_attention_guidance_schema() {
  return config::schema_entries<SagSettings>();
}

}  // namespace sagbench::guidance
