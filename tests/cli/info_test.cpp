// Tests of `sagbench info` through the application entry point (cli/app.h),
// as a user runs it: the listing of a zip checkpoint, the legacy .pth and an
// npz fixture (counts and shapes from Python's pickle/numpy), and one clear
// stderr line with a non-zero exit for a damaged or unknown file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/app.h"
#include "cli/invoke.h"
#include "support/fixtures.h"

namespace sagbench::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using InfoRun = testing::AppRun;

InfoRun run_info(const std::string& path) {
  return testing::invoke({"info", path});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

TEST(InfoCommand, ListsAZipCheckpoint) {
  const std::string path = sagbench::testing::fixture_path("adm_tiny_uncond.pt");
  const InfoRun run = run_info(path);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> lines = lines_of(run.out);
  ASSERT_EQ(lines.size(), 216u + 3);  // format line, header, one line per tensor, totals
  EXPECT_EQ(lines[0], path + ": torch zip checkpoint (torch.save >= 1.6)");
  EXPECT_THAT(lines[2], StartsWith("time_embed.0.weight"));
  EXPECT_THAT(lines[2], HasSubstr("float32"));
  EXPECT_THAT(lines[2], HasSubstr("[128, 32]"));
  // 1422278 float32 elements by Python's pickle = 5689112 bytes.
  EXPECT_EQ(lines.back(), "216 tensors, 1422278 elements, 5.4 MiB");
}

TEST(InfoCommand, ListsTheLegacyPthAndAnNpz) {
  const InfoRun legacy = run_info(sagbench::testing::build_fixture_path("fid_inception_random.pth"));
  ASSERT_EQ(legacy.exit_code, 0) << legacy.err;
  EXPECT_THAT(legacy.out, HasSubstr("legacy torch checkpoint"));
  EXPECT_THAT(legacy.out, HasSubstr("472 tensors, 23885392 elements"));
  const InfoRun npz = run_info(sagbench::testing::fixture_path("metrics_vectors.npz"));
  ASSERT_EQ(npz.exit_code, 0) << npz.err;
  EXPECT_THAT(npz.out, HasSubstr("npz archive"));
  EXPECT_THAT(npz.out, HasSubstr("[1000, 8]"));  // pr_ref, per the fixture README
}

TEST(InfoCommand, BadFilesExitNonZeroWithOneLine) {
  const std::string dir = sagbench::testing::make_temp_dir("info");
  const std::string original = sagbench::testing::fixture_path("adm_tiny_cond.pt");
  const std::string damaged = dir + "/damaged.pt";
  std::filesystem::copy_file(original, damaged);
  std::filesystem::resize_file(damaged, std::filesystem::file_size(original) - 100);
  const std::string unknown = dir + "/notes.txt";
  std::ofstream(unknown) << "not a tensor file\n";
  for (const std::string& path : {damaged, unknown, dir + "/absent.pt"}) {
    const InfoRun run = run_info(path);
    EXPECT_NE(run.exit_code, 0) << path;
    EXPECT_TRUE(run.out.empty()) << run.out;
    ASSERT_EQ(lines_of(run.err).size(), 1u) << run.err;
    EXPECT_THAT(run.err, HasSubstr(path));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sagbench::cli
