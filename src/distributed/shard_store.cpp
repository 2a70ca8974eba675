// Shard directory, markers and the streaming shard writer (see shard_store.h).
#include "distributed/shard_store.h"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "core/atomic_write.h"
#include "core/error.h"
#include "evaluation/sha256.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kManifestFormat = "sagbench-shards-1";
constexpr const char* kMarkerFormat = "sagbench-shard-1";
constexpr const char* kManifestName = "manifest.json";

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The first line where two texts differ, for mismatch messages.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream in_a(a);
  std::istringstream in_b(b);
  std::string line_a;
  std::string line_b;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(in_a, line_a));
    const bool more_b = static_cast<bool>(std::getline(in_b, line_b));
    if (!more_a && !more_b) {
      return "identical configuration text";
    }
    if (!more_a || !more_b || line_a != line_b) {
      return fmt::format("line {}: '{}' there, '{}' here", line, more_a ? line_a : "<end>",
                         more_b ? line_b : "<end>");
    }
  }
}

template <class T>
T field(const json& record, const char* key, const std::string& what) {
  SAG_REQUIRE(record.is_object() && record.contains(key), kFormat, "{}: missing field '{}'", what, key);
  try {
    return record.at(key).get<T>();
  } catch (const json::exception& e) {
    SAG_FAIL(kFormat, "{}: field '{}' has the wrong type: {}", what, key, e.what());
  }
}

json parse_json_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    SAG_FAIL(kFormat, "{}: not valid JSON: {}", path, e.what());
  }
}

}  // namespace

std::string ShardManifest::config_hash() const {
  return eval::sha256_hex(fmt::format("{}\nnum_samples: {}\nshard_size: {}\nimage: {}x{}x{} labels {}\n",
                                      identity, num_samples, shard_size, geometry.height, geometry.width,
                                      geometry.channels, geometry.labels));
}

json ShardManifest::to_json() const {
  return {{"format", kManifestFormat},     {"config_hash", config_hash()}, {"num_samples", num_samples},
          {"shard_size", shard_size},      {"height", geometry.height},    {"width", geometry.width},
          {"channels", geometry.channels}, {"labels", geometry.labels},    {"identity", identity}};
}

ShardManifest ShardManifest::from_json(const json& record, const std::string& what) {
  SAG_REQUIRE(field<std::string>(record, "format", what) == kManifestFormat, kFormat,
              "{}: format '{}' is not {}", what, field<std::string>(record, "format", what), kManifestFormat);
  ShardManifest manifest;
  manifest.identity = field<std::string>(record, "identity", what);
  manifest.num_samples = field<std::int64_t>(record, "num_samples", what);
  manifest.shard_size = field<std::int64_t>(record, "shard_size", what);
  manifest.geometry = {field<std::int64_t>(record, "height", what),
                       field<std::int64_t>(record, "width", what),
                       field<std::int64_t>(record, "channels", what), field<bool>(record, "labels", what)};
  SAG_REQUIRE(field<std::string>(record, "config_hash", what) == manifest.config_hash(), kFormat,
              "{}: config_hash does not match its own fields (edited by hand?)", what);
  return manifest;
}

ShardStore::ShardStore(std::string dir, ShardManifest manifest)
    : dir_(std::move(dir)),
      manifest_(std::move(manifest)),
      hash_(manifest_.config_hash()),
      plan_(manifest_.num_samples, manifest_.shard_size) {}

