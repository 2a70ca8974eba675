// Shard ranges cover [0, N) exactly once with fixed boundaries, and
// round-robin dealing partitions any list (distributed/shard_plan.h).
#include "distributed/shard_plan.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"

namespace sagbench::distributed {
namespace {

TEST(ShardPlan, ShardsTileTheSampleRangeWithAShortLastShard) {
  const ShardPlan plan(10, 4);
  ASSERT_EQ(plan.num_shards(), 3);
  std::int64_t next = 0;
  for (std::int64_t k = 0; k < plan.num_shards(); ++k) {
    const ShardRange range = plan.shard(k);
    EXPECT_EQ(range.index, k);
    EXPECT_EQ(range.begin, next);
    EXPECT_EQ(range.begin, k * 4);  // boundaries depend on the shard size alone
    next = range.end;
  }
  EXPECT_EQ(next, 10);
  EXPECT_EQ(plan.shard(2).count(), 2);
}

TEST(ShardPlan, ExactMultipleAndSingleShard) {
  EXPECT_EQ(ShardPlan(12, 4).num_shards(), 3);
  EXPECT_EQ(ShardPlan(12, 4).shard(2).count(), 4);
  EXPECT_EQ(ShardPlan(3, 100).num_shards(), 1);
  EXPECT_EQ(ShardPlan(3, 100).shard(0).count(), 3);
}

TEST(ShardPlan, RejectsEmptyRunsAndShards) {
  for (const auto& [n, s] : std::vector<std::pair<std::int64_t, std::int64_t>>{{0, 4}, {10, 0}, {-1, 1}}) {
    try {
      ShardPlan(n, s);
      FAIL() << n << " " << s;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    }
  }
}

TEST(DealRoundRobin, PartitionsTheListOverRanksInOrder) {
  const std::vector<std::int64_t> items = {3, 5, 6, 9, 11, 12, 20};
  for (int world = 1; world <= 9; ++world) {
    std::vector<std::int64_t> seen;
    for (int rank = 0; rank < world; ++rank) {
      const std::vector<std::int64_t> mine = deal_round_robin(items, rank, world);
      EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
      // Balanced: no rank has more than one item more than another.
      EXPECT_LE(mine.size(), (items.size() + world - 1) / world);
      EXPECT_GE(mine.size(), items.size() / world);
      seen.insert(seen.end(), mine.begin(), mine.end());
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, items) << "world " << world;
  }
  EXPECT_EQ(deal_round_robin(items, 1, 3), (std::vector<std::int64_t>{5, 11}));
}

}  // namespace
}  // namespace sagbench::distributed
