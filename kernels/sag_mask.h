// The SAG mask statistic (Hong et al. 2023, eq. 12-13; attention_masking in
// the SAG repository's gaussian_diffusion.py): received[b, s] = mean over heads
// of the sum over queries t of A[b * H + h, t, s], mask = received > psi. From
// the materialised map (B*H, T, T), or from q and k in the ADM legacy layout
// (B*H, C, T) with A = softmax over keys of (q_t . k_s) * logit_scale, without
// materialising T x T. The CPU references are the ground truth; sag_mask.cu
// holds the CUDA kernels. Tested by tests/kernels/sag_mask_test.cpp (reference
// vs. guidance::attention_mask, CUDA vs. reference when a device is present).
#pragma once

#include <cstdint>

namespace at {
class Tensor;
}

namespace sagbench::kernels {

struct SagMaskShape {
  std::int64_t batch = 0;
  std::int64_t heads = 0;
  std::int64_t tokens = 0;    // T = grid height * grid width
  std::int64_t channels = 0;  // per-head channels C of q and k (qk variant only)
};

// map: (batch * heads, tokens, tokens) row-major, indexed (query, key).
// received: (batch, tokens) = sum over queries of (sum over heads / heads),
// accumulated in float32 query by query; mask: (batch, tokens) {0, 1}.
void sag_mask_from_map_reference(const float* map, const SagMaskShape& shape, float threshold,
                                 float* received, float* mask);

// q, k: (batch * heads, channels, tokens) row-major. Row t's softmax over keys
// of logit_scale * sum_c q[c, t] k[c, s] (max-subtracted, float32), summed
// over queries per head, then the head sum divided by heads.
void sag_mask_from_qk_reference(const float* q, const float* k, const SagMaskShape& shape, float logit_scale,
                                float threshold, float* received, float* mask);

// CUDA launchers on device pointers (sag_mask.cu); `stream` is a cudaStream_t
// (nullptr = the legacy default stream). They return the cudaError_t of the
// launch as an int (0 = success). row_stats is device scratch of
// 2 * batch * heads * tokens floats (each query's softmax max and 1 / sum).
int sag_mask_from_map_cuda(const float* map, const SagMaskShape& shape, float threshold, float* received,
                           float* mask, void* stream);
int sag_mask_from_qk_cuda(const float* q, const float* k, const SagMaskShape& shape, float logit_scale,
                          float threshold, float* row_stats, float* received, float* mask, void* stream);

// Dispatchers: CUDA kernels for CUDA tensors (builds with SAGBENCH_HAVE_CUDA),
// else the CPU reference. Inputs are converted to contiguous float32. Return
// the (batch, tokens) float {0, 1} mask on the input's device. kShape errors
// name the tensor and the expected shape.
at::Tensor sag_mask_from_map(const at::Tensor& map, std::int64_t heads, double threshold);
// q, k: (batch * heads, channels, tokens). The ADM legacy QKVAttention uses
// logit_scale = 1 / sqrt(channels).
at::Tensor sag_mask_from_qk(const at::Tensor& q, const at::Tensor& k, std::int64_t heads, double logit_scale,
                            double threshold);

}  // namespace sagbench::kernels
