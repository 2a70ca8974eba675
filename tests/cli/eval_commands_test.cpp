// Tests of `sagbench eval`, `fid`, `features` and `ref` through the
// application entry point, as a user runs them. Pipelines use the tiny pixel
// extractor of tests/evaluation (registered as "test-pixels") so that FID is
// defined on a few dozen images; `features` runs the real Inception code path
// on the random-weight fixture. Numbers are checked against the library
// called directly (exact: same code, same order).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "evaluation/evaluator.h"
#include "evaluation/pixel_extractor.h"
#include "invoke.h"
#include "io/npz.h"
#include "support/fixtures.h"

namespace sagbench::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using CommandResult = testing::AppRun;
constexpr auto run = testing::invoke;

class EvalCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    eval::testing::register_pixel_extractor();
    dir_ = sagbench::testing::make_temp_dir("eval_commands");
    at::manual_seed(21);
    samples_ = (at::rand({24, 6, 6, 3}) * 180).to(at::kByte);
    reference_ = (at::rand({20, 6, 6, 3}) * 255).to(at::kByte);
    write(dir_ + "/samples.npz", {{"arr_0", samples_}});
    write(dir_ + "/ref.npz", {{"arr_0", reference_}});
  }
  static void write(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& arrays) {
    io::NpzWriter w(path);
    for (const auto& [name, t] : arrays) {
      w.add(name, t);
    }
    w.finish();
  }
  eval::EvaluatorConfig pixel_config() const {
    eval::EvaluatorConfig c;
    c.extractor = "test-pixels";
    return c;
  }
  std::string dir_;
  at::Tensor samples_, reference_;
};

