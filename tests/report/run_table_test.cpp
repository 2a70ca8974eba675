// Tests for report/run_table.h: row order (listed configurations, then sweeps
// by numeric value; argument order across directories), the fields read from
// metrics.json, and errors that name the directory or file.
#include "report/run_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "report/report_test_support.h"

namespace sagbench::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::json;
using testing::make_quickstart;
using testing::run_metrics;
using testing::write_metrics;
namespace fs = std::filesystem;

std::vector<std::string> names(const RunTable& table) {
  std::vector<std::string> out;
  for (const RunRow& row : table.rows) {
    out.push_back(row.configuration);
  }
  return out;
}

template <class Fn>
Error error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error thrown";
  return Error(ErrorKind::kRuntime, "");
}

TEST(RunTable, ExperimentDirListsConfigurationsThenSweepByNumericValue) {
  const fs::path exp = make_quickstart(sagbench::testing::make_temp_dir("report_order"));
  fs::create_directories(exp / "report");  // an earlier report's output is not a configuration
  const RunTable table = load_run_table({exp.string()});
  EXPECT_THAT(names(table), ElementsAre("base", "cfg_a", "sag_s0.5", "sag_s1", "sag_s2", "sag_s10"));
  EXPECT_TRUE(table.skipped.empty());
}

TEST(RunTable, ReadsMetricsPublishedValuesCountsAndSweep) {
  const fs::path exp = make_quickstart(sagbench::testing::make_temp_dir("report_fields"));
  const RunRow base = load_run((exp / "base").string());
  EXPECT_EQ(base.experiment, "quickstart");
  EXPECT_EQ(base.run_dir, (exp / "base").string());
  EXPECT_EQ(base.metrics[Metric::kFid], 30.0);
  EXPECT_EQ(base.metrics[Metric::kSfid], 9.5);
  EXPECT_EQ(base.metrics[Metric::kInceptionScore], 7.1234);
  EXPECT_EQ(base.inception_score_std, 0.25);
  EXPECT_EQ(base.published[Metric::kFid], 31.5);
  EXPECT_FALSE(base.published[Metric::kPrecision]);
  EXPECT_EQ(base.published_source, "SAG README, Table 1");
  EXPECT_EQ(base.sample_count, 1000);
  EXPECT_EQ(base.reference_count, 10000);
  EXPECT_EQ(base.extractor, "fid-inception");
  EXPECT_EQ(base.preprocessing, "adm");
  EXPECT_FALSE(base.is_sweep());

  const RunRow swept = load_run((exp / "sag_s0.5/").string());  // a trailing slash is the same directory
  EXPECT_EQ(swept.run_dir, (exp / "sag_s0.5").string());
  EXPECT_EQ(swept.sweep_name, "sag_s{}");
  EXPECT_EQ(swept.sweep_key, "guidance.sag.s");
  EXPECT_EQ(swept.sweep_value, "0.5");
  EXPECT_EQ(swept.sweep_number, 0.5);
  EXPECT_FALSE(swept.metrics[Metric::kSfid]);
}

TEST(RunTable, ConfigurationDirsKeepArgumentOrder) {
  const fs::path exp = make_quickstart(sagbench::testing::make_temp_dir("report_args"));
  const RunTable table =
      load_run_table({(exp / "sag_s2").string(), (exp / "base").string(), (exp / "sag_s0.5").string()});
  EXPECT_THAT(names(table), ElementsAre("sag_s2", "base", "sag_s0.5"));
}

TEST(RunTable, EvalMetricsWithoutNamesUseTheDirectories) {
  const fs::path root = sagbench::testing::make_temp_dir("report_eval");
  write_metrics(root / "mnist" / "samples_a",
                {{"metrics", {{"fid", 3.5}, {"recall", nullptr}}}, {"samples", {{"count", 64}}}});
  const RunRow row = load_run((root / "mnist" / "samples_a").string());
  EXPECT_EQ(row.experiment, "mnist");
  EXPECT_EQ(row.configuration, "samples_a");
  EXPECT_EQ(row.metrics[Metric::kFid], 3.5);
  EXPECT_FALSE(row.metrics[Metric::kRecall]);  // null (NaN) is absent
  EXPECT_EQ(row.sample_count, 64);
  EXPECT_FALSE(row.sweep_number);
}

