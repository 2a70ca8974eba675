// Experiment files: settings, configurations, sweep expansion, overrides
// under base, and the errors for malformed experiments (distributed/experiment.h).
#include "distributed/experiment.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "distributed/sample_producer.h"
#include "support/fixtures.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;

class ExperimentTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = sagbench::testing::make_temp_dir("experiment"); }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text) {
    const std::string path = dir_ + "/experiment.yaml";
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }

  // Loads and returns the kConfig message (empty when it loads).
  std::string config_error(const std::string& text) {
    try {
      load_experiment(write(text));
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig) << e.what();
      return e.what();
    }
    return "";
  }

  std::string dir_;
};

constexpr const char* kSweep = R"(experiment:
  name: sweep
  output_dir: out
  num_samples: 20
  shard_size: 6
  producer: test_pattern
  evaluate: false
base:
  height: 4
  seed: 1
configurations:
  - name: baseline
  - name: wide
    overrides: [width=9]
    published: {fid: 9.41, recall: 0.62, source: paper}
sweeps:
  - name: "seed{}"
    key: seed
    values: [2, 3]
    overrides: [height=5]
)";

TEST_F(ExperimentTest, ConfigurationsThenSweepsInFileOrder) {
  const Experiment experiment = load_experiment(write(kSweep));
  EXPECT_EQ(experiment.settings.name, "sweep");
  EXPECT_EQ(experiment.settings.num_samples, 20);
  EXPECT_EQ(experiment.settings.batch_size, ExperimentSettings{}.batch_size);  // default kept
  std::vector<std::string> names;
  for (const ConfigurationSpec& spec : experiment.configurations) {
    names.push_back(spec.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"baseline", "wide", "seed2", "seed3"}));
  EXPECT_EQ(experiment.configurations[3].overrides, (std::vector<std::string>{"seed=3", "height=5"}));
  EXPECT_EQ(experiment.run_dir(experiment.configurations[1]), (fs::path("out") / "sweep" / "wide").string());
  // Published numbers stay with their row; sweep rows know their sweep.
  const ConfigurationSpec& wide = experiment.configurations[1];
  EXPECT_EQ(wide.published.fid, 9.41);
  EXPECT_EQ(wide.published.recall, 0.62);
  EXPECT_FALSE(wide.published.precision.has_value());
  EXPECT_EQ(wide.published.source, "paper");
  EXPECT_TRUE(experiment.configurations[0].published.empty());
  EXPECT_TRUE(wide.sweep.empty());
  EXPECT_EQ(experiment.configurations[3].sweep, "seed{}");
  EXPECT_EQ(experiment.configurations[3].sweep_key, "seed");
  EXPECT_EQ(experiment.configurations[3].sweep_value, "3");
}

TEST_F(ExperimentTest, OverridesApplyUnderBase) {
  const Experiment experiment = load_experiment(write(kSweep));
  const auto base = config::bind<TestPatternConfig>(
      experiment.configuration_document(experiment.configurations[0]), "base");
  EXPECT_EQ(base.height, 4);
  EXPECT_EQ(base.width, TestPatternConfig{}.width);
  const auto wide = config::bind<TestPatternConfig>(
      experiment.configuration_document(experiment.configurations[1]), "base");
  EXPECT_EQ(wide.width, 9);
  const auto seed3 = config::bind<TestPatternConfig>(
      experiment.configuration_document(experiment.configurations[3]), "base");
  EXPECT_EQ(seed3.seed, 3);
  EXPECT_EQ(seed3.height, 5);
}

TEST_F(ExperimentTest, CommandLineOverridesReachSettingsAndBase) {
  const Experiment experiment =
      load_experiment(write(kSweep), {"experiment.num_samples=7", "base.seed=9", "experiment.batch_size=2"});
  EXPECT_EQ(experiment.settings.num_samples, 7);
  EXPECT_EQ(experiment.settings.batch_size, 2);
  EXPECT_EQ(
      config::bind<TestPatternConfig>(experiment.configuration_document(experiment.configurations[0]), "base")
          .seed,
      9);
}

TEST_F(ExperimentTest, WithoutConfigurationsTheBaseRunsAlone) {
  const Experiment experiment =
      load_experiment(write("experiment: {name: one, evaluate: false}\nbase: {}\n"));
  ASSERT_EQ(experiment.configurations.size(), 1u);
  EXPECT_EQ(experiment.configurations[0].name, "base");
}

TEST_F(ExperimentTest, MalformedExperimentsAreConfigErrors) {
  EXPECT_NE(
      config_error("experiment: {name: x, evaluate: false}\nbsae: {}\n").find("unknown top-level key 'bsae'"),
      std::string::npos);
  EXPECT_NE(config_error("base: {}\n").find("experiment:"), std::string::npos);
  EXPECT_NE(config_error("experiment: {name: x, evaluate: false}\nconfigurations: [{name: a}, {name: a}]\n")
                .find("used twice"),
            std::string::npos);
  EXPECT_NE(config_error("experiment: {name: x, evaluate: false}\nconfigurations: [{name: a/b}]\n")
                .find("path component"),
            std::string::npos);
  EXPECT_NE(
      config_error("experiment: {name: x, evaluate: false}\nconfigurations: [{name: a, overrides: [seed]}]\n")
          .find("key=value"),
      std::string::npos);
  EXPECT_NE(
      config_error("experiment: {name: x, evaluate: false}\nsweeps: [{name: s, key: seed, values: [1]}]\n")
          .find("{}"),
      std::string::npos);
  EXPECT_NE(config_error("experiment: {name: x, evaluate: false}\nsweeps: [{name: 's{}', key: seed}]\n")
                .find("needs a key and values"),
            std::string::npos);
  EXPECT_NE(config_error("experiment: {name: x, producer: magic}\n").find("magic"), std::string::npos);
  EXPECT_NE(config_error("experiment: {name: x, metrics: [fid]}\n").find("reference"), std::string::npos);
  EXPECT_NE(config_error("experiment: {name: x, metrics: [fdi], reference: r.npz}\n").find("fdi"),
            std::string::npos);
  EXPECT_NE(config_error("experiment: {name: x, evaluate: false, shard_size: 0}\n").find("shard_size"),
            std::string::npos);
  // Errors name the line of the offending key.
  EXPECT_NE(config_error("experiment:\n  name: x\n  evaluate: false\n  shard_sise: 3\n").find(":4:"),
            std::string::npos);
}

}  // namespace
}  // namespace sagbench::distributed
