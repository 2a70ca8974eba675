// SAG mask statistic: CPU references and the tensor dispatchers (see sag_mask.h).
#include "kernels/sag_mask.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/cuda_device.h"

namespace sagbench::kernels {
namespace {

void threshold_received(const float* received, std::int64_t count, float threshold, float* mask) {
  for (std::int64_t i = 0; i < count; ++i) {
    mask[i] = received[i] > threshold ? 1.0f : 0.0f;
  }
}

}  // namespace

void sag_mask_from_map_reference(const float* map, const SagMaskShape& shape, float threshold,
                                 float* received, float* mask) {
  const std::int64_t tokens = shape.tokens;
  const auto heads = static_cast<float>(shape.heads);
  for (std::int64_t b = 0; b < shape.batch; ++b) {
    float* out = received + b * tokens;
    std::fill(out, out + tokens, 0.0f);
    for (std::int64_t t = 0; t < tokens; ++t) {
      for (std::int64_t s = 0; s < tokens; ++s) {
        float head_sum = 0.0f;
        for (std::int64_t h = 0; h < shape.heads; ++h) {
          head_sum += map[((b * shape.heads + h) * tokens + t) * tokens + s];
        }
        out[s] += head_sum / heads;
      }
    }
  }
  threshold_received(received, shape.batch * tokens, threshold, mask);
}

void sag_mask_from_qk_reference(const float* q, const float* k, const SagMaskShape& shape, float logit_scale,
                                float threshold, float* received, float* mask) {
  const std::int64_t tokens = shape.tokens;
  const std::int64_t channels = shape.channels;
  std::vector<float> logits(static_cast<std::size_t>(tokens));
  std::vector<float> head_received(static_cast<std::size_t>(tokens));
  for (std::int64_t b = 0; b < shape.batch; ++b) {
    float* out = received + b * tokens;
    std::fill(out, out + tokens, 0.0f);
    for (std::int64_t h = 0; h < shape.heads; ++h) {
      const float* qh = q + (b * shape.heads + h) * channels * tokens;
      const float* kh = k + (b * shape.heads + h) * channels * tokens;
      std::fill(head_received.begin(), head_received.end(), 0.0f);
      for (std::int64_t t = 0; t < tokens; ++t) {
        float row_max = -INFINITY;
        for (std::int64_t s = 0; s < tokens; ++s) {
          float dot = 0.0f;
          for (std::int64_t c = 0; c < channels; ++c) {
            dot += qh[c * tokens + t] * kh[c * tokens + s];
          }
          logits[static_cast<std::size_t>(s)] = dot * logit_scale;
          row_max = std::max(row_max, logits[static_cast<std::size_t>(s)]);
        }
        float row_sum = 0.0f;
        for (std::int64_t s = 0; s < tokens; ++s) {
          logits[static_cast<std::size_t>(s)] = std::exp(logits[static_cast<std::size_t>(s)] - row_max);
          row_sum += logits[static_cast<std::size_t>(s)];
        }
        const float inverse_sum = 1.0f / row_sum;
        for (std::int64_t s = 0; s < tokens; ++s) {
          head_received[static_cast<std::size_t>(s)] += logits[static_cast<std::size_t>(s)] * inverse_sum;
        }
      }
      for (std::int64_t s = 0; s < tokens; ++s) {
        out[s] += head_received[static_cast<std::size_t>(s)];
      }
    }
    for (std::int64_t s = 0; s < tokens; ++s) {
      out[s] /= static_cast<float>(shape.heads);
    }
  }
  threshold_received(received, shape.batch * tokens, threshold, mask);
}

at::Tensor sag_mask_from_map(const at::Tensor& map, std::int64_t heads, double threshold) {
  SAG_REQUIRE(heads > 0 && map.dim() == 3 && map.size(0) % heads == 0 && map.size(1) == map.size(2) &&
                  map.size(1) > 0,
              kShape, "attention map of shape ({}) does not fit {} heads (expected (B*{}, T, T))",
              fmt::join(map.sizes(), ", "), heads, heads);
  const at::Tensor input = map.to(at::kFloat).contiguous();
  const SagMaskShape shape{map.size(0) / heads, heads, map.size(1), 0};
  at::Tensor received = at::empty({shape.batch, shape.tokens}, input.options());
  at::Tensor mask = at::empty_like(received);
  if (input.is_cuda()) {
#ifdef SAGBENCH_HAVE_CUDA
    check_cuda_status(
        sag_mask_from_map_cuda(input.data_ptr<float>(), shape, static_cast<float>(threshold),
                               received.data_ptr<float>(), mask.data_ptr<float>(), cuda_current_stream()),
        "sag_mask_from_map");
#else
    SAG_FAIL(kRuntime, "sag_mask_from_map: a CUDA tensor, but sagbench was built without CUDA kernels");
#endif
  } else {
    sag_mask_from_map_reference(input.data_ptr<float>(), shape, static_cast<float>(threshold),
                                received.data_ptr<float>(), mask.data_ptr<float>());
  }
  return mask;
}

at::Tensor sag_mask_from_qk(const at::Tensor& q, const at::Tensor& k, std::int64_t heads, double logit_scale,
                            double threshold) {
  SAG_REQUIRE(
      heads > 0 && q.dim() == 3 && q.size(0) % heads == 0 && q.size(1) > 0 && q.size(2) > 0 &&
          k.sizes() == q.sizes() && k.device() == q.device(),
      kShape,
      "q ({}) and k ({}) must both be (B*{}, C, T) on one device (the ADM legacy QKVAttention layout)",
      fmt::join(q.sizes(), ", "), fmt::join(k.sizes(), ", "), heads);
  const at::Tensor q_in = q.to(at::kFloat).contiguous();
  const at::Tensor k_in = k.to(at::kFloat).contiguous();
  const SagMaskShape shape{q.size(0) / heads, heads, q.size(2), q.size(1)};
  at::Tensor received = at::empty({shape.batch, shape.tokens}, q_in.options());
  at::Tensor mask = at::empty_like(received);
  if (q_in.is_cuda()) {
#ifdef SAGBENCH_HAVE_CUDA
    // The kernels tile (channels x 32) floats of q or k in 48 KiB of shared memory.
    SAG_REQUIRE(shape.channels <= 320, kShape,
                "sag_mask_from_qk on CUDA supports <= 320 channels per head (got {})", shape.channels);
    at::Tensor row_stats = at::empty({2, q.size(0), shape.tokens}, q_in.options());
    check_cuda_status(sag_mask_from_qk_cuda(q_in.data_ptr<float>(), k_in.data_ptr<float>(), shape,
                                            static_cast<float>(logit_scale), static_cast<float>(threshold),
                                            row_stats.data_ptr<float>(), received.data_ptr<float>(),
                                            mask.data_ptr<float>(), cuda_current_stream()),
                      "sag_mask_from_qk");
#else
    SAG_FAIL(kRuntime, "sag_mask_from_qk: CUDA tensors, but sagbench was built without CUDA kernels");
#endif
  } else {
    sag_mask_from_qk_reference(q_in.data_ptr<float>(), k_in.data_ptr<float>(), shape,
                               static_cast<float>(logit_scale), static_cast<float>(threshold),
                               received.data_ptr<float>(), mask.data_ptr<float>());
  }
  return mask;
}

}  // namespace sagbench::kernels
