// The test-pattern producer (see sample_producer.h): splitmix64 of
// (seed, sample index, element) gives every byte, so any range is cheap and
// reproducible without a model.
#include "distributed/sample_producer.h"

#include <algorithm>

#include "core/error.h"

namespace sagbench::distributed {
namespace {

// splitmix64's finaliser (Steele, Lea and Flood 2014): a bijective 64-bit mix.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

void TestPatternConfig::validate() const {
  SAG_REQUIRE(height >= 1 && width >= 1 && channels >= 1 && height * width * channels <= (1 << 24), kConfig,
              "test_pattern: image {}x{}x{} must have positive sides and at most 2^24 values", height, width,
              channels);
  SAG_REQUIRE(num_classes >= 0, kConfig, "test_pattern.num_classes must be >= 0, got {}", num_classes);
}

TestPatternProducer::TestPatternProducer(const TestPatternConfig& config) : config_(config) {
  config_.validate();
}

ImageGeometry TestPatternProducer::geometry() const {
  return {config_.height, config_.width, config_.channels, config_.num_classes > 0};
}

void TestPatternProducer::produce(std::int64_t begin, std::int64_t end, std::int64_t batch_size,
                                  const BatchSink& sink) {
  SAG_CHECK(begin >= 0 && begin <= end && batch_size >= 1, "range [{}, {}) batch {}", begin, end, batch_size);
  const std::int64_t values = config_.height * config_.width * config_.channels;
  const auto seed_key = mix(static_cast<std::uint64_t>(config_.seed));
  for (std::int64_t first = begin; first < end; first += batch_size) {
    const std::int64_t count = std::min(batch_size, end - first);
    ImageBatch batch;
    batch.images = at::empty({count, config_.height, config_.width, config_.channels}, at::kByte);
    auto* pixels = batch.images.data_ptr<std::uint8_t>();
    for (std::int64_t i = 0; i < count; ++i) {
      const std::uint64_t sample_key = mix(seed_key ^ static_cast<std::uint64_t>(first + i));
      for (std::int64_t e = 0; e < values; ++e) {
        pixels[i * values + e] =
            static_cast<std::uint8_t>(mix(sample_key + static_cast<std::uint64_t>(e)) >> 56);
      }
    }
    if (config_.num_classes > 0) {
      batch.labels = at::empty({count}, at::kLong);
      auto* labels = batch.labels.data_ptr<std::int64_t>();
      for (std::int64_t i = 0; i < count; ++i) {
        const std::uint64_t label_key = mix(seed_key ^ ~static_cast<std::uint64_t>(first + i));
        labels[i] = static_cast<std::int64_t>(label_key % static_cast<std::uint64_t>(config_.num_classes));
      }
    }
    sink(batch);
  }
}

}  // namespace sagbench::distributed