ShardStore ShardStore::create_or_open(const std::string& dir, const ShardManifest& manifest) {
  const std::string path = (fs::path(dir) / kManifestName).string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  SAG_REQUIRE(fs::is_directory(dir, ec), kIo, "cannot create shard directory '{}': {}", dir,
              ec ? ec.message() : "not a directory");
  if (!fs::exists(path, ec)) {
    write_file_atomic(path, manifest.to_json().dump(2) + "\n", Replace::kNever);
    return ShardStore(dir, manifest);
  }
  ShardStore existing = open(dir);
  const ShardManifest& old = existing.manifest();
  SAG_REQUIRE(existing.config_hash() == manifest.config_hash(), kConfig,
              "{} holds shards of a different configuration (hash {} there, {} here; {}; samples {} vs {}, "
              "shard size {} vs {}): refusing to mix them; choose another output directory or remove it",
              dir, existing.config_hash().substr(0, 12), manifest.config_hash().substr(0, 12),
              first_difference(old.identity, manifest.identity), old.num_samples, manifest.num_samples,
              old.shard_size, manifest.shard_size);
  return existing;
}

ShardStore ShardStore::open(const std::string& dir) {
  const std::string path = (fs::path(dir) / kManifestName).string();
  std::error_code ec;
  SAG_REQUIRE(fs::is_regular_file(path, ec), kIo, "'{}' is not a shard directory: it has no {}", dir,
              kManifestName);
  return ShardStore(dir, ShardManifest::from_json(parse_json_file(path), path));
}

std::string ShardStore::shard_path(std::int64_t index) const {
  return (fs::path(dir_) / fmt::format("shard_{:06}.npz", index)).string();
}

std::string ShardStore::marker_path(std::int64_t index) const {
  return (fs::path(dir_) / fmt::format("shard_{:06}.done", index)).string();
}

json ShardStore::read_marker(std::int64_t index) const {
  return parse_json_file(marker_path(index));
}

ShardStatus ShardStore::check_marker(std::int64_t index) const {
  std::error_code ec;
  if (!fs::exists(marker_path(index), ec)) {
    return {ShardState::kMissing, ""};
  }
  const ShardRange range = plan_.shard(index);
  try {
    const json marker = read_marker(index);
    const std::string what = marker_path(index);
    SAG_REQUIRE(field<std::string>(marker, "format", what) == kMarkerFormat, kFormat, "{}: unknown format",
                what);
    if (field<std::string>(marker, "config_hash", what) != hash_) {
      return {ShardState::kCorrupt, "its marker names another configuration"};
    }
    if (field<std::int64_t>(marker, "shard", what) != index ||
        field<std::int64_t>(marker, "begin", what) != range.begin ||
        field<std::int64_t>(marker, "end", what) != range.end) {
      return {ShardState::kCorrupt, "its marker names another sample range"};
    }
    const auto bytes = field<std::uint64_t>(marker, "bytes", what);
    const std::string file = shard_path(index);
    if (!fs::is_regular_file(file, ec)) {
      return {ShardState::kCorrupt, "its file is missing"};
    }
    const std::uint64_t size = fs::file_size(file, ec);
    if (ec || size != bytes) {
      return {ShardState::kCorrupt, fmt::format("its file has {} bytes, the marker says {}", size, bytes)};
    }
  } catch (const Error& e) {
    return {ShardState::kCorrupt, e.what()};
  }
  return {ShardState::kDone, ""};
}

ShardStatus ShardStore::verify(std::int64_t index) const {
  ShardStatus status = check_marker(index);
  if (status.state != ShardState::kDone) {
    return status;
  }
  try {
    const std::string expected = read_marker(index).at("sha256").get<std::string>();
    const std::string actual = eval::sha256_file(shard_path(index));
    if (actual != expected) {
      return {ShardState::kCorrupt, fmt::format("checksum mismatch (sha256 {} of the file, {} in the marker)",
                                                actual.substr(0, 12), expected.substr(0, 12))};
    }
  } catch (const std::exception& e) {
    return {ShardState::kCorrupt, e.what()};
  }
  return status;
}

void ShardStore::discard(std::int64_t index) const {
  std::error_code ec;
  fs::remove(marker_path(index), ec);
  SAG_REQUIRE(!ec, kIo, "cannot remove {}: {}", marker_path(index), ec.message());
  fs::remove(shard_path(index), ec);
  SAG_REQUIRE(!ec, kIo, "cannot remove {}: {}", shard_path(index), ec.message());
}

