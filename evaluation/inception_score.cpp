// Inception Score (see inception_score.h): KL terms via xlogy so that a zero
// probability contributes 0 rather than NaN.
#include "evaluation/inception_score.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "io/tensor_file.h"

namespace sagbench::eval {

InceptionScore inception_score_from_probabilities(const at::Tensor& probabilities, std::int64_t split_size) {
  SAG_REQUIRE(probabilities.dim() == 2 && probabilities.size(0) > 0 && probabilities.size(1) > 0, kShape,
              "Inception Score: expected (N, classes) predictions, got {}",
              std::string(c10::str(probabilities.sizes())));
  SAG_REQUIRE(split_size > 0, kConfig, "Inception Score: split size must be positive, got {}", split_size);
  const at::Tensor p = probabilities.to(at::kCPU, at::kDouble);
  SAG_REQUIRE(at::isfinite(p).all().item<bool>(), kNumeric,
              "Inception Score: predictions contain NaN or Inf");
  const std::int64_t n = p.size(0);
  std::vector<double> scores;
  for (std::int64_t begin = 0; begin < n; begin += split_size) {
    const at::Tensor part = p.slice(0, begin, std::min(begin + split_size, n));
    const at::Tensor marginal = part.mean(0, /*keepdim=*/true);
    const at::Tensor kl = (at::xlogy(part, part) - at::xlogy(part, marginal)).sum(1).mean();
    scores.push_back(std::exp(kl.item<double>()));
  }
  InceptionScore result;
  result.splits = static_cast<std::int64_t>(scores.size());
  for (double s : scores) {
    result.mean += s;
  }
  result.mean /= static_cast<double>(scores.size());
  for (double s : scores) {
    result.std += (s - result.mean) * (s - result.mean);
  }
  result.std = std::sqrt(result.std / static_cast<double>(scores.size()));
  return result;
}

InceptionScore inception_score_from_logits(const at::Tensor& logits, std::int64_t split_size) {
  SAG_REQUIRE(logits.dim() == 2 && at::isFloatingType(logits.scalar_type()), kShape,
              "Inception Score: expected (N, classes) floating-point logits, got {} {}",
              std::string(io::dtype_name(logits.scalar_type())), std::string(c10::str(logits.sizes())));
  return inception_score_from_probabilities(at::softmax(logits.to(at::kCPU, at::kDouble), 1), split_size);
}

}  // namespace sagbench::eval
