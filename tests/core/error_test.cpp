// Tests for core/error.h: user errors carry their kind and formatted message;
// invariant failures abort with file:line.
#include "core/error.h"

#include <gtest/gtest.h>

namespace sagbench {
namespace {

TEST(Error, RequireThrowsTypedFormattedError) {
  try {
    SAG_REQUIRE(1 + 1 == 3, kConfig, "key '{}' is {}", "a.b", 7);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_STREQ(e.what(), "key 'a.b' is 7");
  }
}

TEST(ErrorDeathTest, CheckAbortsWithLocation) {
  set_process_rank(3);
  EXPECT_DEATH(SAG_CHECK(false, "value {}", 5),
               "\\[rank 3\\] internal error at .*error_test.cpp:[0-9]+.*value 5");
}

}  // namespace
}  // namespace sagbench
