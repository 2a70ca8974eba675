// The unit of work of a distributed run: something that produces the images
// (uint8 NHWC) and labels of any contiguous sample-index range [begin, end),
// identical whoever computes them and whatever the batch size. The diffusion
// sampler is the real producer (sampler_producer.h); TestPatternProducer
// derives every pixel from a hash of (seed, sample index, position), so the
// sharding, merge, resume and MPI machinery can be exercised and benchmarked
// at any scale without a model. Tested by tests/distributed/sample_producer_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace sagbench::distributed {

struct ImageGeometry {
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::int64_t channels = 0;
  bool labels = false;  // whether samples carry class labels (arr_1)

  bool operator==(const ImageGeometry& other) const {
    return height == other.height && width == other.width && channels == other.channels &&
           labels == other.labels;
  }
};

struct ImageBatch {
  at::Tensor images;  // (n, H, W, C) uint8, host
  at::Tensor labels;  // (n,) int64, host; undefined when the geometry has no labels
};

using BatchSink = std::function<void(const ImageBatch& batch)>;

class SampleProducer {
 public:
  virtual ~SampleProducer() = default;
  virtual ImageGeometry geometry() const = 0;
  // Produces samples [begin, end) in index order, in batches of at most
  // `batch_size`, handing each to `sink` before computing the next.
  virtual void produce(std::int64_t begin, std::int64_t end, std::int64_t batch_size,
                       const BatchSink& sink) = 0;
};

// Settings of the test-pattern producer (the `test_pattern:` section of an experiment).
struct TestPatternConfig {
  std::int64_t height = 8;
  std::int64_t width = 8;
  std::int64_t channels = 3;
  std::int64_t num_classes = 10;  // 0: no labels
  std::int64_t seed = 0;

  template <class V>
  void visit(V& v) {
    v("height", height, "image height in pixels");
    v("width", width, "image width in pixels");
    v("channels", channels, "image channels");
    v("num_classes", num_classes, "labels are drawn from [0, num_classes); 0 writes no labels");
    v("seed", seed, "seed of the pattern");
  }
  void validate() const;
};

class TestPatternProducer : public SampleProducer {
 public:
  explicit TestPatternProducer(const TestPatternConfig& config);
  ImageGeometry geometry() const override;
  void produce(std::int64_t begin, std::int64_t end, std::int64_t batch_size, const BatchSink& sink) override;

 private:
  TestPatternConfig config_;
};

}  // namespace sagbench::distributed
