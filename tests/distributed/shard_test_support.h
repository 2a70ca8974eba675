// Helpers shared by the shard tests: a test-pattern manifest and producer,
// writing a shard the way the runner does, and damaging files on purpose.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "distributed/sample_producer.h"
#include "distributed/shard_store.h"

namespace sagbench::distributed::testing {

inline TestPatternConfig small_pattern(std::int64_t num_classes = 10) {
  TestPatternConfig config;
  config.height = 4;
  config.width = 5;
  config.channels = 3;
  config.num_classes = num_classes;
  config.seed = 7;
  return config;
}

inline ShardManifest manifest_for(const TestPatternConfig& config, std::int64_t num_samples,
                                  std::int64_t shard_size, const std::string& identity = "pattern seed 7") {
  return {identity, num_samples, shard_size, TestPatternProducer(config).geometry()};
}

inline void write_shard(const ShardStore& store, SampleProducer& producer, std::int64_t index,
                        std::int64_t batch_size = 3) {
  const ShardRange range = store.plan().shard(index);
  ShardWriter writer(store, index);
  producer.produce(range.begin, range.end, batch_size,
                   [&](const ImageBatch& batch) { writer.append(batch); });
  writer.commit({{"rank", 0}});
}

// Images (and labels) of [begin, end) straight from the producer, in one batch.
inline ImageBatch expected_samples(SampleProducer& producer, std::int64_t begin, std::int64_t end) {
  ImageBatch out;
  producer.produce(begin, end, end - begin, [&](const ImageBatch& batch) { out = batch; });
  return out;
}

// XORs one byte of a file with 0xFF.
inline void flip_byte(const std::string& path, std::int64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(offset);
  char byte = 0;
  file.get(byte);
  file.seekp(offset);
  file.put(static_cast<char>(byte ^ 0xFF));
}

}  // namespace sagbench::distributed::testing
