// The shard directory of one run (RUN_DIR/shards). manifest.json names the
// configuration (its identity text and sha256), the sample count, shard size
// and image geometry. Shard k is shard_<k>.npz (arr_0 uint8 (n,H,W,C), arr_1
// int64 labels when the geometry has labels; numpy reads it) written through
// io::AtomicFile (tmp + rename), then shard_<k>.done, a JSON marker with the
// file's size and sha256 and the configuration hash, written atomically and
// fsync'ed. A shard counts as finished only when its marker names this
// configuration and shard and, on verification, matches the file's bytes; a
// mismatch makes it pending again. A directory made by another configuration
// is refused, never mixed. Tested by tests/distributed/shard_store_test.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "distributed/sample_producer.h"
#include "distributed/shard_plan.h"
#include "io/npz.h"

namespace sagbench::distributed {

struct ShardManifest {
  std::string identity;  // the text that defines the images (resolved config minus runtime keys)
  std::int64_t num_samples = 0;
  std::int64_t shard_size = 0;
  ImageGeometry geometry;

  // sha256 of the identity, sample count, shard size and geometry.
  std::string config_hash() const;
  nlohmann::json to_json() const;
  // kFormat error naming `what` when fields are missing or of the wrong type.
  static ShardManifest from_json(const nlohmann::json& record, const std::string& what);
};

enum class ShardState { kMissing, kDone, kCorrupt };

struct ShardStatus {
  ShardState state = ShardState::kMissing;
  std::string reason;  // why a shard is corrupt
};

class ShardStore {
 public:
  // Creates `dir` and its manifest, or opens an existing directory whose
  // manifest must describe the same configuration: otherwise a kConfig error
  // names both hashes and the first differing line. Called by one rank.
  static ShardStore create_or_open(const std::string& dir, const ShardManifest& manifest);
  // Opens an existing directory (kIo / kFormat error without a valid manifest).
  static ShardStore open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const ShardManifest& manifest() const { return manifest_; }
  const std::string& config_hash() const { return hash_; }
  const ShardPlan& plan() const { return plan_; }
  std::string shard_path(std::int64_t index) const;
  std::string marker_path(std::int64_t index) const;

  // Marker-only check: present, readable, naming this configuration and
  // shard, and the file exists with the recorded size.
  ShardStatus check_marker(std::int64_t index) const;
  // check_marker plus the sha256 of the file's bytes.
  ShardStatus verify(std::int64_t index) const;
  // The marker of a finished shard (kFormat error when unreadable).
  nlohmann::json read_marker(std::int64_t index) const;
  // Removes a shard's marker (making it pending) and its file.
  void discard(std::int64_t index) const;

  // Removes temporaries a killed writer left behind; returns how many. Only
  // while no rank writes (the runner calls it before sampling starts).
  int remove_stale_temporaries() const;
  // Changes whenever a marker appears or a temporary grows: the progress
  // probe of the wait for other ranks' shards.
  std::string progress_fingerprint() const;
  // Number of finished-shard markers present (not verified).
  std::int64_t count_markers() const;

 private:
  ShardStore(std::string dir, ShardManifest manifest);

  std::string dir_;
  ShardManifest manifest_;
  std::string hash_;
  ShardPlan plan_;
};

// Streams one shard into place: append() batches in index order, then
// commit() writes the npz, hashes it and writes the marker. Destroyed without
// commit(), it leaves nothing behind.
class ShardWriter {
 public:
  ShardWriter(const ShardStore& store, std::int64_t index);
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // kShape error when the batch does not match the geometry or overflows the shard.
  void append(const ImageBatch& batch);
  // Returns the marker written; `extra` fields (rank, host, timing) are added to it.
  nlohmann::json commit(const nlohmann::json& extra);

 private:
  const ShardStore& store_;
  ShardRange range_;
  std::unique_ptr<io::NpzWriter> npz_;
  std::optional<io::NpzArrayWriter> images_;
  std::vector<at::Tensor> labels_;
  std::int64_t written_ = 0;
};

}  // namespace sagbench::distributed
