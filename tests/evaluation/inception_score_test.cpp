// Tests for evaluation/inception_score.h: the closed forms of REFERENCE.md §4
// (uniform predictions -> 1; balanced one-hot over K classes -> K) and the
// split mean/std. Exact in real arithmetic; 1e-12 absorbs float64 rounding.
#include "evaluation/inception_score.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace sagbench::eval {
namespace {

TEST(InceptionScore, UniformPredictionsScoreOne) {
  const InceptionScore s = inception_score_from_probabilities(at::full({20, 1008}, 1.0 / 1008));
  EXPECT_NEAR(s.mean, 1.0, 1e-12);
  EXPECT_EQ(s.splits, 1);
  // Equal logits are uniform predictions too.
  EXPECT_NEAR(inception_score_from_logits(at::zeros({7, 10})).mean, 1.0, 1e-12);
}

TEST(InceptionScore, BalancedOneHotScoresK) {
  const std::int64_t k = 10;
  const at::Tensor labels = at::arange(50) % k;
  const at::Tensor one_hot = at::one_hot(labels, k).to(at::kDouble);
  EXPECT_NEAR(inception_score_from_probabilities(one_hot).mean, static_cast<double>(k), 1e-12);
}

TEST(InceptionScore, ConsecutiveSplitsMeanAndStd) {
  // Split 1 (rows 0..3): uniform -> 1. Split 2 (rows 4..7): one-hot over 4 -> 4.
  const at::Tensor uniform = at::full({4, 4}, 0.25, at::kDouble);
  const at::Tensor one_hot = at::eye(4, at::kDouble);
  const InceptionScore s = inception_score_from_probabilities(at::cat({uniform, one_hot}), 4);
  EXPECT_EQ(s.splits, 2);
  EXPECT_NEAR(s.mean, 2.5, 1e-12);
  EXPECT_NEAR(s.std, 1.5, 1e-12);
  // A shorter last split is its own split (rows 8..9 uniform -> 1).
  const InceptionScore t =
      inception_score_from_probabilities(at::cat({uniform, one_hot, at::full({2, 4}, 0.25, at::kDouble)}), 4);
  EXPECT_EQ(t.splits, 3);
  EXPECT_NEAR(t.mean, 2.0, 1e-12);
}

TEST(InceptionScore, Errors) {
  EXPECT_THROW(inception_score_from_probabilities(at::zeros({0, 3})), Error);
  EXPECT_THROW(inception_score_from_probabilities(at::ones({3})), Error);
  EXPECT_THROW(inception_score_from_probabilities(at::ones({3, 3}), 0), Error);
  EXPECT_THROW(inception_score_from_logits(at::ones({3, 3}, at::kLong)), Error);
}

}  // namespace
}  // namespace sagbench::eval
