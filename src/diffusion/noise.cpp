// Sampling noise: Philox counter noise keyed by (seed, sample, step, element),
// arrays replayed from files, and counter-drawn class labels.
// Tested by tests/diffusion/noise_test.cpp.
#include "diffusion/noise.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <limits>

#include "core/error.h"
#include "diffusion/philox.h"

namespace sagbench::diffusion {
namespace {

constexpr std::uint32_t kStreamNoise = 0;
constexpr std::uint32_t kStreamLabel = 1;
constexpr std::int64_t kMaxIndex = std::numeric_limits<std::uint32_t>::max();

PhiloxKey key_of(std::uint64_t seed) {
  return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}

std::int64_t numel_of(at::IntArrayRef shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    n *= d;
  }
  return n;
}

std::string shape_text(at::IntArrayRef shape) {
  return fmt::format("({})", fmt::join(shape, ", "));
}

}  // namespace

void CounterNoise::check(std::int64_t end_index, std::int64_t num_steps, at::IntArrayRef sample_shape) const {
  SAG_REQUIRE(end_index <= kMaxIndex, kConfig,
              "counter noise supports sample indices below 2^32 (asked for {})", end_index);
  SAG_REQUIRE(num_steps < kMaxIndex, kConfig, "counter noise supports fewer than 2^32 steps (asked for {})",
              num_steps);
  SAG_REQUIRE(numel_of(sample_shape) / 4 < kMaxIndex, kConfig,
              "sample shape {} is too large for counter noise", shape_text(sample_shape));
}

at::Tensor CounterNoise::draw(std::uint32_t draw_index, std::int64_t first, std::int64_t count,
                              at::IntArrayRef sample_shape) const {
  SAG_CHECK(first >= 0 && count >= 0 && first + count <= kMaxIndex, "sample range [{}, {})", first,
            first + count);
  std::vector<std::int64_t> shape{count};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  at::Tensor out = at::empty(shape, at::TensorOptions().dtype(at::kFloat));
  const std::int64_t per_sample = numel_of(sample_shape);
  const std::int64_t blocks_per_sample = (per_sample + 3) / 4;
  float* data = out.data_ptr<float>();
  const PhiloxKey key = key_of(seed_);
  at::parallel_for(0, count * blocks_per_sample, 1024, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t job = begin; job < end; ++job) {
      const std::int64_t sample = job / blocks_per_sample;
      const std::int64_t block = job % blocks_per_sample;
      const auto words = philox4x32_10({static_cast<std::uint32_t>(block),
                                        static_cast<std::uint32_t>(first + sample), draw_index, kStreamNoise},
                                       key);
      const auto pair0 = box_muller(words[0], words[1]);
      const auto pair1 = box_muller(words[2], words[3]);
      const double normals[4] = {pair0[0], pair0[1], pair1[0], pair1[1]};
      float* dst = data + sample * per_sample;
      for (std::int64_t k = 0; k < 4 && block * 4 + k < per_sample; ++k) {
        dst[block * 4 + k] = static_cast<float>(normals[k]);
      }
    }
  });
  return out;
}

at::Tensor CounterNoise::initial_noise(std::int64_t first, std::int64_t count,
                                       at::IntArrayRef sample_shape) const {
  return draw(0, first, count, sample_shape);
}

at::Tensor CounterNoise::step_noise(std::int64_t step, std::int64_t first, std::int64_t count,
                                    at::IntArrayRef sample_shape) const {
  SAG_CHECK(step >= 0 && step < kMaxIndex, "step {}", step);
  return draw(static_cast<std::uint32_t>(step + 1), first, count, sample_shape);
}

std::string CounterNoise::describe() const {
  return fmt::format("philox4x32-10 counter noise, seed {}", seed_);
}

