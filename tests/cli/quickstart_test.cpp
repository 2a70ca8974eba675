// The main job end to end on a tiny setting: the quickstart experiment
// (experiments/fashion/quickstart.yaml) with the committed bundle, run from
// the source tree as scripts/quickstart.sh runs it, with 2 DDIM steps and 12
// samples per configuration: the reference batch from the Fashion-MNIST test
// split, every configuration's samples, grid and metrics, and the report.
// Skips when Debian's dataset-fashion-mnist is not installed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/sample_grid.h"
#include "invoke.h"
#include "support/fixtures.h"

namespace sagbench::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const char* const kFashionDir = "/usr/share/datasets/fashion-mnist";

int invoke(const std::vector<std::string>& args) {
  return testing::invoke(args).exit_code;
}

// Runs in the source tree (the experiment's paths are relative to it) and
// restores the working directory afterwards.
class QuickstartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fs::path(kFashionDir) / "t10k-images-idx3-ubyte.gz") &&
        !fs::exists(fs::path(kFashionDir) / "t10k-images-idx3-ubyte")) {
      GTEST_SKIP() << "Fashion-MNIST is not installed in " << kFashionDir
                   << " (scripts/setup.sh installs it)";
    }
    dir_ = sagbench::testing::make_temp_dir("quickstart");
    previous_ = fs::current_path();
    fs::current_path(SAGBENCH_SOURCE_DIR);
  }
  void TearDown() override {
    if (!previous_.empty()) {
      fs::current_path(previous_);
    }
  }
  std::string dir_;
  fs::path previous_;
};

TEST_F(QuickstartTest, RunsEveryConfigurationAndReports) {
  const std::string reference = dir_ + "/fashion_test.npz";
  ASSERT_EQ(invoke({"ref", "fashion-mnist:test", "--config", "configs/evaluators/fashion.yaml", "--out",
                    reference}),
            0);
  const testing::AppRun result = testing::invoke(
      {"run", "experiments/fashion/quickstart.yaml", "experiment.output_dir=" + dir_,
       "experiment.reference=" + reference, "experiment.num_samples=12", "experiment.shard_size=6",
       "experiment.batch_size=6", "experiment.metrics=[inception_score,precision,recall]",
       "evaluator.is_split_size=12", "base.sampler.timestep_respacing=ddim2"});
  const std::string& out = result.out;
  ASSERT_EQ(result.exit_code, 0) << out << result.err;
  const std::vector<std::string> rows = {"uncond",   "uncond_blur", "uncond_sag", "cond",   "cond_cg",
                                         "cond_sag", "cond_sag_cg", "cfg",        "cfg_sag"};
  for (const std::string& name : rows) {
    const fs::path run = fs::path(dir_) / "fashion_quickstart" / name;
    EXPECT_TRUE(fs::exists(run / "samples_12x32x32x1.npz")) << run;
    EXPECT_EQ(fs::exists(run / "samples_grid.png"), can_write_png()) << run;
    const nlohmann::json metrics = nlohmann::json::parse(std::ifstream(run / "metrics.json"));
    const double inception_score = metrics["metrics"]["inception_score"].get<double>();
    EXPECT_GE(inception_score, 1.0) << name;  // exp(KL) of 10-class softmaxes lies in [1, 10]
    EXPECT_LE(inception_score, 10.0) << name;
    EXPECT_EQ(metrics["evaluator"]["extractor"], "fashion-feature-net");
    EXPECT_THAT(out, HasSubstr("| " + name + " |"));
  }
  const testing::AppRun report =
      testing::invoke({"report", dir_ + "/fashion_quickstart", "--out", dir_ + "/report"});
  const std::string& table = report.out;
  ASSERT_EQ(report.exit_code, 0) << table << report.err;
  EXPECT_TRUE(fs::exists(dir_ + "/report/report.md"));
  EXPECT_THAT(table, HasSubstr("cfg_sag"));
}

}  // namespace
}  // namespace sagbench::cli
