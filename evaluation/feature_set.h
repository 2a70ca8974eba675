// Features of a whole image set: extraction streamed batch by batch from an
// image npz (NpzReader::read_rows, so 50k x 256^2 images never sit in memory),
// feature npz files (`sagbench features`, `sagbench ref`, the feature cache)
// with a JSON description of how they were made, and the cache keyed by the
// input's sha256 + extractor + preprocessing + weights sha256 + precision.
// Tested by tests/evaluation/feature_set_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "evaluation/feature_extractor.h"

namespace sagbench::eval {

// How a feature set was made; stored as the "sagbench_meta" array (UTF-8 JSON
// bytes, uint8) of every feature npz so that features of different networks
// or preprocessing are never mixed.
struct FeatureProvenance {
  std::string extractor;  // FeatureExtractor::name()
  std::string weights_sha256;
  std::string preprocessing;      // "adm", "pytorch-fid"
  std::string compute_precision;  // "fp32", "tf32", "fp16"
  std::string source;             // the image file the features came from
  std::string source_array;       // its array ("arr_0")
  std::string source_sha256;      // sha256 of the image file; "" when not hashed

  nlohmann::json to_json() const;
  static FeatureProvenance from_json(const nlohmann::json& j, const std::string& what);
  // Same network, weights, preprocessing and arithmetic.
  bool same_extractor(const FeatureProvenance& other) const;
  // "fid-inception-v3-2015-12-05 (weights 6726825d..., adm, fp32)".
  std::string describe_extractor() const;
};

FeatureProvenance provenance_of(const FeatureExtractor& extractor);

struct FeatureSet {
  at::Tensor pool;             // (N, pool_dim) float32, host
  at::Tensor spatial;          // (N, spatial_dim)
  at::Tensor logits;           // (N, classes)
  at::Tensor logits_unbiased;  // (N, classes)
  std::int64_t count = 0;
  FeatureProvenance provenance;
};

inline constexpr const char* kFeatureMetaArray = "sagbench_meta";

// Reads images [start, start + count) of a set as (count, H, W, C) uint8.
using ImageBatchReader = std::function<at::Tensor(std::int64_t start, std::int64_t count)>;

// Runs `total` images from `read` through the extractor in batches of
// `batch_size` with a progress line; `what` names the set in errors.
FeatureSet extract_features(const ImageBatchReader& read, std::int64_t total, FeatureExtractor& extractor,
                            std::int64_t batch_size, const std::string& what);

// Streams `array` (N, H, W, C uint8) of an image npz through the extractor in
// batches of `batch_size`, with a progress line. A wrong dtype or shape is an
// error naming the file and array, raised before any batch is run.
FeatureSet extract_npz_features(const std::string& path, const std::string& array,
                                FeatureExtractor& extractor, std::int64_t batch_size);

// Writes the defined features (and `extra` arrays, e.g. mu/sigma) plus the
// provenance to an npz, atomically.
void write_feature_npz(const std::string& path, const FeatureSet& features,
                       const std::vector<std::pair<std::string, at::Tensor>>& extra = {});
// True when the npz has a "sagbench_meta" array.
bool is_feature_npz(const std::string& path);
// Reads the features of a file written by write_feature_npz (absent arrays stay undefined).
FeatureSet read_feature_npz(const std::string& path);
FeatureProvenance read_feature_provenance(const std::string& path);

// The feature cache: features of `array` in `path` are looked up in
// `cache_dir` (no cache when empty) under the key of the file's sha256 and the
// extractor's identity, and extracted and stored on a miss.
FeatureSet cached_npz_features(const std::string& path, const std::string& array, FeatureExtractor& extractor,
                               std::int64_t batch_size, const std::string& cache_dir);
// The cache file name for an image file hash and an extractor.
std::string feature_cache_key(const std::string& source_sha256, const std::string& array,
                              const FeatureProvenance& extractor);

}  // namespace sagbench::eval
