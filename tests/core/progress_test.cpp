// Tests for core/progress.h with an injected clock and writer: rate and ETA
// arithmetic, carriage-return redraws on a TTY throttled by tty_interval_s,
// plain lines every plain_interval_s otherwise, nothing on ranks other than 0,
// and the final line.
#include "core/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"

namespace sagbench {
namespace {
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Harness {
  double now_s = 100.0;
  std::vector<std::string> writes;
  ProgressOptions options(bool tty) {
    ProgressOptions o;
    o.unit = "img";
    o.tty = tty;
    o.enabled = true;
    o.plain_interval_s = 10.0;
    o.tty_interval_s = 0.5;
    o.clock_s = [this] { return now_s; };
    o.writer = [this](const std::string& text) { writes.push_back(text); };
    return o;
  }
};

TEST(Progress, RateAndEtaFromCountAndElapsedTime) {
  Harness h;
  Progress progress("sampling", 1000, h.options(false));
  h.now_s += 20.0;
  progress.advance(250);  // 12.5 img/s, 750 left -> 60 s
  EXPECT_EQ(progress.count(), 250);
  EXPECT_EQ(progress.line(), "sampling 250/1000 (25.0%) 12.5 img/s, elapsed 20s, ETA 1m00s");
  progress.finish();
}

TEST(Progress, PlainLinesAtMostEveryInterval) {
  Harness h;
  Progress progress("eval", 100, h.options(false));
  for (int i = 0; i < 30; ++i) {  // 30 steps of 1 s: lines at 10 s, 20 s, 30 s
    h.now_s += 1.0;
    progress.advance();
  }
  ASSERT_EQ(h.writes.size(), 3u);
  EXPECT_EQ(h.writes[0], "eval 10/100 (10.0%) 1.00 img/s, elapsed 10s, ETA 1m30s\n");
  for (const std::string& text : h.writes) {
    EXPECT_EQ(text.find('\r'), std::string::npos);
  }
  progress.finish();
  progress.finish();  // idempotent
  ASSERT_EQ(h.writes.size(), 4u);
  EXPECT_THAT(h.writes[3], StartsWith("eval 30/100 (30.0%)"));
}

TEST(Progress, TtyRedrawsInPlaceThrottled) {
  Harness h;
  {
    Progress progress("features", 0, h.options(true));
    for (int i = 0; i < 10; ++i) {  // 10 steps of 0.25 s: redraws every 0.5 s
      h.now_s += 0.25;
      progress.advance(4);
    }
    ASSERT_EQ(h.writes.size(), 5u);
    EXPECT_THAT(h.writes[0], StartsWith("\rfeatures 8 img 16.0 img/s"));
    EXPECT_THAT(h.writes[0], ::testing::EndsWith("\x1b[K"));
    EXPECT_THAT(h.writes[0], ::testing::Not(HasSubstr("ETA")));  // total unknown
  }  // the destructor prints the final line, ending the terminal line
  ASSERT_EQ(h.writes.size(), 6u);
  EXPECT_THAT(h.writes[5], StartsWith("\rfeatures 40 img"));
  EXPECT_THAT(h.writes[5], ::testing::EndsWith("\n"));
}

TEST(Progress, SilentWhenDisabledOrNotRankZero) {
  Harness h;
  ProgressOptions disabled = h.options(false);
  disabled.enabled = false;
  {
    Progress progress("quiet", 10, disabled);
    h.now_s += 100;
    progress.advance(10);
    EXPECT_EQ(progress.count(), 10);
  }
  set_process_rank(2);
  ProgressOptions by_rank = h.options(false);
  by_rank.enabled.reset();  // default: rank 0 only
  {
    Progress progress("rank2", 10, by_rank);
    h.now_s += 100;
    progress.advance(10);
  }
  set_process_rank(0);
  EXPECT_TRUE(h.writes.empty());
}

TEST(Progress, FormatDuration) {
  EXPECT_EQ(format_duration(0.25), "250ms");
  EXPECT_EQ(format_duration(59.9), "59s");
  EXPECT_EQ(format_duration(187), "3m07s");
  EXPECT_EQ(format_duration(7500), "2h05m");
  EXPECT_EQ(format_duration(-1), "?");
}

}  // namespace
}  // namespace sagbench
