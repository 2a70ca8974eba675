// Where the sampler's Gaussian noise (x_T and each step's fresh noise) and the
// random class labels come from. CounterNoise derives every number from
// (run seed, sample index, step, element) with Philox4x32-10, so sample i is
// the same whatever the batch size, its position in the batch, the shard or
// the device. ArrayNoise replays arrays from files (`x_T` (N,C,H,W) and
// `step_noise` (S,N,C,H,W), as in ../shared/fixtures) for parity checks with
// another implementation. Tested by tests/diffusion/noise_test.cpp.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace sagbench::diffusion {

class NoiseSource {
 public:
  virtual ~NoiseSource() = default;
  // Fails with sagbench::Error(kShape) naming the source if it cannot serve
  // samples [0, end_index) of shape `sample_shape` (C,H,W) over `num_steps` steps.
  virtual void check(std::int64_t end_index, std::int64_t num_steps, at::IntArrayRef sample_shape) const = 0;
  // x_T of samples [first, first + count): (count, C, H, W) float32 on the CPU.
  virtual at::Tensor initial_noise(std::int64_t first, std::int64_t count,
                                   at::IntArrayRef sample_shape) const = 0;
  // The fresh noise of sampling step `step` (0 = the first step, at the largest t).
  virtual at::Tensor step_noise(std::int64_t step, std::int64_t first, std::int64_t count,
                                at::IntArrayRef sample_shape) const = 0;
  // One line for logs and provenance.
  virtual std::string describe() const = 0;
};

// Philox noise keyed by the run seed. Counter words: (element block, sample
// index, 0 for x_T or step + 1, stream 0); key words: the seed's two halves.
class CounterNoise : public NoiseSource {
 public:
  explicit CounterNoise(std::uint64_t seed) : seed_(seed) {}
  void check(std::int64_t end_index, std::int64_t num_steps, at::IntArrayRef sample_shape) const override;
  at::Tensor initial_noise(std::int64_t first, std::int64_t count,
                           at::IntArrayRef sample_shape) const override;
  at::Tensor step_noise(std::int64_t step, std::int64_t first, std::int64_t count,
                        at::IntArrayRef sample_shape) const override;
  std::string describe() const override;
  std::uint64_t seed() const { return seed_; }

 private:
  at::Tensor draw(std::uint32_t draw_index, std::int64_t first, std::int64_t count,
                  at::IntArrayRef sample_shape) const;
  std::uint64_t seed_;
};

// Noise replayed from arrays; either may be undefined, in which case that part
// falls back to CounterNoise(fallback_seed). Row i of each array is sample i.
class ArrayNoise : public NoiseSource {
 public:
  ArrayNoise(at::Tensor x_T, std::string x_T_source, at::Tensor step_noise, std::string step_noise_source,
             std::uint64_t fallback_seed);
  void check(std::int64_t end_index, std::int64_t num_steps, at::IntArrayRef sample_shape) const override;
  at::Tensor initial_noise(std::int64_t first, std::int64_t count,
                           at::IntArrayRef sample_shape) const override;
  at::Tensor step_noise(std::int64_t step, std::int64_t first, std::int64_t count,
                        at::IntArrayRef sample_shape) const override;
  std::string describe() const override;

 private:
  at::Tensor x_T_;
  std::string x_T_source_;
  at::Tensor step_noise_;
  std::string step_noise_source_;
  CounterNoise fallback_;
};

// The class label of sample `index`: uniform over [0, num_classes) from
// Philox (counter (0, index, 0, stream 1)); the 64-bit modulo bias is below
// 1e-16 for any class count here.
std::int64_t counter_label(std::uint64_t seed, std::int64_t index, std::int64_t num_classes);

}  // namespace sagbench::diffusion
