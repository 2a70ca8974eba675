// SAG's degradation stage (mask, Gaussian blur, mix, re-noise) on ATen ops:
// float32 throughout, Gaussian weights computed in float64 and rounded once.
// See sag_degrade.h; tested by tests/guidance/sag_degrade_test.cpp.
#include "guidance/sag_degrade.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "diffusion/gaussian_diffusion.h"

namespace sagbench::guidance {

at::Tensor gaussian_kernel_1d(std::int64_t size, double sigma) {
  SAG_REQUIRE(size >= 1 && size % 2 == 1, kConfig, "blur_kernel_size must be an odd integer >= 1 (got {})",
              size);
  SAG_REQUIRE(std::isfinite(sigma) && sigma > 0.0, kConfig, "blur_sigma must be a finite number > 0 (got {})",
              sigma);
  const std::int64_t half = (size - 1) / 2;
  std::vector<double> weights(static_cast<std::size_t>(size));
  double total = 0.0;
  for (std::int64_t i = 0; i < size; ++i) {
    const double x = static_cast<double>(i - half) / sigma;
    weights[static_cast<std::size_t>(i)] = std::exp(-0.5 * x * x);
    total += weights[static_cast<std::size_t>(i)];
  }
  at::Tensor kernel = at::empty({size}, at::kFloat);
  float* out = kernel.data_ptr<float>();
  for (std::int64_t i = 0; i < size; ++i) {
    out[i] = static_cast<float>(weights[static_cast<std::size_t>(i)] / total);
  }
  return kernel;
}

at::Tensor gaussian_blur(const at::Tensor& x, std::int64_t kernel_size, double sigma) {
  SAG_CHECK(x.dim() == 4, "gaussian_blur expects (B, C, H, W)");
  const at::Tensor kernel = gaussian_kernel_1d(kernel_size, sigma).to(x.options());
  const std::int64_t channels = x.size(1);
  const std::int64_t height = x.size(2);
  const std::int64_t width = x.size(3);
  // Reflect padding needs pad < side; kernel <= side is the documented bound.
  SAG_REQUIRE(kernel_size <= height && kernel_size <= width, kConfig,
              "blur_kernel_size {} is larger than the {}x{} image; use an odd size <= {}", kernel_size,
              height, width,
              std::min(height, width) % 2 == 1 ? std::min(height, width) : std::min(height, width) - 1);
  if (kernel_size == 1) {
    return x;
  }
  const std::int64_t pad = (kernel_size - 1) / 2;
  const at::Tensor padded = at::reflection_pad2d(x, {pad, pad, pad, pad});
  const at::Tensor along_w = kernel.reshape({1, 1, 1, kernel_size}).expand({channels, 1, 1, kernel_size});
  const at::Tensor along_h = kernel.reshape({1, 1, kernel_size, 1}).expand({channels, 1, kernel_size, 1});
  // Explicit arrays keep the call unambiguous next to LibTorch 2.x's string-padding overload.
  const std::vector<std::int64_t> unit = {1, 1};
  const std::vector<std::int64_t> none = {0, 0};
  const at::Tensor rows = at::conv2d(padded, along_w.contiguous(), {}, unit, none, unit, channels);
  return at::conv2d(rows, along_h.contiguous(), {}, unit, none, unit, channels);
}

at::Tensor attention_mask(const at::Tensor& map, std::int64_t heads, std::int64_t grid_height,
                          std::int64_t grid_width, double threshold, std::int64_t height,
                          std::int64_t width) {
  const std::int64_t tokens = grid_height * grid_width;
  SAG_REQUIRE(heads > 0 && tokens > 0 && map.dim() == 3 && map.size(0) % heads == 0 &&
                  map.size(1) == tokens && map.size(2) == tokens,
              kShape,
              "attention map of shape ({}) does not fit {} heads on a {}x{} grid (expected (B*{}, {}, {}))",
              fmt::join(map.sizes(), ", "), heads, grid_height, grid_width, heads, tokens, tokens);
  const std::int64_t batch = map.size(0) / heads;
  // (B, heads, query, key) -> mean over heads -> sum over queries -> (B, key).
  const at::Tensor received = map.reshape({batch, heads, tokens, tokens}).mean(1).sum(1);
  const at::Tensor selected = at::gt(received, threshold).to(at::kFloat);
  const at::Tensor grid = selected.reshape({batch, 1, grid_height, grid_width});
  const std::vector<std::int64_t> size = {height, width};
  return at::upsample_nearest2d(grid, size);
}

at::Tensor masked_mix(const at::Tensor& x0, const at::Tensor& blurred, const at::Tensor& mask) {
  if (!mask.defined()) {
    return blurred;
  }
  return blurred * mask + x0 * (1 - mask);
}

at::Tensor degraded_input(const diffusion::GaussianDiffusion& diffusion, std::int64_t t, const at::Tensor& x0,
                          const at::Tensor& eps, const at::Tensor& mask, std::int64_t kernel_size,
                          double sigma) {
  const at::Tensor mixed = masked_mix(x0, gaussian_blur(x0, kernel_size, sigma), mask);
  return diffusion.q_sample(mixed, t, eps);
}

}  // namespace sagbench::guidance
