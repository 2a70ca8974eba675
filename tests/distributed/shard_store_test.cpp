// Shard files and markers: a written shard reads back as the producer's
// samples and verifies; damaged, truncated, foreign or half-written shards are
// never counted as finished; another configuration's directory is refused
// (distributed/shard_store.h).
#include "distributed/shard_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "distributed/shard_test_support.h"
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

class ShardStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = sagbench::testing::make_temp_dir("shard_store") + "/shards"; }
  void TearDown() override { fs::remove_all(fs::path(dir_).parent_path()); }
  std::string dir_;
};

TEST_F(ShardStoreTest, WrittenShardReadsBackAsTheProducersSamplesAndVerifies) {
  TestPatternProducer producer(small_pattern());
  const ShardStore store = ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 10, 4));
  EXPECT_EQ(store.verify(1).state, ShardState::kMissing);
  write_shard(store, producer, 1, /*batch_size=*/3);  // 3 + 1 rows: batches do not align with the shard
  EXPECT_EQ(store.verify(1).state, ShardState::kDone);
  EXPECT_EQ(store.count_markers(), 1);

  const io::TensorDict arrays = io::read_npz(store.shard_path(1));
  const ImageBatch expected = expected_samples(producer, 4, 8);
  EXPECT_TRUE(at::equal(arrays.at("arr_0"), expected.images));
  EXPECT_TRUE(at::equal(arrays.at("arr_1"), expected.labels));
  const nlohmann::json marker = store.read_marker(1);
  EXPECT_EQ(marker["begin"], 4);
  EXPECT_EQ(marker["end"], 8);
  EXPECT_EQ(marker["config_hash"], store.config_hash());
  EXPECT_EQ(marker["rank"], 0);  // extra fields are kept
}

TEST_F(ShardStoreTest, ShardsWithoutLabelsHaveOnlyImages) {
  TestPatternProducer producer(small_pattern(0));
  const ShardStore store = ShardStore::create_or_open(dir_, manifest_for(small_pattern(0), 5, 5));
  write_shard(store, producer, 0);
  io::NpzReader reader(store.shard_path(0));
  EXPECT_EQ(reader.names(), std::vector<std::string>{"arr_0"});
}

TEST_F(ShardStoreTest, FlippedByteIsACorruptShard) {
  TestPatternProducer producer(small_pattern());
  const ShardStore store = ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 10, 4));
  write_shard(store, producer, 0);
  flip_byte(store.shard_path(0), 200);
  // The marker alone still looks fine: only the checksum finds it.
  EXPECT_EQ(store.check_marker(0).state, ShardState::kDone);
  const ShardStatus status = store.verify(0);
  EXPECT_EQ(status.state, ShardState::kCorrupt);
  EXPECT_NE(status.reason.find("checksum"), std::string::npos) << status.reason;
  store.discard(0);
  EXPECT_EQ(store.verify(0).state, ShardState::kMissing);
  EXPECT_FALSE(fs::exists(store.shard_path(0)));
}

TEST_F(ShardStoreTest, TruncatedMissingOrForeignFilesAreCorrupt) {
  TestPatternProducer producer(small_pattern());
  const ShardStore store = ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 12, 4));
  for (std::int64_t k = 0; k < 3; ++k) {
    write_shard(store, producer, k);
  }
  fs::resize_file(store.shard_path(0), fs::file_size(store.shard_path(0)) - 1);
  EXPECT_EQ(store.check_marker(0).state, ShardState::kCorrupt);
  fs::remove(store.shard_path(1));
  EXPECT_EQ(store.check_marker(1).state, ShardState::kCorrupt);
  {
    std::ofstream marker(store.marker_path(2), std::ios::trunc);
    marker << "{not json";
  }
  EXPECT_EQ(store.check_marker(2).state, ShardState::kCorrupt);
  // A marker copied to another index names another range.
  write_shard(store, producer, 0);
  fs::copy_file(store.marker_path(0), store.marker_path(1), fs::copy_options::overwrite_existing);
  fs::copy_file(store.shard_path(0), store.shard_path(1), fs::copy_options::overwrite_existing);
  EXPECT_EQ(store.verify(1).state, ShardState::kCorrupt);
}

