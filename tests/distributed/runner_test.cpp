// The experiment runner in one process (single communicator, test-pattern
// producer): shard accounting, resume at the shard and the configuration
// level, metrics through the evaluation hook, and the summary table
// (distributed/runner.h). Multi-process runs are in process_test.cpp.
#include "distributed/runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "distributed/shard_merge.h"
#include "support/fixtures.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = sagbench::testing::make_temp_dir("runner");
    std::ofstream(dir_ + "/experiment.yaml") << "experiment:\n"
                                                "  name: unit\n"
                                                "  output_dir: "
                                             << dir_
                                             << "/runs\n"
                                                "  num_samples: 10\n"
                                                "  shard_size: 3\n"
                                                "  batch_size: 2\n"
                                                "  producer: test_pattern\n"
                                                "  evaluate: false\n"
                                                "base: {height: 3, width: 3, seed: 5}\n"
                                                "sweeps:\n"
                                                "  - {name: 's{}', key: seed, values: [1, 2]}\n";
    comm_ = make_single_communicator();
    factory_ = make_producer_factory("test_pattern");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<ConfigurationOutcome> run(const std::vector<std::string>& overrides = {},
                                        const RunOptions& options = {}) {
    return run_experiment(*comm_, load_experiment(dir_ + "/experiment.yaml", overrides), *factory_, options);
  }

  std::string dir_;
  std::unique_ptr<Communicator> comm_;
  std::unique_ptr<ProducerFactory> factory_;
};

TEST_F(RunnerTest, RunsEveryConfigurationThenSkipsCompleteOnes) {
  const auto first = run();
  ASSERT_EQ(first.size(), 2u);
  for (const ConfigurationOutcome& outcome : first) {
    EXPECT_FALSE(outcome.already_complete);
    EXPECT_EQ(outcome.shards_total, 4);
    EXPECT_EQ(outcome.shards_computed, 4);
    EXPECT_EQ(outcome.shards_reused, 0);
    EXPECT_TRUE(fs::exists(outcome.samples_path)) << outcome.samples_path;
    EXPECT_TRUE(fs::exists(outcome.run_dir + "/config.yaml"));
    EXPECT_TRUE(fs::exists(outcome.run_dir + "/provenance.json"));
  }
  EXPECT_EQ(fs::path(first[1].run_dir).filename(), "s2");
  const nlohmann::json provenance =
      nlohmann::json::parse(std::ifstream(first[0].run_dir + "/provenance.json"));
  EXPECT_EQ(provenance["distributed"]["world_size"], 1);
  EXPECT_EQ(provenance["distributed"]["ranks"][0]["device"], "cpu");

  const auto second = run();
  EXPECT_TRUE(second[0].already_complete);
  EXPECT_EQ(second[0].shards_computed, 0);
  EXPECT_FALSE(fs::exists(first[0].run_dir + "/provenance.resume-1.json"));  // nothing was touched

  // Without its merge record the configuration resumes: every shard is reused.
  fs::remove(first[0].run_dir + "/merge.json");
  const auto third = run({}, RunOptions{{"s1"}, {}, {}});
  ASSERT_EQ(third.size(), 1u);
  EXPECT_FALSE(third[0].already_complete);
  EXPECT_EQ(third[0].shards_reused, 4);
  EXPECT_EQ(third[0].shards_computed, 0);
  EXPECT_TRUE(fs::exists(first[0].run_dir + "/provenance.resume-1.json"));
  EXPECT_NE(format_outcomes(third).find("| s1 | 4 | 0 |"), std::string::npos) << format_outcomes(third);
}

TEST_F(RunnerTest, BatchSizeDoesNotChangeTheConfiguration) {
  run({"experiment.batch_size=1"});
  const std::string merged = run()[0].samples_path;  // complete: reused whatever the batch size
  fs::remove(fs::path(merged).parent_path() / "merge.json");
  const auto again = run({"experiment.batch_size=4"}, RunOptions{{"s1"}, {}, {}});
  EXPECT_EQ(again[0].shards_reused, 4);
}

TEST_F(RunnerTest, UnknownConfigurationNameIsAnErrorListingTheNames) {
  try {
    run({}, RunOptions{{"s3"}, {}, {}});
    FAIL() << "an unknown configuration was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no configuration named 's3' (configurations: s1, s2)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ + "/runs/unit/s1"));  // refused before any work
}

TEST_F(RunnerTest, MissingShardsAreComputedAndEvaluationHookWritesMetrics) {
  run({}, RunOptions{{"s1"}, {}, {}});
  const std::string run_dir = dir_ + "/runs/unit/s1";
  fs::remove(run_dir + "/shards/shard_000001.done");
  fs::remove(run_dir + "/merge.json");
  RunOptions options{{"s1"}, {}, {}};
  int evaluations = 0;
  options.evaluate = [&](Communicator&, const ShardStore& store, const config::Document&, at::Device,
                         const WaitPolicy&) {
    ++evaluations;
    EXPECT_EQ(store.count_markers(), 4);
    return nlohmann::json{{"metrics", {{"fid", 12.5}}}};
  };
  options.evaluation_key = [](const config::Document&) { return std::string("key-1"); };
  const auto outcome =
      run({"experiment.evaluate=true", "experiment.metrics=fid", "experiment.reference=ref.npz"}, options);
  EXPECT_EQ(outcome[0].shards_computed, 1);
  EXPECT_EQ(outcome[0].shards_reused, 3);
  EXPECT_EQ(evaluations, 1);
  const nlohmann::json metrics = nlohmann::json::parse(std::ifstream(run_dir + "/metrics.json"));
  EXPECT_EQ(metrics["metrics"]["fid"], 12.5);
  EXPECT_EQ(metrics["evaluation_key"], "key-1");
  // The sweep row says where it comes from, for the plots of `sagbench report`.
  EXPECT_EQ(metrics["sweep"], (nlohmann::json{{"name", "s{}"}, {"key", "seed"}, {"value", "1"}}));
  EXPECT_EQ(metrics["overrides"], (nlohmann::json{"seed=1"}));
  EXPECT_FALSE(metrics.contains("published"));
  EXPECT_NE(format_outcomes(outcome).find("12.5"), std::string::npos);
  // Complete now: the same evaluation is not redone, another one is.
  run({"experiment.evaluate=true", "experiment.metrics=fid", "experiment.reference=ref.npz"}, options);
  EXPECT_EQ(evaluations, 1);
  options.evaluation_key = [](const config::Document&) { return std::string("key-2"); };
  run({"experiment.evaluate=true", "experiment.metrics=fid", "experiment.reference=ref.npz"}, options);
  EXPECT_EQ(evaluations, 2);
  EXPECT_TRUE(fs::exists(run_dir + "/metrics.replaced-1.json"));
}

TEST_F(RunnerTest, UnknownConfigurationAndForeignDirectoryAreErrors) {
  EXPECT_THROW(run({}, RunOptions{{"nope"}, {}, {}}), Error);
  run({}, RunOptions{{"s1"}, {}, {}});
  fs::remove(dir_ + "/runs/unit/s1/merge.json");
  try {
    run({"base.height=4"}, RunOptions{{"s1"}, {}, {}});
    FAIL() << "shards of another configuration were reused";
  } catch (const SharedError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("refusing to mix"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sagbench::distributed