int ShardStore::remove_stale_temporaries() const {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    // AtomicFile's "shard_K.npz.tmp" and write_file_atomic's ".shard_K.done.tmp.PID.N".
    const bool shard_temporary = name.rfind("shard_", 0) == 0 || name.rfind(".shard_", 0) == 0;
    if (shard_temporary && name.find(".tmp") != std::string::npos) {
      std::error_code remove_ec;
      if (fs::remove(entry.path(), remove_ec)) {
        ++removed;
      }
    }
  }
  return removed;
}

std::string ShardStore::progress_fingerprint() const {
  std::int64_t markers = 0;
  std::uintmax_t temporary_bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (ends_with(name, ".done")) {
      ++markers;
    } else if (ends_with(name, ".tmp")) {
      std::error_code size_ec;
      const std::uintmax_t size = entry.file_size(size_ec);
      temporary_bytes += size_ec ? 0 : size;
    }
  }
  return fmt::format("{} {}", markers, temporary_bytes);
}

std::int64_t ShardStore::count_markers() const {
  std::int64_t markers = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    markers += ends_with(entry.path().filename().string(), ".done") ? 1 : 0;
  }
  return markers;
}

ShardWriter::ShardWriter(const ShardStore& store, std::int64_t index)
    : store_(store),
      range_(store.plan().shard(index)),
      npz_(std::make_unique<io::NpzWriter>(store.shard_path(index))) {
  const ImageGeometry& g = store.manifest().geometry;
  images_.emplace(
      npz_->begin_array(io::savez_name(0), at::kByte, {range_.count(), g.height, g.width, g.channels}));
}

void ShardWriter::append(const ImageBatch& batch) {
  const ImageGeometry& g = store_.manifest().geometry;
  const std::string what = store_.shard_path(range_.index);
  SAG_REQUIRE(batch.images.defined() && batch.images.dim() == 4, kShape,
              "{}: a batch of images must be (n,H,W,C)", what);
  const std::int64_t n = batch.images.size(0);
  SAG_REQUIRE(batch.labels.defined() == g.labels, kShape, "{}: the batch {} labels, the configuration {}",
              what, batch.labels.defined() ? "has" : "lacks", g.labels ? "has them" : "has none");
  SAG_REQUIRE(!g.labels || (batch.labels.dim() == 1 && batch.labels.size(0) == n &&
                            batch.labels.scalar_type() == at::kLong),
              kShape, "{}: labels must be ({},) int64", what, n);
  images_->append(batch.images);
  if (g.labels) {
    labels_.push_back(batch.labels.cpu().contiguous());
  }
  written_ += n;
}

json ShardWriter::commit(const json& extra) {
  const std::string what = store_.shard_path(range_.index);
  SAG_REQUIRE(written_ == range_.count(), kShape, "{}: {} samples were produced for a shard of {}", what,
              written_, range_.count());
  images_->finish();
  if (store_.manifest().geometry.labels) {
    npz_->add(io::savez_name(1), at::cat(labels_));
  }
  npz_->finish();
  const std::string path = store_.shard_path(range_.index);
  std::error_code ec;
  const std::uintmax_t bytes = fs::file_size(path, ec);
  SAG_REQUIRE(!ec, kIo, "{}: cannot stat the written shard: {}", path, ec.message());
  json marker = extra;
  marker["format"] = kMarkerFormat;
  marker["shard"] = range_.index;
  marker["begin"] = range_.begin;
  marker["end"] = range_.end;
  marker["file"] = fs::path(path).filename().string();
  marker["bytes"] = bytes;
  marker["sha256"] = eval::sha256_file(path);
  marker["config_hash"] = store_.config_hash();
  write_file_atomic(store_.marker_path(range_.index), marker.dump(2) + "\n");
  return marker;
}

}  // namespace sagbench::distributed
