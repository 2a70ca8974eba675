// Merging shards: the merged npz holds exactly the producer's samples in
// index order, a second merge only verifies, and missing or corrupt shards
// stop the merge naming them (distributed/shard_merge.h).
#include "distributed/shard_merge.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "distributed/shard_test_support.h"
#include "evaluation/sha256.h"
#include "io/npz.h"
#include "support/fixtures.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;
using testing::expected_samples;
using testing::flip_byte;
using testing::manifest_for;
using testing::small_pattern;
using testing::write_shard;

class ShardMergeTest : public ::testing::Test {
 protected:
  void SetUp() override { run_dir_ = sagbench::testing::make_temp_dir("shard_merge"); }
  void TearDown() override { fs::remove_all(run_dir_); }

  ShardStore complete_store(const TestPatternConfig& config, std::int64_t n, std::int64_t shard_size) {
    TestPatternProducer producer(config);
    ShardStore store = ShardStore::create_or_open(run_dir_ + "/shards", manifest_for(config, n, shard_size));
    for (std::int64_t k = store.plan().num_shards() - 1; k >= 0; --k) {  // written out of order
      write_shard(store, producer, k);
    }
    return store;
  }

  std::string run_dir_;
};

TEST_F(ShardMergeTest, MergedFileHoldsTheSamplesInIndexOrder) {
  const ShardStore store = complete_store(small_pattern(), 11, 4);
  const MergeResult result = merge_shards(store, run_dir_);
  EXPECT_FALSE(result.already_merged);
  EXPECT_EQ(fs::path(result.path).filename(), "samples_11x4x5x3.npz");
  TestPatternProducer producer(small_pattern());
  const ImageBatch expected = expected_samples(producer, 0, 11);
  const io::TensorDict merged = io::read_npz(result.path);
  EXPECT_TRUE(at::equal(merged.at("arr_0"), expected.images));
  EXPECT_TRUE(at::equal(merged.at("arr_1"), expected.labels));
  EXPECT_EQ(result.sha256, eval::sha256_file(result.path));
  EXPECT_TRUE(recorded_merge(run_dir_, store.manifest()).has_value());
}

TEST_F(ShardMergeTest, UnlabelledSamplesMergeWithoutArr1) {
  const ShardStore store = complete_store(small_pattern(0), 7, 3);
  io::NpzReader reader(merge_shards(store, run_dir_).path);
  EXPECT_EQ(reader.names(), std::vector<std::string>{"arr_0"});
  EXPECT_EQ(reader.header("arr_0").shape, (std::vector<std::int64_t>{7, 4, 5, 3}));
}

TEST_F(ShardMergeTest, SecondMergeVerifiesAndKeepsTheFile) {
  const ShardStore store = complete_store(small_pattern(), 9, 4);
  const MergeResult first = merge_shards(store, run_dir_);
  const auto written = fs::last_write_time(first.path);
  const MergeResult second = merge_shards(store, run_dir_);
  EXPECT_TRUE(second.already_merged);
  EXPECT_EQ(second.sha256, first.sha256);
  EXPECT_EQ(fs::last_write_time(first.path), written);
}

TEST_F(ShardMergeTest, DamagedMergedFileIsWrittenAgain) {
  const ShardStore store = complete_store(small_pattern(), 9, 4);
  const MergeResult first = merge_shards(store, run_dir_);
  flip_byte(first.path, 100);
  const MergeResult again = merge_shards(store, run_dir_);
  EXPECT_FALSE(again.already_merged);
  EXPECT_EQ(again.sha256, first.sha256);
  EXPECT_EQ(eval::sha256_file(again.path), first.sha256);
}

TEST_F(ShardMergeTest, MissingOrCorruptShardStopsTheMergeNamingIt) {
  const ShardStore store = complete_store(small_pattern(), 12, 4);
  flip_byte(store.shard_path(1), 150);
  try {
    merge_shards(store, run_dir_);
    FAIL() << "a corrupt shard was merged";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("shard 1 is corrupt"), std::string::npos) << e.what();
  }
  store.discard(1);
  try {
    merge_shards(store, run_dir_);
    FAIL() << "a missing shard was merged";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shard 1 is not finished"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(run_dir_ + "/samples_12x4x5x3.npz"));
  EXPECT_FALSE(fs::exists(run_dir_ + "/samples_12x4x5x3.npz.tmp"));
}

}  // namespace
}  // namespace sagbench::distributed
