// Tests for core/run_dir.h: a new run gets config.yaml, overrides.txt and
// provenance.json; a different config never overwrites it (suffix -2, -3);
// the identical config resumes and adds a resume record; resume can be
// refused; bad names are config errors.
#include "core/run_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_write.h"
#include "core/error.h"
#include "support/fixtures.h"

namespace sagbench {
namespace {
namespace fs = std::filesystem;

RunDirRequest request_for(const fs::path& parent, const std::string& config_yaml) {
  RunDirRequest request;
  request.parent = parent.string();
  request.name = "table1";
  request.config_yaml = config_yaml;
  request.overrides = {"model.image_size=64", "sampler.steps=25"};
  request.provenance = nlohmann::json{{"test", true}};  // keeps the test off the LibTorch queries
  return request;
}

TEST(RunDir, NewRunWritesConfigOverridesAndProvenance) {
  const fs::path parent = fs::path(sagbench::testing::make_temp_dir("run_dir_new")) / "runs";
  RunDir run = open_run_dir(request_for(parent, "a: 1\n"));
  EXPECT_FALSE(run.resumed);
  EXPECT_EQ(run.path, (parent / "table1").string());
  EXPECT_EQ(read_file(run.path + "/config.yaml"), "a: 1\n");
  EXPECT_EQ(read_file(run.path + "/overrides.txt"), "model.image_size=64\nsampler.steps=25\n");
  EXPECT_EQ(nlohmann::json::parse(read_file(run.path + "/provenance.json")),
            (nlohmann::json{{"test", true}}));
}

TEST(RunDir, DifferentConfigsNeverOverwriteEarlierRuns) {
  const fs::path parent = sagbench::testing::make_temp_dir("run_dir_suffix");
  RunDir first = open_run_dir(request_for(parent, "a: 1\n"));
  RunDir second = open_run_dir(request_for(parent, "a: 2\n"));
  RunDir third = open_run_dir(request_for(parent, "a: 3\n"));
  EXPECT_EQ(second.path, (parent / "table1-2").string());
  EXPECT_EQ(third.path, (parent / "table1-3").string());
  EXPECT_EQ(read_file(first.path + "/config.yaml"), "a: 1\n");
  EXPECT_EQ(read_file(second.path + "/config.yaml"), "a: 2\n");
  EXPECT_FALSE(second.resumed);
}

TEST(RunDir, IdenticalConfigResumesAndRecordsEachResume) {
  const fs::path parent = sagbench::testing::make_temp_dir("run_dir_resume");
  open_run_dir(request_for(parent, "a: 1\n"));
  open_run_dir(request_for(parent, "a: 2\n"));
  RunDirRequest again = request_for(parent, "a: 2\n");
  again.provenance = nlohmann::json{{"resume", 1}};
  RunDir resumed = open_run_dir(again);
  EXPECT_TRUE(resumed.resumed);
  EXPECT_EQ(resumed.path, (parent / "table1-2").string());
  again.provenance = nlohmann::json{{"resume", 2}};
  open_run_dir(again);
  EXPECT_EQ(nlohmann::json::parse(read_file(resumed.path + "/provenance.resume-1.json"))["resume"], 1);
  EXPECT_EQ(nlohmann::json::parse(read_file(resumed.path + "/provenance.resume-2.json"))["resume"], 2);
  EXPECT_EQ(nlohmann::json::parse(read_file(resumed.path + "/provenance.json"))["test"], true);

  again.allow_resume = false;
  RunDir fresh = open_run_dir(again);
  EXPECT_FALSE(fresh.resumed);
  EXPECT_EQ(fresh.path, (parent / "table1-3").string());
}

TEST(RunDir, DirectoryWithoutConfigIsNotResumed) {
  const fs::path parent = sagbench::testing::make_temp_dir("run_dir_foreign");
  fs::create_directories(parent / "table1");  // e.g. made by hand, or a crash before config.yaml
  RunDir run = open_run_dir(request_for(parent, "a: 1\n"));
  EXPECT_EQ(run.path, (parent / "table1-2").string());
  EXPECT_TRUE(fs::is_empty(parent / "table1"));
}

TEST(RunDir, BadNamesAreConfigErrors) {
  const fs::path parent = sagbench::testing::make_temp_dir("run_dir_names");
  for (const std::string name : {"", "a/b", "..", "."}) {
    RunDirRequest request = request_for(parent, "a: 1\n");
    request.name = name;
    try {
      open_run_dir(request);
      ADD_FAILURE() << "accepted run name '" << name << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    }
  }
  EXPECT_TRUE(fs::is_empty(parent));
}

}  // namespace
}  // namespace sagbench