TEST(RunTable, UnevaluatedConfigurationIsAnErrorNamingItOrSkippedWhenAsked) {
  const fs::path exp = make_quickstart(sagbench::testing::make_temp_dir("report_unevaluated"));
  fs::create_directories(exp / "sag_s3" / "shards");
  write_file_atomic((exp / "sag_s3" / "config.yaml").string(), "guidance: {}\n");

  const Error direct = error_of([&] { load_run_table({(exp / "sag_s3").string()}); });
  EXPECT_EQ(direct.kind(), ErrorKind::kIo);
  EXPECT_THAT(direct.what(), HasSubstr((exp / "sag_s3").string() + ": no metrics.json"));
  const Error in_experiment = error_of([&] { load_run_table({exp.string()}); });
  EXPECT_THAT(in_experiment.what(), HasSubstr((exp / "sag_s3").string()));

  const RunTable table = load_run_table({exp.string()}, LoadOptions{true});
  EXPECT_EQ(table.rows.size(), 6u);
  EXPECT_THAT(table.skipped, ElementsAre((exp / "sag_s3").string()));
  const Error none = error_of([&] { load_run_table({(exp / "sag_s3").string()}, LoadOptions{true}); });
  EXPECT_EQ(none.kind(), ErrorKind::kConfig);
  EXPECT_THAT(none.what(), HasSubstr("no evaluated configuration"));
}

TEST(RunTable, DirectoryWithoutMetricsOrConfigurationsIsAnErrorNamingIt) {
  const fs::path empty = sagbench::testing::make_temp_dir("report_empty");
  const Error e = error_of([&] { load_run_table({empty.string()}); });
  EXPECT_EQ(e.kind(), ErrorKind::kIo);
  EXPECT_THAT(e.what(), HasSubstr(empty.string() + ": no metrics.json"));
  const Error missing = error_of([&] { load_run_table({(empty / "absent").string()}); });
  EXPECT_THAT(missing.what(), HasSubstr((empty / "absent").string() + ": not a directory"));
  const Error bare = error_of([&] { load_run((empty).string()); });
  EXPECT_THAT(bare.what(), HasSubstr(empty.string() + ": no metrics.json"));
}

TEST(RunTable, MalformedJsonIsAFormatErrorNamingTheFile) {
  const fs::path dir = fs::path(sagbench::testing::make_temp_dir("report_malformed")) / "exp" / "cfg";
  fs::create_directories(dir);
  write_file_atomic((dir / "metrics.json").string(), "{\"metrics\": {\"fid\": 1.0,");
  const Error e = error_of([&] { load_run_table({dir.string()}); });
  EXPECT_EQ(e.kind(), ErrorKind::kFormat);
  EXPECT_THAT(e.what(), HasSubstr((dir / "metrics.json").string() + ": not valid JSON"));

  write_metrics(dir, {{"metrics", {{"fid", "12.3"}}}});
  const Error type = error_of([&] { load_run(dir.string()); });
  EXPECT_EQ(type.kind(), ErrorKind::kFormat);
  EXPECT_THAT(type.what(), HasSubstr((dir / "metrics.json").string() + ": \"metrics.fid\" must be a number"));

  write_metrics(dir, json::array({1, 2}));
  EXPECT_THAT(error_of([&] { load_run(dir.string()); }).what(), HasSubstr("must hold a JSON object"));
  write_metrics(dir, {{"experiment", "e"}});
  EXPECT_THAT(error_of([&] { load_run(dir.string()); }).what(), HasSubstr("has no \"metrics\" object"));
}

TEST(RunTable, ConfigurationListedTwiceIsAnError) {
  const fs::path exp = make_quickstart(sagbench::testing::make_temp_dir("report_twice"));
  const Error same_dir = error_of([&] { load_run_table({exp.string(), (exp / "base/").string()}); });
  EXPECT_EQ(same_dir.kind(), ErrorKind::kConfig);
  EXPECT_THAT(same_dir.what(), HasSubstr("listed twice"));

  const fs::path copy = exp.parent_path() / "copy" / "base";
  write_metrics(copy, run_metrics("quickstart", "base", {{"fid", 1.0}}));
  const Error same_name = error_of([&] { load_run_table({(exp / "base").string(), copy.string()}); });
  EXPECT_THAT(same_name.what(), HasSubstr("configuration 'base' appears twice"));
}

}  // namespace
}  // namespace sagbench::report
