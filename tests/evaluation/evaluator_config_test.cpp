// Tests for evaluation/evaluator_config.h: the presets in configs/evaluators
// bind (strictly: unknown keys and bad choices are errors) and give the ADM
// evaluator's settings; validate() rejects non-positive sizes.
#include "evaluation/evaluator_config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"
#include "core/error.h"

namespace sagbench::eval {
namespace {

// configs/evaluators/<name> in this source tree (located from this file's path).
std::string preset(const std::string& name) {
  const std::filesystem::path root =
      std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  return (root / "configs" / "evaluators" / name).string();
}

TEST(EvaluatorConfig, AdmPresetIsTheAdmEvaluator) {
  const auto c = config::bind<EvaluatorConfig>(config::load_document(preset("adm.yaml")), "evaluator");
  EXPECT_EQ(c.mode, "adm");
  EXPECT_EQ(c.batch_size, 64);
  EXPECT_EQ(c.is_split_size, 5000);
  EXPECT_EQ(c.pr_k, 3);
  EXPECT_EQ(c.pr_block, 10000);
  EXPECT_EQ(c.distance_precision, "fp32");
  const auto f16 =
      config::bind<EvaluatorConfig>(config::load_document(preset("adm_fp16_distances.yaml")), "evaluator");
  EXPECT_EQ(f16.distance_precision, "fp16");
  EXPECT_EQ(f16.mode, "adm");
  const auto pf =
      config::bind<EvaluatorConfig>(config::load_document(preset("pytorch_fid.yaml")), "evaluator");
  EXPECT_EQ(pf.mode, "pytorch-fid");
}

TEST(EvaluatorConfig, BadKeysAndValuesAreErrors) {
  EXPECT_THROW(config::bind<EvaluatorConfig>(config::parse_document("evaluator: {mode: tf2}"), "evaluator"),
               Error);
  EXPECT_THROW(
      config::bind<EvaluatorConfig>(config::parse_document("evaluator: {batchsize: 3}"), "evaluator"), Error);
  EXPECT_THROW(config::bind<EvaluatorConfig>(config::parse_document("evaluator: {pr_k: 0}"), "evaluator"),
               Error);
  const auto c = config::bind<EvaluatorConfig>(
      config::parse_document("evaluator: {}", "<t>", {"evaluator.distance_precision=fp16"}), "evaluator");
  EXPECT_EQ(c.distance_precision, "fp16");
}

}  // namespace
}  // namespace sagbench::eval
