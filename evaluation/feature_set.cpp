// Feature sets (see feature_set.h): streamed extraction, feature npz files and
// the feature cache. Cache entries are ordinary feature npz files written
// atomically, so a crash never leaves a partial entry.
#include "evaluation/feature_set.h"

#include <fmt/format.h>

#include <filesystem>
#include <vector>

#include "core/error.h"
#include "core/progress.h"
#include "evaluation/sha256.h"
#include "io/npz.h"
#include "io/tensor_file.h"

namespace sagbench::eval {

namespace {

namespace fs = std::filesystem;

// The feature arrays of a feature npz and the FeatureSet members they fill.
const std::pair<const char*, at::Tensor FeatureSet::*> kFeatureArrays[] = {
    {"pool", &FeatureSet::pool},
    {"spatial", &FeatureSet::spatial},
    {"logits", &FeatureSet::logits},
    {"logits_unbiased", &FeatureSet::logits_unbiased}};

// Rows of a batch tensor list concatenated, or undefined when the extractor gave none.
at::Tensor concat_rows(const std::vector<at::Tensor>& parts) {
  if (parts.empty() || !parts.front().defined()) {
    return {};
  }
  return at::cat(parts, 0);
}

}  // namespace

nlohmann::json FeatureProvenance::to_json() const {
  return {{"extractor", extractor},
          {"weights_sha256", weights_sha256},
          {"preprocessing", preprocessing},
          {"compute_precision", compute_precision},
          {"source", source},
          {"source_array", source_array},
          {"source_sha256", source_sha256}};
}

FeatureProvenance FeatureProvenance::from_json(const nlohmann::json& j, const std::string& what) {
  FeatureProvenance p;
  try {
    p.extractor = j.at("extractor").get<std::string>();
    p.weights_sha256 = j.at("weights_sha256").get<std::string>();
    p.preprocessing = j.at("preprocessing").get<std::string>();
    p.compute_precision = j.at("compute_precision").get<std::string>();
    p.source = j.value("source", "");
    p.source_array = j.value("source_array", "");
    p.source_sha256 = j.value("source_sha256", "");
  } catch (const nlohmann::json::exception& e) {
    SAG_FAIL(kFormat, "{}: bad {} description: {}", what, kFeatureMetaArray, e.what());
  }
  return p;
}

bool FeatureProvenance::same_extractor(const FeatureProvenance& other) const {
  return extractor == other.extractor && weights_sha256 == other.weights_sha256 &&
         preprocessing == other.preprocessing && compute_precision == other.compute_precision;
}

std::string FeatureProvenance::describe_extractor() const {
  return fmt::format("{} (weights {}, {}, {})", extractor,
                     weights_sha256.empty() ? std::string("unhashed") : weights_sha256.substr(0, 12),
                     preprocessing, compute_precision);
}

FeatureProvenance provenance_of(const FeatureExtractor& extractor) {
  FeatureProvenance p;
  p.extractor = extractor.name();
  p.weights_sha256 = extractor.weights_sha256();
  p.preprocessing = extractor.preprocessing();
  p.compute_precision = extractor.compute_precision();
  return p;
}

FeatureSet extract_features(const ImageBatchReader& read, std::int64_t total, FeatureExtractor& extractor,
                            std::int64_t batch_size, const std::string& what) {
  SAG_REQUIRE(batch_size >= 1, kConfig, "batch size must be >= 1, got {}", batch_size);
  SAG_REQUIRE(total >= 1, kShape, "{}: no images", what);
  std::vector<at::Tensor> pool, spatial, logits, logits_unbiased;
  ProgressOptions progress_options;
  progress_options.unit = "img";
  Progress progress("features of " + what, total, progress_options);
  for (std::int64_t start = 0; start < total; start += batch_size) {
    const std::int64_t count = std::min(batch_size, total - start);
    const FeatureBatch batch = extractor.extract(read(start, count), what);
    pool.push_back(batch.pool);
    spatial.push_back(batch.spatial);
    logits.push_back(batch.logits);
    logits_unbiased.push_back(batch.logits_unbiased);
    progress.advance(count);
  }
  progress.finish();
  FeatureSet set;
  set.pool = concat_rows(pool);
  set.spatial = concat_rows(spatial);
  set.logits = concat_rows(logits);
  set.logits_unbiased = concat_rows(logits_unbiased);
  set.count = total;
  set.provenance = provenance_of(extractor);
  return set;
}

FeatureSet extract_npz_features(const std::string& path, const std::string& array,
                                FeatureExtractor& extractor, std::int64_t batch_size) {
  io::NpzReader reader(path);
  SAG_REQUIRE(reader.contains(array), kFormat, "{}: no array '{}' (it has: {})", path, array,
              fmt::join(reader.names(), ", "));
  const io::NpyHeader& header = reader.header(array);
  const std::string what = fmt::format("{}:{}", path, array);
  SAG_REQUIRE(header.dtype == at::kByte, kFormat, "{}: images must be uint8 (0..255), got {}", what,
              std::string(io::dtype_name(header.dtype)));
  SAG_REQUIRE(header.shape.size() == 4 && header.shape[3] == extractor.channels(), kShape,
              "{}: images must be N x H x W x {} (NHWC), got shape {}", what, extractor.channels(),
              fmt::join(header.shape, " x "));
  SAG_REQUIRE(header.shape[0] >= 1 && header.shape[1] >= 1 && header.shape[2] >= 1, kShape,
              "{}: no images (shape {})", what, fmt::join(header.shape, " x "));
  FeatureSet set = extract_features(
      [&](std::int64_t start, std::int64_t count) { return reader.read_rows(array, start, count); },
      header.shape[0], extractor, batch_size, what);
  set.provenance.source = path;
  set.provenance.source_array = array;
  return set;
}

void write_feature_npz(const std::string& path, const FeatureSet& features,
                       const std::vector<std::pair<std::string, at::Tensor>>& extra) {
  io::NpzWriter writer(path);
  for (const auto& [name, member] : kFeatureArrays) {
    if ((features.*member).defined()) {
      writer.add(name, features.*member);
    }
  }
  for (const auto& [name, tensor] : extra) {
    writer.add(name, tensor);
  }
  const std::string meta = features.provenance.to_json().dump();
  writer.add(kFeatureMetaArray, at::from_blob(const_cast<char*>(meta.data()),
                                              {static_cast<std::int64_t>(meta.size())}, at::kByte)
                                    .clone());
  writer.finish();
}

bool is_feature_npz(const std::string& path) {
  io::NpzReader reader(path);
  return reader.contains(kFeatureMetaArray);
}

FeatureProvenance read_feature_provenance(const std::string& path) {
  io::NpzReader reader(path);
  SAG_REQUIRE(reader.contains(kFeatureMetaArray), kFormat,
              "{}: not a sagbench feature file (no '{}' array; arrays: {})", path, kFeatureMetaArray,
              fmt::join(reader.names(), ", "));
  const at::Tensor bytes = reader.read(kFeatureMetaArray);
  SAG_REQUIRE(bytes.scalar_type() == at::kByte && bytes.dim() == 1, kFormat,
              "{}: '{}' must be a uint8 vector", path, kFeatureMetaArray);
  const std::string text(reinterpret_cast<const char*>(bytes.data_ptr<std::uint8_t>()),
                         static_cast<std::size_t>(bytes.numel()));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  SAG_REQUIRE(!j.is_discarded() && j.is_object(), kFormat, "{}: '{}' is not a JSON object", path,
              kFeatureMetaArray);
  return FeatureProvenance::from_json(j, path);
}

FeatureSet read_feature_npz(const std::string& path) {
  FeatureSet set;
  set.provenance = read_feature_provenance(path);
  io::NpzReader reader(path);
  set.count = -1;
  for (const auto& [name, member] : kFeatureArrays) {
    if (!reader.contains(name)) {
      continue;
    }
    at::Tensor t = reader.read(name);
    SAG_REQUIRE(t.dim() == 2 && at::isFloatingType(t.scalar_type()), kFormat,
                "{}: feature array '{}' must be a floating (N, d) matrix, got {} {}", path, name,
                std::string(io::dtype_name(t.scalar_type())), fmt::join(t.sizes(), " x "));
    SAG_REQUIRE(set.count < 0 || t.size(0) == set.count, kShape,
                "{}: feature array '{}' has {} rows but the others have {}", path, name, t.size(0),
                set.count);
    set.count = t.size(0);
    set.*member = t.to(at::kFloat);
  }
  set.count = std::max<std::int64_t>(set.count, 0);
  return set;
}

std::string feature_cache_key(const std::string& source_sha256, const std::string& array,
                              const FeatureProvenance& extractor) {
  const std::string identity =
      fmt::format("sagbench-features-v1|{}|{}|{}|{}|{}|{}", source_sha256, array, extractor.extractor,
                  extractor.weights_sha256, extractor.preprocessing, extractor.compute_precision);
  return sha256_hex(identity);
}

FeatureSet cached_npz_features(const std::string& path, const std::string& array, FeatureExtractor& extractor,
                               std::int64_t batch_size, const std::string& cache_dir) {
  if (cache_dir.empty()) {
    return extract_npz_features(path, array, extractor, batch_size);
  }
  const std::string source_sha256 = sha256_file(path);
  const FeatureProvenance identity = provenance_of(extractor);
  const fs::path entry = fs::path(cache_dir) / (feature_cache_key(source_sha256, array, identity) + ".npz");
  if (fs::exists(entry)) {
    FeatureSet cached = read_feature_npz(entry.string());
    SAG_REQUIRE(
        cached.provenance.same_extractor(identity) && cached.provenance.source_sha256 == source_sha256,
        kFormat, "feature cache entry {} does not describe {} with {}", entry.string(), path,
        identity.describe_extractor());
    cached.provenance.source = path;
    return cached;
  }
  FeatureSet fresh = extract_npz_features(path, array, extractor, batch_size);
  fresh.provenance.source_sha256 = source_sha256;
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  SAG_REQUIRE(!ec, kIo, "cannot create the feature cache directory '{}': {}", cache_dir, ec.message());
  write_feature_npz(entry.string(), fresh);
  return fresh;
}

}  // namespace sagbench::eval
