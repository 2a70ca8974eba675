// Merging a run's finished shards into RUN_DIR/samples_NxHxWxC.npz (arr_0
// uint8 (N,H,W,C), arr_1 int64 labels when the run has them), the file
// guided-diffusion's image_sample.py writes and its evaluator reads. Shards
// are streamed in bounded chunks (no process holds all images) after their
// sha256 is checked against the marker; a missing or corrupt shard is a kIo
// error naming it. Idempotent: merge.json records the merged file's sha256 and
// the digest of the shard checksums; merging the same shards again verifies
// the existing file and returns. Tested by tests/distributed/shard_merge_test.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "distributed/shard_store.h"

namespace sagbench::distributed {

struct MergeResult {
  std::string path;             // the merged npz
  bool already_merged = false;  // an identical merge existed and was verified
  std::int64_t samples = 0;
  std::string sha256;
};

// "samples_50000x256x256x3.npz".
std::string merged_file_name(const ShardManifest& manifest);

// The merge recorded in `run_dir`'s merge.json when it is of the manifest's
// configuration and the merged file has the recorded size (no checksum: a
// cheap test of whether a configuration is complete).
std::optional<MergeResult> recorded_merge(const std::string& run_dir, const ShardManifest& manifest);

// Merges into `run_dir` (the shard directory's parent, usually).
MergeResult merge_shards(const ShardStore& store, const std::string& run_dir);

}  // namespace sagbench::distributed
