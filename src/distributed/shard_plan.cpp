// Shard ranges and round-robin dealing (see shard_plan.h).
#include "distributed/shard_plan.h"

#include <algorithm>

#include "core/error.h"

namespace sagbench::distributed {

ShardPlan::ShardPlan(std::int64_t num_samples, std::int64_t shard_size)
    : num_samples_(num_samples), shard_size_(shard_size) {
  SAG_REQUIRE(num_samples >= 1, kConfig, "num_samples must be at least 1, got {}", num_samples);
  SAG_REQUIRE(shard_size >= 1, kConfig, "shard_size must be at least 1, got {}", shard_size);
}

ShardRange ShardPlan::shard(std::int64_t index) const {
  SAG_CHECK(index >= 0 && index < num_shards(), "shard {} outside [0, {})", index, num_shards());
  const std::int64_t begin = index * shard_size_;
  return {index, begin, std::min(begin + shard_size_, num_samples_)};
}

std::vector<std::int64_t> deal_round_robin(const std::vector<std::int64_t>& items, int rank, int world_size) {
  SAG_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "rank {} of {}", rank, world_size);
  std::vector<std::int64_t> mine;
  for (std::size_t i = static_cast<std::size_t>(rank); i < items.size();
       i += static_cast<std::size_t>(world_size)) {
    mine.push_back(items[i]);
  }
  return mine;
}

}  // namespace sagbench::distributed
