// CUDA kernel of the fused SAG degradation (see sag_degrade.h; the CPU
// reference in sag_degrade.cpp is the ground truth, compared on a device by
// tests/kernels/sag_degrade_test.cpp). One block per 32x32 output tile of one
// (batch, channel) plane: the tile and its reflect-padded halo are staged in
// shared memory, blurred along the width then the height (taps summed in the
// reference's order), mixed with the nearest-upsampled grid mask and re-noised
// with eps, so x0 and eps are read once (plus the halo) and x~_t written once:
// ~12 bytes per element of DRAM traffic.
#include <cuda_runtime.h>

#include <cmath>

#include "kernels/sag_degrade.h"

namespace sagbench::kernels {
namespace {

constexpr int kTile = 32;
constexpr int kRowsPerPass = 8;  // blockDim = (kTile, kRowsPerPass)

__device__ int reflect_index(int i, int size) {
  i = i < 0 ? -i : i;
  i = i >= size ? 2 * (size - 1) - i : i;
  return min(max(i, 0), size - 1);  // rows/columns outside the needed halo only; their values are unused
}

// ATen's nearest_idx (see nearest_source_index in sag_degrade.cpp).
__device__ int nearest_index(int index, int input_size, int output_size) {
  if (output_size == input_size) {
    return index;
  }
  if (output_size == 2 * input_size) {
    return index >> 1;
  }
  const float scale = static_cast<float>(input_size) / static_cast<float>(output_size);
  return min(static_cast<int>(floorf(__fmul_rn(static_cast<float>(index), scale))), input_size - 1);
}

__global__ void sag_degrade_kernel(const float* x0, const float* eps, const float* grid_mask,
                                   const float* taps, int channels, int height, int width, int grid_height,
                                   int grid_width, int kernel_size, float sqrt_alpha_bar,
                                   float sqrt_one_minus_alpha_bar, float* out) {
  extern __shared__ float shared[];
  const int pad = (kernel_size - 1) / 2;
  const int span = kTile + 2 * pad;
  float* weights = shared;               // (kernel_size)
  float* input = weights + kernel_size;  // (span, span): the tile and its halo
  float* rows = input + span * span;     // (span, kTile): blurred along the width
  const int plane_index = blockIdx.z;
  const int batch_index = plane_index / channels;
  const long long plane = static_cast<long long>(plane_index) * height * width;
  const int y0 = blockIdx.y * kTile;
  const int x0_tile = blockIdx.x * kTile;
  const int thread = threadIdx.y * blockDim.x + threadIdx.x;
  const int threads = blockDim.x * blockDim.y;

  for (int i = thread; i < kernel_size; i += threads) {
    weights[i] = taps[i];
  }
  for (int i = thread; i < span * span; i += threads) {
    const int gy = reflect_index(y0 - pad + i / span, height);
    const int gx = reflect_index(x0_tile - pad + i % span, width);
    input[i] = x0[plane + static_cast<long long>(gy) * width + gx];
  }
  __syncthreads();
  for (int i = thread; i < span * kTile; i += threads) {
    const int r = i / kTile;
    const int c = i % kTile;
    const float* row = input + r * span + c;
    float sum = 0.0f;
    for (int j = 0; j < kernel_size; ++j) {
      sum = __fadd_rn(sum, __fmul_rn(weights[j], row[j]));
    }
    rows[i] = sum;
  }
  __syncthreads();
  const int x = x0_tile + threadIdx.x;
  if (x >= width) {
    return;
  }
  const float* mask = grid_mask == nullptr
                          ? nullptr
                          : grid_mask + static_cast<long long>(batch_index) * grid_height * grid_width;
  const int mask_col = nearest_index(x, grid_width, width);
  for (int ly = threadIdx.y; ly < kTile; ly += kRowsPerPass) {
    const int y = y0 + ly;
    if (y >= height) {
      break;
    }
    float blurred = 0.0f;
    for (int j = 0; j < kernel_size; ++j) {
      blurred = __fadd_rn(blurred, __fmul_rn(weights[j], rows[(ly + j) * kTile + threadIdx.x]));
    }
    const float m =
        mask == nullptr ? 1.0f : mask[nearest_index(y, grid_height, height) * grid_width + mask_col];
    const long long at = plane + static_cast<long long>(y) * width + x;
    const float original = input[(ly + pad) * span + threadIdx.x + pad];
    const float mixed = __fadd_rn(__fmul_rn(blurred, m), __fmul_rn(original, 1.0f - m));
    out[at] = __fadd_rn(__fmul_rn(sqrt_alpha_bar, mixed), __fmul_rn(sqrt_one_minus_alpha_bar, eps[at]));
  }
}

}  // namespace

int sag_degrade_cuda(const float* x0, const float* eps, const float* grid_mask, const float* kernel,
                     const SagDegradeShape& shape, RenoiseCoefficients renoise, float* out, void* stream) {
  if (shape.kernel_size < 1 || shape.kernel_size > kSagDegradeCudaMaxKernel || shape.kernel_size % 2 == 0) {
    return static_cast<int>(cudaErrorInvalidValue);
  }
  const int kernel_size = static_cast<int>(shape.kernel_size);
  const int span = kTile + (kernel_size - 1);
  const size_t shared_bytes = sizeof(float) * (kernel_size + span * span + span * kTile);
  const dim3 block(kTile, kRowsPerPass);
  const dim3 grid(static_cast<unsigned>((shape.width + kTile - 1) / kTile),
                  static_cast<unsigned>((shape.height + kTile - 1) / kTile),
                  static_cast<unsigned>(shape.batch * shape.channels));
  sag_degrade_kernel<<<grid, block, shared_bytes, static_cast<cudaStream_t>(stream)>>>(
      x0, eps, grid_mask, kernel, static_cast<int>(shape.channels), static_cast<int>(shape.height),
      static_cast<int>(shape.width), static_cast<int>(shape.grid_height), static_cast<int>(shape.grid_width),
      kernel_size, renoise.sqrt_alpha_bar, renoise.sqrt_one_minus_alpha_bar, out);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace sagbench::kernels
