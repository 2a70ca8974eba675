// A tiny deterministic FeatureExtractor for pipeline tests ("test-pixels"):
// pool = per-channel means and the mean square (4-d), spatial = the top-left
// pixel (3-d), logits = 5 fixed linear combinations of pool. It counts the
// images it has seen, so tests can tell whether features came from a cache.
#pragma once

#include <atomic>

#include "evaluation/evaluator_config.h"
#include "evaluation/feature_extractor.h"
#include "evaluation/preprocess.h"

namespace sagbench::eval::testing {

inline std::atomic<std::int64_t>& pixel_images_seen() {
  static std::atomic<std::int64_t> seen{0};
  return seen;
}

class PixelExtractor : public FeatureExtractor {
 public:
  explicit PixelExtractor(std::string mode) : mode_(std::move(mode)) {}
  std::string name() const override { return "test-pixels"; }
  std::string weights_sha256() const override { return "no-weights"; }
  std::string preprocessing() const override { return mode_; }
  std::string compute_precision() const override { return "fp32"; }
  FeatureDims dims() const override { return {4, 3, 5}; }
  std::int64_t channels() const override { return 3; }
  FeatureBatch extract(const at::Tensor& images, const std::string& what) override {
    check_image_batch(images, what);
    pixel_images_seen() += images.size(0);
    const at::Tensor x = images.to(at::kFloat) / 255.0;
    FeatureBatch b;
    b.pool = at::cat({x.mean({1, 2}), (x * x).mean({1, 2, 3}).unsqueeze(1)}, 1);
    b.spatial = x.select(1, 0).select(1, 0).contiguous();
    const at::Tensor w = at::arange(20, at::kFloat).view({5, 4}).sin() * 3;
    b.logits_unbiased = at::matmul(b.pool, w.t());
    b.logits = b.logits_unbiased + 1;
    return b;
  }

 private:
  std::string mode_;
};

inline void register_pixel_extractor() {
  register_feature_extractor(
      "test-pixels", [](const EvaluatorConfig& c) { return std::make_unique<PixelExtractor>(c.mode); });
}

}  // namespace sagbench::eval::testing
