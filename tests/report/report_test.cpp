// Tests for report/report.h: the files of a report, the default output
// directory, and byte-identical output for fixed inputs (built twice, written
// twice, and with the metrics.json files reformatted).
#include "report/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "report/report_test_support.h"

namespace sagbench::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::vector<std::string> file_names(const Report& report) {
  std::vector<std::string> names;
  for (const ReportFile& file : report.files) {
    names.push_back(file.name);
  }
  return names;
}

TEST(Report, WritesTablesAndOneSvgPerSweep) {
  const fs::path exp = testing::make_quickstart(sagbench::testing::make_temp_dir("report_files"));
  const RunTable table = load_run_table({exp.string()});
  const Report report = build_report(table);
  EXPECT_THAT(file_names(report),
              ElementsAre("report.md", "report.csv", "report.json", "sweep_quickstart_sag_s.svg"));
  EXPECT_EQ(report.files[0].bytes, report.markdown);
  EXPECT_EQ(default_out_dir(table), (exp / "report").string());

  const std::vector<std::string> paths = write_report(report, default_out_dir(table));
  ASSERT_EQ(paths.size(), 4u);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(paths[i], (exp / "report" / report.files[i].name).string());
    EXPECT_EQ(read_file(paths[i]), report.files[i].bytes);
  }
  EXPECT_THAT(read_file(paths[3]), HasSubstr(">best: 0.5 (FID 18.25)</text>"));
}

TEST(Report, OutputIsByteIdenticalForFixedInputs) {
  const fs::path exp = testing::make_quickstart(sagbench::testing::make_temp_dir("report_deterministic"));
  const Report first = build_report(load_run_table({exp.string()}));
  const std::vector<std::string> first_paths = write_report(first, (exp / "report").string());

  // The report directory inside the experiment directory is not a configuration.
  const Report second = build_report(load_run_table({exp.string()}));
  const fs::path other = exp.parent_path() / "elsewhere";
  const std::vector<std::string> second_paths = write_report(second, other.string());
  ASSERT_EQ(file_names(first), file_names(second));
  for (std::size_t i = 0; i < first_paths.size(); ++i) {
    EXPECT_EQ(read_file(first_paths[i]), read_file(second_paths[i])) << first.files[i].name;
  }
  // Writing again over the same files gives the same bytes.
  write_report(second, (exp / "report").string());
  for (std::size_t i = 0; i < first_paths.size(); ++i) {
    EXPECT_EQ(read_file(first_paths[i]), first.files[i].bytes) << first.files[i].name;
  }

  // The layout of metrics.json (indentation, key order) does not matter.
  for (const fs::directory_entry& entry : fs::directory_iterator(exp)) {
    const fs::path metrics = entry.path() / "metrics.json";
    if (fs::exists(metrics)) {
      write_file_atomic(metrics.string(), nlohmann::json::parse(read_file(metrics.string())).dump());
    }
  }
  const Report third = build_report(load_run_table({exp.string()}));
  ASSERT_EQ(file_names(first), file_names(third));
  for (std::size_t i = 0; i < first.files.size(); ++i) {
    EXPECT_EQ(first.files[i].bytes, third.files[i].bytes) << first.files[i].name;
  }
}

TEST(Report, UnwritableOutputIsAnIoErrorNamingIt) {
  const fs::path exp = testing::make_quickstart(sagbench::testing::make_temp_dir("report_unwritable"));
  const Report report = build_report(load_run_table({exp.string()}));
  const fs::path blocker = exp / "blocker";
  write_file_atomic(blocker.string(), "a file, not a directory");
  try {
    write_report(report, (blocker / "report").string());
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_THAT(e.what(), HasSubstr((blocker / "report").string()));
  }
}

}  // namespace
}  // namespace sagbench::report
