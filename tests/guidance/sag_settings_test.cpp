// The `guidance.sag` keys through the config layer and the registry: the
// s / guide_scale alias, defaults, every out-of-range value, and the checks
// against the model (layer without attention, kernel larger than the image),
// each a kConfig error naming the key and what is allowed.
#include <gtest/gtest.h>

#include "config/config.h"
#include "core/error.h"
#include "guidance/sag.h"
#include "guidance_test_support.h"

namespace sagbench::guidance {
namespace {

// The factory's result for `guidance.sag` = `yaml` (flow map) on `model`.
std::unique_ptr<GuidanceTerm> make_sag(const std::string& yaml, const models::UNetModel* model = nullptr) {
  const config::Document doc = config::parse_document("guidance:\n  sag: " + yaml + "\n", "test.yaml");
  GuidanceEnvironment env;
  env.document = &doc;
  env.section = "guidance.sag";
  env.model = model;
  return make_self_attention_guidance(env);
}

// Expects a kConfig error whose message contains every one of `needles`.
void expect_config_error(const std::string& yaml, const std::vector<std::string>& needles,
                         const models::UNetModel* model = nullptr) {
  try {
    make_sag(yaml, model);
    ADD_FAILURE() << "accepted " << yaml;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig) << e.what();
    for (const auto& needle : needles) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << "'" << needle << "' not in: " << e.what();
    }
  }
}

const SagSettings& settings_of(const std::unique_ptr<GuidanceTerm>& term) {
  return dynamic_cast<const SelfAttentionGuidance&>(*term).settings();
}

TEST(SagSettings, ScaleIsSWithGuideScaleAsAlias) {
  EXPECT_DOUBLE_EQ(settings_of(make_sag("{s: 0.2}")).official_scale(), 1.2);
  EXPECT_DOUBLE_EQ(settings_of(make_sag("{guide_scale: 1.8}")).paper_scale(), 1.8 - 1.0);
  EXPECT_DOUBLE_EQ(settings_of(make_sag("{guide_scale: 1.8}")).official_scale(), 1.8);
  EXPECT_DOUBLE_EQ(settings_of(make_sag("{s: 0.1, guide_scale: 1.1}")).official_scale(), 1.1);
  EXPECT_DOUBLE_EQ(settings_of(make_sag("{}")).paper_scale(), SagSettings::kDefaultScale);
  const std::string text = make_sag("{guide_scale: 1.5, blur_sigma: 3}")->describe();
  EXPECT_NE(text.find("s=0.5"), std::string::npos) << text;
  EXPECT_NE(text.find("guide_scale=1.5"), std::string::npos) << text;
  EXPECT_NE(text.find("blur_sigma=3"), std::string::npos) << text;
}

TEST(SagSettings, ZeroScaleSwitchesTheTermOff) {
  EXPECT_EQ(make_sag("{s: 0}"), nullptr);
  EXPECT_EQ(make_sag("{guide_scale: 1}"), nullptr);
  EXPECT_EQ(make_sag("{s: 0, mode: blur}"), nullptr);
}

TEST(SagSettings, OutOfRangeValuesNameTheKeyAndTheAllowedRange) {
  expect_config_error("{s: -0.5}", {"guidance.sag", "s must be", ">= 0"});
  expect_config_error("{s: .nan}", {"s must be", "finite"});
  expect_config_error("{guide_scale: 0.5}", {"guide_scale must be", ">= 1"});
  expect_config_error("{s: 0.5, guide_scale: 1.6}", {"disagree", "1 + s"});
  expect_config_error("{blur_sigma: 0}", {"blur_sigma", "> 0"});
  expect_config_error("{blur_sigma: -.inf}", {"blur_sigma", "finite"});
  expect_config_error("{blur_kernel_size: 30}", {"blur_kernel_size", "odd"});
  expect_config_error("{threshold: .nan}", {"threshold", "< +inf"});
  expect_config_error("{threshold: .inf}", {"threshold", "< +inf"});
  expect_config_error("{mode: sharpen}", {"mode", "sag", "blur"});
  expect_config_error("{attention_map: mean}", {"attention_map", "official", "exact"});
  expect_config_error("{layer: {block: decoder}}", {"layer.block", "input", "middle", "output"});
  expect_config_error("{layer: {depth: -1}}", {"layer.depth", ">= 0"});
  expect_config_error("{guide_start: 0}", {"guide_start", ">= 1"});
  expect_config_error("{guide_start: 5, guide_stop: 5}", {"guide_stop", "< guide_start"});
  expect_config_error("{guide_stop: -1}", {"guide_stop", ">= 0"});
  expect_config_error("{scale: 0.5}", {"unknown key", "guidance.sag.scale"});
  // -inf is a valid threshold: every position selected (blur guidance).
  EXPECT_NE(make_sag("{threshold: -.inf}"), nullptr);
}

TEST(SagSettings, WindowFollowsGuideStartAndStop) {
  SagSettings settings;
  EXPECT_TRUE(settings.active_at(0));
  EXPECT_TRUE(settings.active_at(100000));
  settings.guide_start = 5;  // upstream: guide_start > t
  settings.guide_stop = 2;
  EXPECT_FALSE(settings.active_at(5));
  EXPECT_TRUE(settings.active_at(4));
  EXPECT_TRUE(settings.active_at(2));
  EXPECT_FALSE(settings.active_at(1));
}

class SagModelChecks : public ::testing::Test {
 protected:
  void SetUp() override { model_ = testing::tiny_unet("adm_tiny_uncond"); }
  std::shared_ptr<models::UNetModel> model_;
};

TEST_F(SagModelChecks, LayerWithoutAttentionListsTheValidSitesWithHeads) {
  // The tiny model's output blocks 4-5 run at 32 px, without attention.
  expect_config_error("{layer: {block: output, depth: 4}}",
                      {"guidance.sag.layer", "no attention", "output 1 (8x8, 64 ch, 8 heads)"}, model_.get());
  expect_config_error("{layer: {block: output, depth: 40}}", {"guidance.sag.layer", "out of range"},
                      model_.get());
  EXPECT_NE(make_sag("{layer: {block: output, depth: 1}}", model_.get()), nullptr);
  EXPECT_NE(make_sag("{layer: {block: middle}}", model_.get()), nullptr);
  // Blur guidance reads no attention, so any layer is accepted.
  EXPECT_NE(make_sag("{mode: blur, layer: {block: output, depth: 4}}", model_.get()), nullptr);
}

TEST_F(SagModelChecks, KernelLargerThanTheImageIsRefused) {
  expect_config_error("{layer: {depth: 1}, blur_kernel_size: 33}",
                      {"blur_kernel_size = 33", "32x32", "<= 31"}, model_.get());
  EXPECT_NE(make_sag("{layer: {depth: 1}, blur_kernel_size: 31}", model_.get()), nullptr);
}

TEST(SagRegistry, SagAndCfgAreRegisteredWithTheirSchemas) {
  for (const char* name : {"sag", "cfg", "classifier"}) {
    const GuidanceRegistration* entry = find_guidance(name);
    ASSERT_NE(entry, nullptr) << name;
    EXPECT_FALSE(entry->schema().empty()) << name;
  }
  std::vector<std::string> keys;
  for (const auto& entry : find_guidance("sag")->schema()) {
    keys.push_back(entry.key_path);
  }
  for (const char* key : {"s", "guide_scale", "mode", "attention_map", "layer.block", "layer.depth",
                          "threshold", "blur_sigma", "blur_kernel_size", "guide_start", "guide_stop"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
}

}  // namespace
}  // namespace sagbench::guidance
