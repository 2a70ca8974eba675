// SAG degradation: CPU reference and the tensor dispatcher (see sag_degrade.h).
#include "kernels/sag_degrade.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/cuda_device.h"

namespace sagbench::kernels {
namespace {

// Reflect (no edge repeat) an index in [-pad, size - 1 + pad] into [0, size).
std::int64_t reflect(std::int64_t i, std::int64_t size) {
  if (i < 0) {
    return -i;
  }
  return i >= size ? 2 * (size - 1) - i : i;
}

}  // namespace

std::int64_t nearest_source_index(std::int64_t index, std::int64_t input_size, std::int64_t output_size) {
  if (output_size == input_size) {
    return index;
  }
  if (output_size == 2 * input_size) {
    return index >> 1;
  }
  const float scale = static_cast<float>(input_size) / static_cast<float>(output_size);
  return std::min(static_cast<std::int64_t>(std::floor(static_cast<float>(index) * scale)), input_size - 1);
}

void sag_degrade_reference(const float* x0, const float* eps, const float* grid_mask, const float* kernel,
                           const SagDegradeShape& shape, RenoiseCoefficients renoise, float* out) {
  const std::int64_t height = shape.height;
  const std::int64_t width = shape.width;
  const std::int64_t pad = (shape.kernel_size - 1) / 2;
  std::vector<std::int64_t> mask_row(static_cast<std::size_t>(height));
  std::vector<std::int64_t> mask_col(static_cast<std::size_t>(width));
  for (std::int64_t y = 0; y < height; ++y) {
    mask_row[static_cast<std::size_t>(y)] = nearest_source_index(y, shape.grid_height, height);
  }
  for (std::int64_t x = 0; x < width; ++x) {
    mask_col[static_cast<std::size_t>(x)] = nearest_source_index(x, shape.grid_width, width);
  }
  std::vector<float> rows(static_cast<std::size_t>(height * width));
  for (std::int64_t b = 0; b < shape.batch; ++b) {
    const float* mask = grid_mask == nullptr ? nullptr : grid_mask + b * shape.grid_height * shape.grid_width;
    for (std::int64_t c = 0; c < shape.channels; ++c) {
      const std::int64_t plane = (b * shape.channels + c) * height * width;
      const float* in = x0 + plane;
      for (std::int64_t y = 0; y < height; ++y) {
        for (std::int64_t x = 0; x < width; ++x) {
          float sum = 0.0f;
          for (std::int64_t j = 0; j < shape.kernel_size; ++j) {
            sum += kernel[j] * in[y * width + reflect(x - pad + j, width)];
          }
          rows[static_cast<std::size_t>(y * width + x)] = sum;
        }
      }
      for (std::int64_t y = 0; y < height; ++y) {
        for (std::int64_t x = 0; x < width; ++x) {
          float blurred = 0.0f;
          for (std::int64_t j = 0; j < shape.kernel_size; ++j) {
            blurred += kernel[j] * rows[static_cast<std::size_t>(reflect(y - pad + j, height) * width + x)];
          }
          const float m = mask == nullptr ? 1.0f
                                          : mask[mask_row[static_cast<std::size_t>(y)] * shape.grid_width +
                                                 mask_col[static_cast<std::size_t>(x)]];
          const std::int64_t at = plane + y * width + x;
          const float mixed = blurred * m + in[y * width + x] * (1.0f - m);
          out[at] = renoise.sqrt_alpha_bar * mixed + renoise.sqrt_one_minus_alpha_bar * eps[at];
        }
      }
    }
  }
}

at::Tensor sag_degrade(const at::Tensor& x0, const at::Tensor& eps, const at::Tensor& grid_mask,
                       const at::Tensor& kernel, double sqrt_alpha_bar, double sqrt_one_minus_alpha_bar) {
  SAG_REQUIRE(x0.dim() == 4 && eps.sizes() == x0.sizes() && eps.device() == x0.device(), kShape,
              "sag_degrade: x0 ({}) and eps ({}) must both be (B, C, H, W) on one device",
              fmt::join(x0.sizes(), ", "), fmt::join(eps.sizes(), ", "));
  SagDegradeShape shape{x0.size(0), x0.size(1), x0.size(2), x0.size(3), 1, 1, kernel.numel()};
  SAG_REQUIRE(kernel.dim() == 1 && shape.kernel_size % 2 == 1, kConfig,
              "sag_degrade: the blur kernel must be 1-D with an odd number of taps (got shape ({}))",
              fmt::join(kernel.sizes(), ", "));
  const std::int64_t pad = (shape.kernel_size - 1) / 2;
  SAG_REQUIRE(pad < shape.height && pad < shape.width, kConfig,
              "sag_degrade: a {}-tap blur needs reflect padding {} < the {}x{} image sides",
              shape.kernel_size, pad, shape.height, shape.width);
  at::Tensor mask;
  if (grid_mask.defined()) {
    mask = grid_mask.dim() == 4 && grid_mask.size(1) == 1 ? grid_mask.squeeze(1) : grid_mask;
    SAG_REQUIRE(mask.dim() == 3 && mask.size(0) == shape.batch && mask.size(1) > 0 && mask.size(2) > 0 &&
                    mask.device() == x0.device(),
                kShape, "sag_degrade: grid mask ({}) must be ({}, gh, gw) or ({}, 1, gh, gw) on x0's device",
                fmt::join(grid_mask.sizes(), ", "), shape.batch, shape.batch);
    shape.grid_height = mask.size(1);
    shape.grid_width = mask.size(2);
    mask = mask.to(at::kFloat).contiguous();
  }
  const at::Tensor x0_in = x0.to(at::kFloat).contiguous();
  const at::Tensor eps_in = eps.to(at::kFloat).contiguous();
  const at::Tensor taps = kernel.to(x0_in.options()).contiguous();
  const RenoiseCoefficients renoise{static_cast<float>(sqrt_alpha_bar),
                                    static_cast<float>(sqrt_one_minus_alpha_bar)};
  const float* mask_data = mask.defined() ? mask.data_ptr<float>() : nullptr;
  at::Tensor out = at::empty_like(x0_in);
  if (x0_in.is_cuda()) {
#ifdef SAGBENCH_HAVE_CUDA
    SAG_REQUIRE(shape.kernel_size <= kSagDegradeCudaMaxKernel, kConfig,
                "sag_degrade on CUDA supports blur kernels up to {} taps (got {})", kSagDegradeCudaMaxKernel,
                shape.kernel_size);
    check_cuda_status(
        sag_degrade_cuda(x0_in.data_ptr<float>(), eps_in.data_ptr<float>(), mask_data, taps.data_ptr<float>(),
                         shape, renoise, out.data_ptr<float>(), cuda_current_stream()),
        "sag_degrade");
#else
    SAG_FAIL(kRuntime, "sag_degrade: CUDA tensors, but sagbench was built without CUDA kernels");
#endif
  } else {
    sag_degrade_reference(x0_in.data_ptr<float>(), eps_in.data_ptr<float>(), mask_data,
                          taps.data_ptr<float>(), shape, renoise, out.data_ptr<float>());
  }
  return out;
}

}  // namespace sagbench::kernels
