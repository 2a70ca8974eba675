// Inception Score as guided-diffusion's Evaluator.compute_inception_score
// (after improved-gan): softmax over all 1008 logits of pool_3 . W^T (no
// bias), consecutive splits of 5000 predictions, per split
// exp(mean_i KL(p_i || mean_j p_j)), then the mean (and the std, ddof 0, as
// improved-gan / torch-fidelity report it) over splits. float64 throughout;
// 0 * log 0 is taken as 0. Tested by tests/evaluation/inception_score_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace sagbench::eval {

inline constexpr std::int64_t kInceptionScoreSplitSize = 5000;

struct InceptionScore {
  double mean = 0.0;
  double std = 0.0;
  std::int64_t splits = 0;
};

// probabilities: (N, K), rows summing to 1. The last split may be shorter
// (as upstream's range(0, N, split_size)).
InceptionScore inception_score_from_probabilities(const at::Tensor& probabilities,
                                                  std::int64_t split_size = kInceptionScoreSplitSize);

// logits: (N, K) of any floating dtype; softmax in float64.
InceptionScore inception_score_from_logits(const at::Tensor& logits,
                                           std::int64_t split_size = kInceptionScoreSplitSize);

}  // namespace sagbench::eval
