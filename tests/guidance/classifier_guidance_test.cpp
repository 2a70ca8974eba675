// Classifier guidance: the input gradient against the reference's
// grad_log_prob (adm_tiny_cond_classifier_forward.npz), the classifier-guided
// 10-step DDPM and DDIM trajectories (`cg` of adm_tiny_cond_ddpm10/ddim10.npz,
// tolerance in tests/diffusion/trajectory_support.h), and config errors.
#include "guidance/classifier_guidance.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/error.h"
#include "diffusion/trajectory_support.h"
#include "models/model_loading.h"

namespace sagbench::guidance {
namespace {

using models::testing::tiny_classifier_config;

std::shared_ptr<NoisyClassifier> tiny_classifier() {
  return std::make_shared<EncoderUNetClassifier>(models::build_classifier(tiny_classifier_config()));
}

TEST(ClassifierGuidance, GradientMatchesReferenceAutograd) {
  const io::TensorDict d =
      io::read_npz(sagbench::testing::fixture_path("adm_tiny_cond_classifier_forward.npz"));
  auto classifier = tiny_classifier();
  const at::Tensor grad = classifier_gradient(*classifier, d.at("x"), d.at("t"), d.at("y"), 1.0);
  const at::Tensor expected = d.at("grad_log_prob");
  // One forward + backward of a float32 network: summation order moves it by
  // ~1e-6 relative; 1e-4 of the gradient's magnitude catches any wrong term.
  const double scale = expected.abs().max().item<double>();
  EXPECT_LE((grad - expected).abs().max().item<double>(), 1e-4 * scale);
  // The scale multiplies the gradient.
  EXPECT_TRUE(
      at::allclose(classifier_gradient(*classifier, d.at("x"), d.at("t"), d.at("y"), 0.5), grad * 0.5));
}

class CondTrajectory : public ::testing::TestWithParam<const char*> {};

TEST_P(CondTrajectory, ClassifierGuidedTrajectoryMatchesReference) {
  const std::string kind = GetParam();
  const io::TensorDict arrays =
      io::read_npz(sagbench::testing::fixture_path("adm_tiny_cond_" + kind + ".npz"));
  ClassifierGuidanceSettings settings;
  settings.scale = models::testing::fixture_json("adm_tiny_cond").at("classifier_scale").get<double>();
  std::vector<std::unique_ptr<GuidanceTerm>> terms;
  terms.push_back(std::make_unique<ClassifierGuidance>(tiny_classifier(), settings));
  GuidanceChain chain(std::move(terms));
  const auto run = diffusion::testing::run_fixture_trajectory("adm_tiny_cond", kind, &chain, arrays);
  diffusion::testing::expect_trajectory_close(run.steps, arrays.at("cg"), "adm_tiny_cond_" + kind + " cg");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CondTrajectory, ::testing::Values("ddpm10", "ddim10"));

TEST(ClassifierGuidance, LabelsOutsideTheClassifierAreConfigErrors) {
  auto classifier = tiny_classifier();
  const at::Tensor x = at::zeros({1, 3, 32, 32});
  const at::Tensor t = at::full({1}, 500, at::kLong);
  try {
    classifier_gradient(*classifier, x, t, at::full({1}, 1000, at::kLong), 1.0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("1000 classes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(classifier_gradient(*classifier, x, t, at::Tensor(), 1.0), Error);
}

GuidanceEnvironment environment_of(const config::Document& doc) {
  GuidanceEnvironment env;
  env.document = &doc;
  env.section = "guidance.classifier";
  return env;
}

TEST(ClassifierGuidance, FactoryReadsItsSectionAndTheClassifierPreset) {
  const auto off = config::parse_document("guidance: {classifier: {scale: 0}}");
  EXPECT_EQ(make_classifier_guidance(environment_of(off)), nullptr);

  const auto no_classifier = config::parse_document("guidance: {classifier: {scale: 1.0}}");
  EXPECT_THROW(make_classifier_guidance(environment_of(no_classifier)), Error);

  const auto negative = config::parse_document("guidance: {classifier: {scale: -1}}");
  EXPECT_THROW(make_classifier_guidance(environment_of(negative)), Error);

  // The tiny fixture classifier as a `classifier:` section, first without weights.
  const std::string classifier_yaml =
      "classifier: {image_size: 32, width: 32, depth: 1, channel_mult: [1, 2, 2], attention_resolutions: "
      "[16, 8], "
      "num_head_channels: 8, pool: attention}\n";
  const auto no_weights = config::parse_document("guidance: {classifier: {scale: 1}}\n" + classifier_yaml);
  try {
    make_classifier_guidance(environment_of(no_weights));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("classifier.checkpoint"), std::string::npos) << e.what();
  }

  const auto doc =
      config::parse_document("guidance: {classifier: {scale: 0.5}}\n" + classifier_yaml, "run.yaml",
                             {"classifier.checkpoint=" + tiny_classifier_config().checkpoint});
  const auto term = make_classifier_guidance(environment_of(doc));
  ASSERT_NE(term, nullptr);
  EXPECT_EQ(term->name(), "classifier");
  EXPECT_EQ(term->describe(), "classifier scale=0.5");
}

}  // namespace
}  // namespace sagbench::guidance
