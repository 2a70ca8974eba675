// The guidance chain: runs the terms' hooks in the order documented in
// guidance.h (SAG repository p_sample / ddim_sample), and builds a chain from
// the config's `guidance:` map. Tested by tests/guidance/guidance_chain_test.cpp.
#include "guidance/guidance.h"

#include <fmt/format.h>

#include "core/error.h"

namespace sagbench::guidance {

Prediction GuidanceTerm::predict(const StepContext& /*ctx*/, StepModel& /*model*/,
                                 models::AttentionProbe* /*probe*/) {
  SAG_CHECK(false, "guidance term '{}' does not replace the prediction", name());
  return {};
}

GuidanceChain::GuidanceChain(std::vector<std::unique_ptr<GuidanceTerm>> terms) : terms_(std::move(terms)) {
  for (const auto& term : terms_) {
    SAG_CHECK(term != nullptr, "null guidance term");
    if (term->replaces_prediction()) {
      SAG_REQUIRE(predictor_ == nullptr, kConfig,
                  "guidance terms '{}' and '{}' both build the model prediction; use at most one of them",
                  predictor_ != nullptr ? predictor_->name() : "", term->name());
      predictor_ = term.get();
    }
  }
}

Prediction GuidanceChain::predict(const StepContext& ctx, StepModel& model) {
  models::AttentionProbe* probe = nullptr;
  const GuidanceTerm* prober = nullptr;
  for (const auto& term : terms_) {
    if (models::AttentionProbe* wanted = term->reference_probe(ctx)) {
      SAG_REQUIRE(
          probe == nullptr, kConfig,
          "guidance terms '{}' and '{}' both probe the attention of the reference pass; use one of them",
          prober->name(), term->name());
      probe = wanted;
      prober = term.get();
    }
  }
  Prediction prediction = predictor_ != nullptr ? predictor_->predict(ctx, model, probe)
                                                : diffusion::plain_prediction(ctx, model, probe);
  for (const auto& term : terms_) {
    term->guide_eps(ctx, model, prediction);
  }
  return prediction;
}

void GuidanceChain::guide_mean(const StepContext& ctx, const VarianceTerms& variance, at::Tensor& mean) {
  for (const auto& term : terms_) {
    term->guide_mean(ctx, variance, mean);
  }
}

void GuidanceChain::guide_xstart(const StepContext& ctx, at::Tensor& xstart) {
  for (const auto& term : terms_) {
    term->guide_xstart(ctx, xstart);
  }
}

std::int64_t GuidanceChain::label_classes() const {
  std::int64_t classes = 0;
  for (const auto& term : terms_) {
    const std::int64_t term_classes = term->label_classes();
    if (term_classes > 0 && (classes == 0 || term_classes < classes)) {
      classes = term_classes;
    }
  }
  return classes;
}

std::string GuidanceChain::describe() const {
  if (terms_.empty()) {
    return "none";
  }
  std::vector<std::string> parts;
  for (const auto& term : terms_) {
    parts.push_back(term->describe());
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

const GuidanceRegistration* find_guidance(const std::string& name) {
  for (const auto& entry : guidance_registry()) {
    if (name == entry.name) {
      return &entry;
    }
  }
  return nullptr;
}

GuidanceChain build_guidance_chain(const GuidanceEnvironment& env) {
  SAG_CHECK(env.document != nullptr, "build_guidance_chain needs the config document");
  const std::string root = env.section.empty() ? "guidance" : env.section;
  const config::Node* node = env.document->find(root);
  if (node == nullptr || node->kind == config::NodeKind::kNull) {
    return GuidanceChain();
  }
  SAG_REQUIRE(node->kind == config::NodeKind::kMap, kConfig,
              "{}: '{}' must be a map of guidance terms (e.g. {{classifier: {{scale: 1.0}}}})",
              node->source.describe(), root);
  std::vector<std::string> known;
  for (const auto& entry : guidance_registry()) {
    known.emplace_back(entry.name);
  }
  std::vector<std::unique_ptr<GuidanceTerm>> terms;
  for (std::size_t i = 0; i < node->keys.size(); ++i) {
    const std::string& name = node->keys[i];
    const GuidanceRegistration* entry = find_guidance(name);
    SAG_REQUIRE(entry != nullptr, kConfig, "{}: unknown guidance '{}.{}' (registered: {})",
                node->values[i].key_source.describe(), root, name, fmt::join(known, ", "));
    GuidanceEnvironment term_env = env;
    term_env.section = root + "." + name;
    if (auto term = entry->factory(term_env)) {
      terms.push_back(std::move(term));
    }
  }
  return GuidanceChain(std::move(terms));
}

}  // namespace sagbench::guidance
