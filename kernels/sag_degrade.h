// The SAG degradation fused into one pass (Hong et al. 2023, eq. 12-15;
// attention_masking in the SAG repository's gaussian_diffusion.py): the grid
// mask nearest-upsampled to the image (F.interpolate's default 'nearest'
// index rule), a separable Gaussian blur of the clipped x0 with reflect
// padding (torchvision's gaussian_blur), the masked mix
// x~0 = blur(x0) * M + x0 * (1 - M) and the re-noise
// x~_t = sqrt(abar) x~0 + sqrt(1 - abar) eps with the predicted eps. The CPU
// reference is the ground truth; sag_degrade.cu holds the CUDA kernel. Tested
// by tests/kernels/sag_degrade_test.cpp (reference vs. guidance::degraded_input
// over odd shapes, CUDA vs. reference when a device is present).
#pragma once

#include <cstdint>

namespace at {
class Tensor;
}

namespace sagbench::kernels {

struct SagDegradeShape {
  std::int64_t batch = 0;
  std::int64_t channels = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::int64_t grid_height = 0;  // the attention grid of the mask
  std::int64_t grid_width = 0;
  std::int64_t kernel_size = 0;  // odd; (kernel_size - 1) / 2 < height and width (reflect padding)
};

// Re-noising coefficients of the step, as float32 (what q_sample multiplies by).
struct RenoiseCoefficients {
  float sqrt_alpha_bar = 1.0f;
  float sqrt_one_minus_alpha_bar = 0.0f;
};

// The largest kernel the CUDA kernel takes (its tile and halo fit 48 KiB of shared memory).
constexpr std::int64_t kSagDegradeCudaMaxKernel = 63;

// x0, eps, out: (batch, channels, height, width); grid_mask: (batch,
// grid_height, grid_width) {0, 1}, or nullptr for "blur everywhere" (blur
// guidance); kernel: kernel_size normalised taps. The blur sums taps in
// order, along the width first, in float32.
void sag_degrade_reference(const float* x0, const float* eps, const float* grid_mask, const float* kernel,
                           const SagDegradeShape& shape, RenoiseCoefficients renoise, float* out);

// The source index of output position `index` of a nearest upsampling from
// `input_size` to `output_size` (ATen's nearest_idx: identity, exact 2x, else
// floor(index * (float)(input / output)) clamped).
std::int64_t nearest_source_index(std::int64_t index, std::int64_t input_size, std::int64_t output_size);

// CUDA launcher on device pointers (sag_degrade.cu); `stream` is a
// cudaStream_t (nullptr = legacy default stream). Returns the cudaError_t of
// the launch as an int; kernel_size must be <= kSagDegradeCudaMaxKernel.
int sag_degrade_cuda(const float* x0, const float* eps, const float* grid_mask, const float* kernel,
                     const SagDegradeShape& shape, RenoiseCoefficients renoise, float* out, void* stream);

// Dispatcher: CUDA for CUDA tensors (builds with SAGBENCH_HAVE_CUDA), else the
// CPU reference. x0, eps: (B, C, H, W); grid_mask: (B, gh, gw) or (B, 1, gh,
// gw), undefined = everywhere; kernel: (K,) taps (guidance::gaussian_kernel_1d).
// Returns x~_t as float32 on the input's device. kShape / kConfig errors name
// the tensor and what is wrong.
at::Tensor sag_degrade(const at::Tensor& x0, const at::Tensor& eps, const at::Tensor& grid_mask,
                       const at::Tensor& kernel, double sqrt_alpha_bar, double sqrt_one_minus_alpha_bar);

}  // namespace sagbench::kernels
