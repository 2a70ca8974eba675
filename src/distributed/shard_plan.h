// Fixed seed-range shards: shard k holds the sample indices
// [k*S, min((k+1)*S, N)), so its images depend only on the configuration and
// k (the sampler's noise is keyed by sample index), never on which rank
// computes it, the world size or the batch size. Work is dealt round-robin in
// index order over the ranks (rank r takes items r, r+W, r+2W, ...), applied to
// the list of shards still pending so a resumed run is as balanced as a fresh
// one. Tested by tests/distributed/shard_plan_test.cpp.
#pragma once

#include <cstdint>
#include <vector>

namespace sagbench::distributed {

struct ShardRange {
  std::int64_t index = 0;
  std::int64_t begin = 0;  // first sample index
  std::int64_t end = 0;    // one past the last

  std::int64_t count() const { return end - begin; }
};

class ShardPlan {
 public:
  // kConfig error unless num_samples >= 1 and shard_size >= 1.
  ShardPlan(std::int64_t num_samples, std::int64_t shard_size);

  std::int64_t num_samples() const { return num_samples_; }
  std::int64_t shard_size() const { return shard_size_; }
  std::int64_t num_shards() const { return (num_samples_ + shard_size_ - 1) / shard_size_; }
  ShardRange shard(std::int64_t index) const;

 private:
  std::int64_t num_samples_;
  std::int64_t shard_size_;
};

// Items r, r + W, r + 2W, ... of `items` (kept in order).
std::vector<std::int64_t> deal_round_robin(const std::vector<std::int64_t>& items, int rank, int world_size);

}  // namespace sagbench::distributed
