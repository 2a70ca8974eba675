// The feature-extractor interface behind every metric: images in (uint8 NHWC),
// features out (pool for FID and precision/recall, spatial for sFID, logits
// for IS). The FID Inception (inception_extractor.h) is one implementation; a
// domain network for the bundled dataset is another, selected by the
// evaluator config's `extractor` key through the registry below.
// Tested through tests/evaluation/inception_extractor_test.cpp and feature_extractor_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sagbench::eval {

struct EvaluatorConfig;

// Features of a batch (float32, host, batch-major). A feature an extractor
// does not produce is left undefined (and its dimension is 0).
struct FeatureBatch {
  at::Tensor pool;             // (B, pool_dim): FID, precision/recall
  at::Tensor spatial;          // (B, spatial_dim): sFID
  at::Tensor logits;           // (B, classes): classifier logits (with bias)
  at::Tensor logits_unbiased;  // (B, classes): IS logits (ADM: without bias)
};

struct FeatureDims {
  std::int64_t pool = 0;
  std::int64_t spatial = 0;
  std::int64_t classes = 0;
};

class FeatureExtractor {
 public:
  virtual ~FeatureExtractor() = default;

  // Stable identifier recorded with every number ("fid-inception-v3-2015-12-05").
  virtual std::string name() const = 0;
  // sha256 (hex) of the weights file; part of every cache key and metrics.json.
  virtual std::string weights_sha256() const = 0;
  // Preprocessing label ("adm", "pytorch-fid", ...).
  virtual std::string preprocessing() const = 0;
  // Network arithmetic label ("fp32", "tf32", "fp16").
  virtual std::string compute_precision() const = 0;
  virtual FeatureDims dims() const = 0;
  // Image channels the extractor takes (3 for RGB).
  virtual std::int64_t channels() const = 0;
  // images: (B, H, W, C) uint8 on the host; wrong shape or dtype is a kShape /
  // kFormat error naming `what`.
  virtual FeatureBatch extract(const at::Tensor& images, const std::string& what) = 0;
};

using FeatureExtractorFactory = std::function<std::unique_ptr<FeatureExtractor>(const EvaluatorConfig&)>;

// Registers a factory under `name` (the config's `extractor` value). The FID
// Inception is built in as "fid-inception"; others register before use.
void register_feature_extractor(const std::string& name, FeatureExtractorFactory factory);
std::vector<std::string> feature_extractor_names();
// Builds the configured extractor; an unknown name is a kConfig error listing the known ones.
std::unique_ptr<FeatureExtractor> make_feature_extractor(const EvaluatorConfig& config);

}  // namespace sagbench::eval
