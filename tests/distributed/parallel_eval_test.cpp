// Distributed evaluation in one process: the metrics of a run's shards equal
// those `sagbench eval` (eval::evaluate) computes on the merged file, both
// for gathered features and for the FID-only statistics path; merged
// statistics equal those of the union (distributed/parallel_eval.h). The
// multi-rank paths run in sampler_process_test.cpp.
#include "distributed/parallel_eval.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"
#include "core/error.h"
#include "distributed/shard_merge.h"
#include "distributed/shard_test_support.h"
#include "evaluation/evaluator.h"
#include "evaluation/pixel_extractor.h"
#include "io/npz.h"
#include "support/fixtures.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;

// Writes an npz holding one array.
void write_one_array(const std::string& path, const std::string& name, const at::Tensor& array) {
  io::TensorDict arrays;
  arrays.insert(name, array);
  io::write_npz(path, arrays);
}

TEST(MergeStatistics, EqualsTheStatisticsOfTheUnion) {
  const at::Tensor x = at::randn({30, 6}, at::kDouble) * 3 + 1;
  const eval::GaussianStatistics all = eval::compute_statistics(x);
  const eval::GaussianStatistics merged = merge_statistics(eval::compute_statistics(x.narrow(0, 0, 11)),
                                                           eval::compute_statistics(x.narrow(0, 11, 19)));
  EXPECT_EQ(merged.count, 30);
  // float64 throughout: only rounding separates the two (values are O(10)).
  EXPECT_LT((merged.mean - all.mean).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((merged.covariance - all.covariance).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_THROW(merge_statistics(all, eval::compute_statistics(at::randn({5, 4}, at::kDouble))), Error);
}

class ParallelEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eval::testing::register_pixel_extractor();
    dir_ = sagbench::testing::make_temp_dir("parallel_eval");
    const TestPatternConfig pattern = testing::small_pattern();
    TestPatternProducer producer(pattern);
    store_.emplace(ShardStore::create_or_open(dir_ + "/run/shards", testing::manifest_for(pattern, 23, 4)));
    for (std::int64_t k = 0; k < store_->plan().num_shards(); ++k) {
      testing::write_shard(*store_, producer, k);
    }
    samples_ = merge_shards(*store_, dir_ + "/run").path;
    reference_ = dir_ + "/reference.npz";
    write_one_array(reference_, "arr_0", at::randint(0, 256, {17, 4, 5, 3}, at::kLong).to(at::kByte));
  }
  void TearDown() override { fs::remove_all(dir_); }

  config::Document document(const std::string& metrics) {
    return config::parse_document(
        "experiment: {name: e, metrics: " + metrics + ", reference: '" + reference_ +
        "'}\nevaluator: {extractor: test-pixels, batch_size: 5, is_split_size: 7}\n");
  }

  std::string dir_;
  std::optional<ShardStore> store_;
  std::string samples_;
  std::string reference_;
};

TEST_F(ParallelEvalTest, GatheredFeaturesGiveTheMetricsOfSagbenchEval) {
  const auto comm = make_single_communicator();
  ParallelEvaluator evaluator;
  const config::Document doc = document("[all]");
  const nlohmann::json ours = evaluator.evaluate(*comm, *store_, doc, at::kCPU, WaitPolicy{});
  auto config = config::bind<eval::EvaluatorConfig>(doc, "evaluator");
  const nlohmann::json theirs = eval::report_json(
      eval::evaluate(samples_, reference_, config, eval::parse_metric_selection({"all"})), config);
  for (const char* metric : {"inception_score", "fid", "sfid", "precision", "recall"}) {
    // The same per-image features in the same order: equal up to summation order (float64).
    EXPECT_NEAR(ours["metrics"][metric].get<double>(), theirs["metrics"][metric].get<double>(),
                1e-9 * std::abs(theirs["metrics"][metric].get<double>()) + 1e-12)
        << metric;
  }
  EXPECT_EQ(ours["sample_count"], 23);
  EXPECT_EQ(ours["samples"]["path"], samples_);
  EXPECT_EQ(ours["distributed"]["features"], "gathered to rank 0");
}

TEST_F(ParallelEvalTest, FidAloneMergesStatistics) {
  const auto comm = make_single_communicator();
  ParallelEvaluator evaluator;
  const config::Document doc = document("[fid]");
  const nlohmann::json ours = evaluator.evaluate(*comm, *store_, doc, at::kCPU, WaitPolicy{});
  auto config = config::bind<eval::EvaluatorConfig>(doc, "evaluator");
  const eval::EvaluationReport theirs =
      eval::evaluate(samples_, reference_, config, eval::parse_metric_selection({"fid"}));
  EXPECT_NEAR(ours["metrics"]["fid"].get<double>(), theirs.fid->distance, 1e-9 * theirs.fid->distance);
  EXPECT_FALSE(ours["metrics"].contains("inception_score"));
  EXPECT_EQ(ours["distributed"]["features"], "statistics merged across ranks");
}

TEST_F(ParallelEvalTest, ReferenceWithoutImagesIsAClearError) {
  write_one_array(reference_, "something", at::zeros({3}, at::kFloat));
  const auto comm = make_single_communicator();
  ParallelEvaluator evaluator;
  try {
    evaluator.evaluate(*comm, *store_, document("[fid]"), at::kCPU, WaitPolicy{});
    FAIL() << "a reference without images or statistics was accepted";
  } catch (const SharedError& e) {
    EXPECT_NE(std::string(e.what()).find(reference_), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sagbench::distributed