ArrayNoise::ArrayNoise(at::Tensor x_T, std::string x_T_source, at::Tensor step_noise,
                       std::string step_noise_source, std::uint64_t fallback_seed)
    : x_T_source_(std::move(x_T_source)),
      step_noise_source_(std::move(step_noise_source)),
      fallback_(fallback_seed) {
  if (x_T.defined()) {
    SAG_REQUIRE(x_T.dim() >= 2, kShape, "{}: x_T must be (N, C, H, W), got {}", x_T_source_,
                shape_text(x_T.sizes()));
    SAG_REQUIRE(x_T.is_floating_point(), kShape, "{}: x_T must be floating point", x_T_source_);
    x_T_ = x_T.to(at::kFloat).contiguous();
  }
  if (step_noise.defined()) {
    SAG_REQUIRE(step_noise.dim() >= 3, kShape, "{}: step_noise must be (steps, N, C, H, W), got {}",
                step_noise_source_, shape_text(step_noise.sizes()));
    SAG_REQUIRE(step_noise.is_floating_point(), kShape, "{}: step_noise must be floating point",
                step_noise_source_);
    step_noise_ = step_noise.to(at::kFloat).contiguous();
  }
}

void ArrayNoise::check(std::int64_t end_index, std::int64_t num_steps, at::IntArrayRef sample_shape) const {
  fallback_.check(end_index, num_steps, sample_shape);
  if (x_T_.defined()) {
    SAG_REQUIRE(x_T_.sizes().slice(1) == sample_shape, kShape,
                "{}: x_T has samples of shape {}, the model needs {}", x_T_source_,
                shape_text(x_T_.sizes().slice(1)), shape_text(sample_shape));
    SAG_REQUIRE(end_index <= x_T_.size(0), kShape, "{}: x_T holds {} samples, {} are asked for", x_T_source_,
                x_T_.size(0), end_index);
  }
  if (step_noise_.defined()) {
    SAG_REQUIRE(step_noise_.sizes().slice(2) == sample_shape, kShape,
                "{}: step_noise has samples of shape {}, the model needs {}", step_noise_source_,
                shape_text(step_noise_.sizes().slice(2)), shape_text(sample_shape));
    SAG_REQUIRE(end_index <= step_noise_.size(1), kShape, "{}: step_noise holds {} samples, {} are asked for",
                step_noise_source_, step_noise_.size(1), end_index);
    SAG_REQUIRE(num_steps <= step_noise_.size(0), kShape,
                "{}: step_noise holds {} steps, the sampler takes {}", step_noise_source_,
                step_noise_.size(0), num_steps);
  }
}

at::Tensor ArrayNoise::initial_noise(std::int64_t first, std::int64_t count,
                                     at::IntArrayRef sample_shape) const {
  if (!x_T_.defined()) {
    return fallback_.initial_noise(first, count, sample_shape);
  }
  check(first + count, 0, sample_shape);
  return x_T_.narrow(0, first, count).clone();
}

at::Tensor ArrayNoise::step_noise(std::int64_t step, std::int64_t first, std::int64_t count,
                                  at::IntArrayRef sample_shape) const {
  if (!step_noise_.defined()) {
    return fallback_.step_noise(step, first, count, sample_shape);
  }
  check(first + count, step + 1, sample_shape);
  return step_noise_[step].narrow(0, first, count).clone();
}

std::string ArrayNoise::describe() const {
  return fmt::format("x_T from {}, step noise from {}", x_T_.defined() ? x_T_source_ : fallback_.describe(),
                     step_noise_.defined() ? step_noise_source_ : fallback_.describe());
}

std::int64_t counter_label(std::uint64_t seed, std::int64_t index, std::int64_t num_classes) {
  SAG_REQUIRE(num_classes >= 1, kConfig, "cannot draw labels over {} classes", num_classes);
  SAG_REQUIRE(index >= 0 && index <= kMaxIndex, kConfig, "sample index {} outside [0, 2^32)", index);
  const auto words = philox4x32_10({0, static_cast<std::uint32_t>(index), 0, kStreamLabel}, key_of(seed));
  const std::uint64_t wide = (static_cast<std::uint64_t>(words[0]) << 32) | words[1];
  return static_cast<std::int64_t>(wide % static_cast<std::uint64_t>(num_classes));
}

}  // namespace sagbench::diffusion
