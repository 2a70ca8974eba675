// Tests for core/log.h: level parsing and filtering, lazy formatting in the
// macros, the rank prefix only when the world has several processes, and rank
// detection from launcher environment variables.
#include "core/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "core/error.h"

namespace sagbench::logging {
namespace {
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// Captures lines and restores the global logging state afterwards.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_sink([this](Level, const std::string& line) { lines_.push_back(line); });
  }
  void TearDown() override {
    set_sink(nullptr);
    set_level(Level::kInfo);
    set_rank(0, 1);
  }
  std::vector<std::string> lines_;
};

TEST_F(LogTest, ParseLevelAcceptsNamesAndRejectsOthers) {
  EXPECT_EQ(parse_level("debug"), Level::kDebug);
  EXPECT_EQ(parse_level("warn"), Level::kWarn);
  try {
    parse_level("verbose");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_THAT(e.what(), HasSubstr("'verbose'"));
  }
}

TEST_F(LogTest, LevelFiltersMessagesAndSkipsFormatting) {
  set_level(Level::kWarn);
  int formatted = 0;
  auto counted = [&formatted] {
    ++formatted;
    return 7;
  };
  SAG_LOG_INFO("hidden {}", counted());
  SAG_LOG_DEBUG("hidden {}", counted());
  SAG_LOG_WARN("shown {}", counted());
  SAG_LOG_ERROR("also shown");
  EXPECT_EQ(formatted, 1);  // arguments of dropped messages are never evaluated
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_THAT(lines_[0], MatchesRegex("[0-9][0-9]:[0-9][0-9]:[0-9][0-9] warn: shown 7"));
  EXPECT_THAT(lines_[1], HasSubstr("error: also shown"));
}

TEST_F(LogTest, RankPrefixOnlyWithSeveralProcesses) {
  SAG_LOG_INFO("single");
  set_rank(3, 8);
  EXPECT_EQ(process_rank(), 3);
  SAG_LOG_INFO("multi");
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_THAT(lines_[0], ::testing::Not(HasSubstr("[rank")));
  EXPECT_THAT(lines_[1], StartsWith("[rank 3] "));
  EXPECT_THAT(lines_[1], HasSubstr("info: multi"));
}

TEST_F(LogTest, RankFromLauncherEnvironment) {
  ::setenv("OMPI_COMM_WORLD_RANK", "5", 1);
  ::setenv("OMPI_COMM_WORLD_SIZE", "6", 1);
  set_rank_from_environment();
  EXPECT_EQ(rank(), 5);
  EXPECT_EQ(world_size(), 6);
  ::setenv("OMPI_COMM_WORLD_RANK", "7", 1);  // inconsistent: ignored
  set_rank(0, 1);
  set_rank_from_environment();
  EXPECT_EQ(rank(), 0);
  EXPECT_EQ(world_size(), 1);
  ::unsetenv("OMPI_COMM_WORLD_RANK");
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
}

}  // namespace
}  // namespace sagbench::logging
