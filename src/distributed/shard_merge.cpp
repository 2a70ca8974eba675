// Streaming, idempotent shard merge (see shard_merge.h). Rows are copied in
// chunks of at most 64 MiB, so memory does not grow with the shard size.
#include "distributed/shard_merge.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/atomic_write.h"
#include "core/error.h"
#include "core/log.h"
#include "evaluation/sha256.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::int64_t kChunkBytes = std::int64_t{64} << 20;
constexpr const char* kMergeRecord = "merge.json";

// Checks that every shard is finished and intact; returns the digest of
// their checksums in shard order (what the merged file is made of).
std::string verified_shard_digest(const ShardStore& store) {
  eval::Sha256 digest;
  digest.update(store.config_hash());
  for (std::int64_t k = 0; k < store.plan().num_shards(); ++k) {
    const ShardStatus status = store.verify(k);
    SAG_REQUIRE(status.state != ShardState::kMissing, kIo,
                "cannot merge {}: shard {} is not finished ({} missing); run `sagbench run` to complete it",
                store.dir(), k, store.marker_path(k));
    SAG_REQUIRE(status.state == ShardState::kDone, kIo,
                "cannot merge {}: shard {} is corrupt ({}); rerun `sagbench run` to recompute it",
                store.dir(), k, status.reason);
    digest.update(store.read_marker(k).at("sha256").get<std::string>());
  }
  return digest.hex_digest();
}

// Whether `record_path` describes `output` as the merge of `shard_digest`.
bool existing_merge_matches(const std::string& output, const std::string& record_path,
                            const std::string& shard_digest, std::string* sha256) {
  std::error_code ec;
  if (!fs::is_regular_file(output, ec) || !fs::is_regular_file(record_path, ec)) {
    return false;
  }
  try {
    const json record = json::parse(read_file(record_path));
    if (record.at("shards_digest").get<std::string>() != shard_digest ||
        record.at("bytes").get<std::uintmax_t>() != fs::file_size(output, ec)) {
      return false;
    }
    *sha256 = eval::sha256_file(output);
    return *sha256 == record.at("sha256").get<std::string>();
  } catch (const std::exception&) {
    return false;
  }
}

// Copies array `name` of every shard, in order, into `out`.
void copy_array(const ShardStore& store, io::NpzArrayWriter& out, const std::string& name,
                std::int64_t row_bytes) {
  const std::int64_t chunk_rows =
      std::max<std::int64_t>(1, kChunkBytes / std::max<std::int64_t>(row_bytes, 1));
  for (std::int64_t k = 0; k < store.plan().num_shards(); ++k) {
    const ShardRange range = store.plan().shard(k);
    io::NpzReader reader(store.shard_path(k));
    SAG_REQUIRE(reader.contains(name), kFormat, "{}: no array '{}'", reader.path(), name);
    const std::vector<std::int64_t>& shape = reader.header(name).shape;
    SAG_REQUIRE(!shape.empty() && shape[0] == range.count(), kShape, "{}: '{}' has {} rows, the shard {}",
                reader.path(), name, shape.empty() ? 0 : shape[0], range.count());
    for (std::int64_t start = 0; start < range.count(); start += chunk_rows) {
      out.append(reader.read_rows(name, start, std::min(chunk_rows, range.count() - start)));
    }
  }
}

}  // namespace

std::string merged_file_name(const ShardManifest& manifest) {
  const ImageGeometry& g = manifest.geometry;
  return fmt::format("samples_{}x{}x{}x{}.npz", manifest.num_samples, g.height, g.width, g.channels);
}

std::optional<MergeResult> recorded_merge(const std::string& run_dir, const ShardManifest& manifest) {
  const fs::path record_path = fs::path(run_dir) / kMergeRecord;
  const fs::path path = fs::path(run_dir) / merged_file_name(manifest);
  std::error_code ec;
  if (!fs::is_regular_file(record_path, ec) || !fs::is_regular_file(path, ec)) {
    return std::nullopt;
  }
  try {
    const json record = json::parse(read_file(record_path.string()));
    if (record.at("config_hash").get<std::string>() != manifest.config_hash() ||
        record.at("bytes").get<std::uintmax_t>() != fs::file_size(path, ec)) {
      return std::nullopt;
    }
    return MergeResult{path.string(), true, manifest.num_samples, record.at("sha256").get<std::string>()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

MergeResult merge_shards(const ShardStore& store, const std::string& run_dir) {
  const ShardManifest& manifest = store.manifest();
  const ImageGeometry& g = manifest.geometry;
  MergeResult result;
  result.path = (fs::path(run_dir) / merged_file_name(manifest)).string();
  result.samples = manifest.num_samples;
  const std::string record_path = (fs::path(run_dir) / kMergeRecord).string();
  const std::string shard_digest = verified_shard_digest(store);
  if (existing_merge_matches(result.path, record_path, shard_digest, &result.sha256)) {
    result.already_merged = true;
    return result;
  }
  std::error_code ec;
  if (fs::exists(result.path, ec)) {
    SAG_LOG_WARN("replacing {}: it does not match the merge record of these shards", result.path);
  }
  io::NpzWriter writer(result.path);
  {
    io::NpzArrayWriter images = writer.begin_array(io::savez_name(0), at::kByte,
                                                   {manifest.num_samples, g.height, g.width, g.channels});
    copy_array(store, images, io::savez_name(0), g.height * g.width * g.channels);
    images.finish();
  }
  if (g.labels) {
    io::NpzArrayWriter labels = writer.begin_array(io::savez_name(1), at::kLong, {manifest.num_samples});
    copy_array(store, labels, io::savez_name(1), 8);
    labels.finish();
  }
  writer.finish();
  result.sha256 = eval::sha256_file(result.path);
  const json record = {{"file", fs::path(result.path).filename().string()},
                       {"samples", manifest.num_samples},
                       {"bytes", fs::file_size(result.path)},
                       {"sha256", result.sha256},
                       {"config_hash", store.config_hash()},
                       {"shards", store.plan().num_shards()},
                       {"shards_digest", shard_digest}};
  write_file_atomic(record_path, record.dump(2) + "\n");
  return result;
}

}  // namespace sagbench::distributed