TEST_F(ShardStoreTest, AbandonedWriterLeavesNothing) {
  TestPatternProducer producer(small_pattern());
  const ShardStore store = ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 10, 4));
  {
    ShardWriter writer(store, 0);
    producer.produce(0, 2, 2, [&](const ImageBatch& batch) { writer.append(batch); });
  }
  EXPECT_EQ(store.verify(0).state, ShardState::kMissing);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    files.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(files, std::vector<std::string>{"manifest.json"});
}

TEST_F(ShardStoreTest, IncompleteOrMisshapedBatchesAreRefused) {
  TestPatternProducer producer(small_pattern());
  const ShardStore store = ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 10, 4));
  ShardWriter writer(store, 0);
  ImageBatch batch = expected_samples(producer, 0, 2);
  ImageBatch no_labels{batch.images, at::Tensor()};
  EXPECT_THROW(writer.append(no_labels), Error);
  ImageBatch wrong{batch.images.narrow(1, 0, 2).contiguous(), batch.labels};
  EXPECT_THROW(writer.append(wrong), Error);
  writer.append(batch);
  try {
    writer.commit({});
    FAIL() << "a shard of 4 committed with 2 samples";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kShape);
  }
}

TEST_F(ShardStoreTest, AnotherConfigurationIsRefusedNamingTheDifference) {
  ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 10, 4, "seed: 7\nscale: 0.1\n"));
  // The same configuration reopens.
  EXPECT_NO_THROW(
      ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 10, 4, "seed: 7\nscale: 0.1\n")));
  try {
    ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 10, 4, "seed: 7\nscale: 0.2\n"));
    FAIL() << "a different configuration was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    const std::string message = e.what();
    EXPECT_NE(message.find("refusing to mix"), std::string::npos) << message;
    EXPECT_NE(message.find("scale: 0.1"), std::string::npos) << message;
  }
  // So are another shard size and sample count.
  EXPECT_THROW(
      ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 10, 5, "seed: 7\nscale: 0.1\n")), Error);
  EXPECT_THROW(
      ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 11, 4, "seed: 7\nscale: 0.1\n")), Error);
}

TEST_F(ShardStoreTest, EditedManifestIsAFormatError) {
  ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 10, 4));
  const std::string path = dir_ + "/manifest.json";
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(path));
  manifest["num_samples"] = 20;
  std::ofstream(path, std::ios::trunc) << manifest.dump();
  try {
    ShardStore::open(dir_);
    FAIL() << "an edited manifest was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
  }
  EXPECT_THROW(ShardStore::open(dir_ + "/nowhere"), Error);
}

TEST_F(ShardStoreTest, StaleTemporariesAreRemovedAndCountAsProgress) {
  TestPatternProducer producer(small_pattern());
  const ShardStore store = ShardStore::create_or_open(dir_, manifest_for(small_pattern(), 10, 4));
  const std::string before = store.progress_fingerprint();
  std::ofstream(store.shard_path(2) + ".tmp") << "partial";
  std::ofstream(dir_ + "/.shard_000002.done.tmp.123.0") << "{";
  const std::string growing = store.progress_fingerprint();
  EXPECT_NE(growing, before);
  write_shard(store, producer, 0);
  EXPECT_NE(store.progress_fingerprint(), growing);
  EXPECT_EQ(store.remove_stale_temporaries(), 2);
  EXPECT_TRUE(fs::exists(store.shard_path(0)));
  EXPECT_EQ(store.verify(0).state, ShardState::kDone);
}

}  // namespace
}  // namespace sagbench::distributed