TEST_F(EvalCommands, EvalPrintsAndWritesMetricsWithoutOverwriting) {
  const std::vector<std::string> args = {"eval", dir_ + "/samples.npz", "--ref", dir_ + "/ref.npz",
                                         "evaluator.extractor=test-pixels"};
  const CommandResult first = run(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("inception_score"));
  EXPECT_THAT(first.out, HasSubstr("fid"));
  EXPECT_THAT(first.out, HasSubstr("precision/recall distances: fp32"));
  const eval::EvaluationReport direct =
      eval::evaluate(dir_ + "/samples.npz", dir_ + "/ref.npz", pixel_config());
  std::ifstream in(dir_ + "/metrics.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["metrics"]["fid"].get<double>(), direct.fid->distance);
  EXPECT_EQ(j["metrics"]["sfid"].get<double>(), direct.sfid->distance);
  EXPECT_EQ(j["metrics"]["precision"].get<double>(), direct.precision_recall->precision);
  EXPECT_EQ(j["sample_count"], 24);
  EXPECT_EQ(j["evaluator"]["preprocessing"], "adm");
  EXPECT_TRUE(j.contains("provenance"));
  EXPECT_THAT(j["evaluator_config"].get<std::string>(), HasSubstr("test-pixels"));

  const CommandResult second = run(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_TRUE(fs::exists(dir_ + "/metrics-2.json"));
}

TEST_F(EvalCommands, EvalOfAStatisticsOnlyReferenceNeedsMetricsItCanGive) {
  const eval::EvaluationReport direct =
      eval::evaluate(dir_ + "/samples.npz", dir_ + "/ref.npz", pixel_config());
  const CommandResult ref = run(
      {"ref", dir_ + "/ref.npz", "--out", dir_ + "/ref_stats_full.npz", "evaluator.extractor=test-pixels"});
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  io::NpzReader full(dir_ + "/ref_stats_full.npz");
  write(dir_ + "/ref_stats.npz", {{"mu", full.read("mu")}, {"sigma", full.read("sigma")}});

  const CommandResult pr = run({"eval", dir_ + "/samples.npz", "--ref", dir_ + "/ref_stats.npz", "--out",
                                dir_ + "/m.json", "evaluator.extractor=test-pixels"});
  EXPECT_EQ(pr.exit_code, 2);
  EXPECT_THAT(pr.err, HasSubstr("statistics-only"));
  EXPECT_FALSE(fs::exists(dir_ + "/m.json"));

  const CommandResult fid =
      run({"eval", dir_ + "/samples.npz", "--ref", dir_ + "/ref_stats.npz", "--metrics",
           "fid,inception_score", "--out", dir_ + "/m.json", "evaluator.extractor=test-pixels"});
  ASSERT_EQ(fid.exit_code, 0) << fid.err;
  std::ifstream in(dir_ + "/m.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_NEAR(j["metrics"]["fid"].get<double>(), direct.fid->distance, 1e-12);
  EXPECT_FALSE(j["metrics"].contains("precision"));
}

TEST_F(EvalCommands, FidAcceptsImagesFeaturesAndStatistics) {
  ASSERT_EQ(
      run({"features", dir_ + "/samples.npz", "--out", dir_ + "/sf.npz", "evaluator.extractor=test-pixels"})
          .exit_code,
      0);
  ASSERT_EQ(
      run({"ref", dir_ + "/ref.npz", "--out", dir_ + "/rs.npz", "evaluator.extractor=test-pixels"}).exit_code,
      0);
  const eval::EvaluationReport direct =
      eval::evaluate(dir_ + "/samples.npz", dir_ + "/ref.npz", pixel_config());
  const std::string expected = fmt::format("fid   {:.6f}", direct.fid->distance);
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"samples.npz", "ref.npz"}, {"sf.npz", "rs.npz"}, {"rs.npz", "sf.npz"}}) {
    const CommandResult r =
        run({"fid", dir_ + "/" + a, dir_ + "/" + b, "--sfid", "evaluator.extractor=test-pixels"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr(expected)) << a << " vs " << b;
    EXPECT_THAT(r.out, HasSubstr("sfid")) << a << " vs " << b;
  }
}

TEST_F(EvalCommands, FeaturesRunsTheInceptionAndNeverOverwrites) {
  const std::string weights = sagbench::testing::build_fixture_path("fid_inception_random.pth");
  write(dir_ + "/two.npz", {{"arr_0", samples_.slice(0, 0, 2)}});
  const std::vector<std::string> args = {"features",  dir_ + "/two.npz", "--out",  dir_ + "/two_features.npz",
                                         "--weights", weights,           "--mode", "pytorch-fid"};
  const CommandResult r = run(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  io::NpzReader out(dir_ + "/two_features.npz");
  EXPECT_EQ(out.header("pool").shape, (std::vector<std::int64_t>{2, 2048}));
  EXPECT_EQ(out.header("spatial").shape, (std::vector<std::int64_t>{2, 2023}));
  EXPECT_EQ(out.header("logits_unbiased").shape, (std::vector<std::int64_t>{2, 1008}));
  const eval::FeatureProvenance p = eval::read_feature_provenance(dir_ + "/two_features.npz");
  EXPECT_EQ(p.preprocessing, "pytorch-fid");
  EXPECT_EQ(p.extractor, "fid-inception-v3-2015-12-05");
  const CommandResult again = run(args);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_THAT(again.err, HasSubstr("never overwritten"));
}

TEST_F(EvalCommands, RefReadsAnImageFolder) {
  const std::string folder = dir_ + "/images";
  fs::create_directories(folder);
  for (int i = 0; i < 20; ++i) {
    // Stored as BGR by OpenCV; `ref` must give back the RGB tensor.
    const at::Tensor rgb = reference_[i].contiguous();
    const at::Tensor bgr = rgb.flip(2).contiguous();
    cv::Mat mat(6, 6, CV_8UC3, bgr.data_ptr<std::uint8_t>());
    ASSERT_TRUE(cv::imwrite(fmt::format("{}/{:03d}.png", folder, i), mat));
  }
  const CommandResult r =
      run({"ref", folder, "--out", dir_ + "/folder_ref.npz", "evaluator.extractor=test-pixels"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CommandResult n =
      run({"ref", dir_ + "/ref.npz", "--out", dir_ + "/npz_ref.npz", "evaluator.extractor=test-pixels"});
  ASSERT_EQ(n.exit_code, 0) << n.err;
  io::NpzReader a(dir_ + "/folder_ref.npz");
  io::NpzReader b(dir_ + "/npz_ref.npz");
  for (const char* name : {"mu", "sigma", "mu_s", "sigma_s", "pool"}) {
    EXPECT_TRUE(at::equal(a.read(name), b.read(name))) << name;
  }
  // An image of another size is named.
  cv::Mat odd(7, 6, CV_8UC3, cv::Scalar(1, 2, 3));
  ASSERT_TRUE(cv::imwrite(folder + "/999.png", odd));
  const CommandResult bad =
      run({"ref", folder, "--out", dir_ + "/bad.npz", "evaluator.extractor=test-pixels"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("999.png"));
  EXPECT_FALSE(fs::exists(dir_ + "/bad.npz"));
}

}  // namespace
}  // namespace sagbench::cli
