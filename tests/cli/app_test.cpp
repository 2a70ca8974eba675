// Tests of the application's global options (cli/app.cpp) through run_app:
// --version, --help (footer with an example, every subcommand), each
// subcommand's --help, --log-level/--quiet/--threads applied before the
// subcommand runs whether given before or after it, and usage errors.
#include <ATen/Parallel.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/version.h>

#include "core/log.h"
#include "invoke.h"

namespace sagbench::cli {
namespace {
using ::testing::HasSubstr;

using testing::AppRun;
using testing::invoke;

const std::vector<std::string> kCommands = {"info",     "sample", "eval",  "ref",    "fid",
                                            "features", "run",    "merge", "report", "train"};

TEST(App, VersionPrintsVersionCommitAndLibTorch) {
  AppRun result = invoke({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("sagbench 0."));
  EXPECT_THAT(result.out, HasSubstr("(git "));
  EXPECT_THAT(result.out, HasSubstr("LibTorch " TORCH_VERSION));
}

TEST(App, HelpListsGlobalOptionsCommandsAndAnExample) {
  AppRun result = invoke({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  for (const char* text :
       {"--log-level", "--quiet", "--threads", "--version", "Example:", "key.path=value"}) {
    EXPECT_THAT(result.out, HasSubstr(text));
  }
  for (const std::string& command : kCommands) {
    EXPECT_THAT(result.out, HasSubstr(command));
  }
}

TEST(App, EveryCommandHasHelp) {
  for (const std::string& command : kCommands) {
    AppRun result = invoke({command, "--help"});
    EXPECT_EQ(result.exit_code, 0) << command << ": " << result.err;
    EXPECT_THAT(result.out, HasSubstr(command)) << command;
  }
}

TEST(App, GlobalOptionsApplyBeforeTheCommandRunsInEitherPosition) {
  const int threads_before = at::get_num_threads();
  AppRun before = invoke({"--log-level", "debug", "--threads", "1", "info", "/nonexistent/file.pt"});
  EXPECT_NE(before.exit_code, 0);
  EXPECT_EQ(logging::level(), logging::Level::kDebug);
  EXPECT_EQ(at::get_num_threads(), 1);
  AppRun after = invoke({"info", "/nonexistent/file.pt", "--quiet"});
  EXPECT_NE(after.exit_code, 0);
  EXPECT_EQ(logging::level(), logging::Level::kWarn);
  logging::set_level(logging::Level::kInfo);
  at::set_num_threads(threads_before);
}

TEST(App, UsageErrorsExitNonZero) {
  EXPECT_NE(invoke({}).exit_code, 0);
  AppRun level = invoke({"--log-level", "loud", "info", "x"});
  EXPECT_NE(level.exit_code, 0);
  EXPECT_THAT(level.err, HasSubstr("loud"));
  EXPECT_NE(invoke({"--threads", "-2", "info", "x"}).exit_code, 0);
  EXPECT_NE(invoke({"no-such-command"}).exit_code, 0);
}

}  // namespace
}  // namespace sagbench::cli
