// CUDA kernels of the SAG mask statistic (see sag_mask.h; the CPU references
// in sag_mask.cpp are the ground truth, tests/kernels/sag_mask_test.cpp
// compares them on a device). One thread per (batch, key): it sums its column
// of the map over heads and queries in the reference's order, coalesced across
// keys, so no atomics and a deterministic result. The q/k variant does two
// passes in the manner of flash attention: per query, the softmax max and
// 1 / sum (online, k tiled in shared memory); per key, the sum over queries of
// exp(logit - max) / sum (q tiled in shared memory). It costs 2 T^2 C
// multiply-adds per head instead of writing and reading T^2 floats.
#include <cuda_runtime.h>

#include <cmath>

#include "kernels/sag_mask.h"

namespace sagbench::kernels {
namespace {

constexpr int kThreads = 128;
constexpr int kTile = 32;  // keys (stats pass) or queries (received pass) per shared-memory tile

__global__ void map_received_kernel(const float* map, int heads, int tokens, float threshold, float* received,
                                    float* mask) {
  const int s = blockIdx.x * blockDim.x + threadIdx.x;
  const int b = blockIdx.y;
  if (s >= tokens) {
    return;
  }
  const long long plane = static_cast<long long>(tokens) * tokens;
  const float* base = map + static_cast<long long>(b) * heads * plane + s;
  float total = 0.0f;
  for (int t = 0; t < tokens; ++t) {
    float head_sum = 0.0f;
    for (int h = 0; h < heads; ++h) {
      head_sum += base[h * plane + static_cast<long long>(t) * tokens];
    }
    total += head_sum / static_cast<float>(heads);
  }
  const long long out = static_cast<long long>(b) * tokens + s;
  received[out] = total;
  mask[out] = total > threshold ? 1.0f : 0.0f;
}

// row_stats[0][bh][t] = max over keys of the logits, row_stats[1][bh][t] = 1 / sum of exp(logit - max).
__global__ void qk_row_stats_kernel(const float* q, const float* k, int rows, int channels, int tokens,
                                    float logit_scale, float* row_stats) {
  extern __shared__ float k_tile[];  // (channels, kTile)
  const int bh = blockIdx.y;
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  const float* qh = q + static_cast<long long>(bh) * channels * tokens;
  const float* kh = k + static_cast<long long>(bh) * channels * tokens;
  float running_max = -INFINITY;
  float running_sum = 0.0f;
  for (int s0 = 0; s0 < tokens; s0 += kTile) {
    const int count = min(kTile, tokens - s0);
    __syncthreads();
    for (int i = threadIdx.x; i < channels * kTile; i += blockDim.x) {
      const int c = i / kTile;
      const int j = i % kTile;
      k_tile[i] = j < count ? kh[static_cast<long long>(c) * tokens + s0 + j] : 0.0f;
    }
    __syncthreads();
    if (t >= tokens) {
      continue;
    }
    for (int j = 0; j < count; ++j) {
      float dot = 0.0f;
      for (int c = 0; c < channels; ++c) {
        dot += qh[static_cast<long long>(c) * tokens + t] * k_tile[c * kTile + j];
      }
      const float logit = dot * logit_scale;
      if (logit > running_max) {
        running_sum = running_sum * expf(running_max - logit) + 1.0f;
        running_max = logit;
      } else {
        running_sum += expf(logit - running_max);
      }
    }
  }
  if (t < tokens) {
    const long long at = static_cast<long long>(bh) * tokens + t;
    row_stats[at] = running_max;
    row_stats[static_cast<long long>(rows) * tokens + at] = 1.0f / running_sum;
  }
}

__global__ void qk_received_kernel(const float* q, const float* k, const float* row_stats, int heads,
                                   int channels, int tokens, float logit_scale, float threshold,
                                   float* received, float* mask) {
  extern __shared__ float shared[];
  float* q_tile = shared;                       // (channels, kTile)
  float* max_tile = shared + channels * kTile;  // (kTile)
  float* inv_tile = max_tile + kTile;           // (kTile)
  const int b = blockIdx.y;
  const int s = blockIdx.x * blockDim.x + threadIdx.x;
  const int rows = gridDim.y * heads;
  float total = 0.0f;
  for (int h = 0; h < heads; ++h) {
    const int bh = b * heads + h;
    const float* qh = q + static_cast<long long>(bh) * channels * tokens;
    const float* kh = k + static_cast<long long>(bh) * channels * tokens;
    float head_total = 0.0f;
    for (int t0 = 0; t0 < tokens; t0 += kTile) {
      const int count = min(kTile, tokens - t0);
      __syncthreads();
      for (int i = threadIdx.x; i < channels * kTile; i += blockDim.x) {
        const int c = i / kTile;
        const int j = i % kTile;
        q_tile[i] = j < count ? qh[static_cast<long long>(c) * tokens + t0 + j] : 0.0f;
      }
      for (int j = threadIdx.x; j < kTile; j += blockDim.x) {
        const long long at = static_cast<long long>(bh) * tokens + t0 + j;
        max_tile[j] = j < count ? row_stats[at] : 0.0f;
        inv_tile[j] = j < count ? row_stats[static_cast<long long>(rows) * tokens + at] : 0.0f;
      }
      __syncthreads();
      if (s >= tokens) {
        continue;
      }
      for (int j = 0; j < count; ++j) {
        float dot = 0.0f;
        for (int c = 0; c < channels; ++c) {
          dot += q_tile[c * kTile + j] * kh[static_cast<long long>(c) * tokens + s];
        }
        head_total += expf(dot * logit_scale - max_tile[j]) * inv_tile[j];
      }
    }
    total += head_total;
  }
  if (s < tokens) {
    const long long out = static_cast<long long>(b) * tokens + s;
    total /= static_cast<float>(heads);
    received[out] = total;
    mask[out] = total > threshold ? 1.0f : 0.0f;
  }
}

}  // namespace

int sag_mask_from_map_cuda(const float* map, const SagMaskShape& shape, float threshold, float* received,
                           float* mask, void* stream) {
  const dim3 grid(static_cast<unsigned>((shape.tokens + kThreads - 1) / kThreads),
                  static_cast<unsigned>(shape.batch));
  map_received_kernel<<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      map, static_cast<int>(shape.heads), static_cast<int>(shape.tokens), threshold, received, mask);
  return static_cast<int>(cudaGetLastError());
}

int sag_mask_from_qk_cuda(const float* q, const float* k, const SagMaskShape& shape, float logit_scale,
                          float threshold, float* row_stats, float* received, float* mask, void* stream) {
  const auto cuda_stream = static_cast<cudaStream_t>(stream);
  const int rows = static_cast<int>(shape.batch * shape.heads);
  const int channels = static_cast<int>(shape.channels);
  const int tokens = static_cast<int>(shape.tokens);
  const unsigned token_blocks = static_cast<unsigned>((tokens + kThreads - 1) / kThreads);
  const size_t stats_bytes = sizeof(float) * channels * kTile;
  qk_row_stats_kernel<<<dim3(token_blocks, static_cast<unsigned>(rows)), kThreads, stats_bytes,
                        cuda_stream>>>(q, k, rows, channels, tokens, logit_scale, row_stats);
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) {
    return static_cast<int>(status);
  }
  const size_t received_bytes = sizeof(float) * (channels * kTile + 2 * kTile);
  qk_received_kernel<<<dim3(token_blocks, static_cast<unsigned>(shape.batch)), kThreads, received_bytes,
                       cuda_stream>>>(q, k, row_stats, static_cast<int>(shape.heads), channels, tokens,
                                      logit_scale, threshold, received, mask);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace sagbench::kernels
