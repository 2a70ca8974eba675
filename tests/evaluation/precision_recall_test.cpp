// Tests for evaluation/precision_recall.h: the 1-D example of REFERENCE.md §4
// (exact: distances are small integers and quarter-integers, exact in fp16),
// block-size invariance, the fp16 rounding and overflow fallback, errors.
#include "evaluation/precision_recall.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace sagbench::eval {
namespace {

at::Tensor column(std::vector<float> values) {
  return at::tensor(values).view({static_cast<std::int64_t>(values.size()), 1});
}

TEST(PrecisionRecall, OneDimensionalExample) {
  // Reference 0..9; samples 0.5, 4.5, 20, 30, ..., 90. A reference radius is
  // at least 4 (4th smallest squared distance, self included), so 0.5 and 4.5
  // are inside: precision 2/10. Sample radii are >= 870.25, covering 0..9: recall 1.
  const at::Tensor ref = column({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  const at::Tensor smp = column({0.5, 4.5, 20, 30, 40, 50, 60, 70, 80, 90});
  for (DistancePrecision p : {DistancePrecision::kFp32, DistancePrecision::kFp16, DistancePrecision::kFp64}) {
    PrecisionRecallOptions o;
    o.precision = p;
    const PrecisionRecall pr = precision_recall(ref, smp, o);
    EXPECT_DOUBLE_EQ(pr.precision, 0.2) << distance_precision_name(p);
    EXPECT_DOUBLE_EQ(pr.recall, 1.0) << distance_precision_name(p);
    EXPECT_EQ(pr.fp16_fallback_blocks, 0);
  }
}

TEST(PrecisionRecall, RadiusIsKPlusOnethSmallestIncludingSelf) {
  PrecisionRecallOptions o;
  const at::Tensor r = manifold_radii(column({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), o);
  EXPECT_FLOAT_EQ(r[0].item<float>(), 9.0f);  // 0, 1, 4, 9
  EXPECT_FLOAT_EQ(r[5].item<float>(), 4.0f);  // 0, 1, 1, 4
  o.k = 1;
  EXPECT_FLOAT_EQ(manifold_radii(column({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), o)[0].item<float>(), 1.0f);
}

TEST(PrecisionRecall, BlockSizesDoNotChangeTheResult) {
  at::manual_seed(5);
  const at::Tensor ref = at::randn({53, 6});
  const at::Tensor smp = at::randn({61, 6}) * 1.3 + 0.2;
  const PrecisionRecall whole = precision_recall(ref, smp);
  PrecisionRecallOptions o;
  o.row_block = 7;
  o.col_block = 11;
  const PrecisionRecall blocked = precision_recall(ref, smp, o);
  EXPECT_EQ(whole.precision, blocked.precision);
  EXPECT_EQ(whole.recall, blocked.recall);
  EXPECT_TRUE(at::equal(manifold_radii(ref, {}), manifold_radii(ref, o)));
}

TEST(PrecisionRecall, Fp16RoundsAndFallsBackOnOverflow) {
  // 1/3 is not a float16: distances of fp16 differ from fp32 by the rounding.
  const at::Tensor u = at::full({1, 1}, 1.0f / 3.0f);
  const at::Tensor v = at::zeros({1, 1});
  const float d16 = pairwise_squared_distances(u, v, DistancePrecision::kFp16)[0][0].item<float>();
  const float expected = at::tensor({1.0f / 3.0f}).to(at::kHalf).pow(2).to(at::kFloat)[0].item<float>();
  EXPECT_FLOAT_EQ(d16, expected);
  // |u|^2 = 1e6 overflows float16 (max 65504): the block falls back to fp32.
  bool fell_back = false;
  const at::Tensor big = at::full({1, 1}, 1000.0f);
  const float d =
      pairwise_squared_distances(big, v, DistancePrecision::kFp16, &fell_back)[0][0].item<float>();
  EXPECT_TRUE(fell_back);
  EXPECT_FLOAT_EQ(d, 1e6f);
}

TEST(PrecisionRecall, Errors) {
  EXPECT_THROW(precision_recall(at::zeros({5, 2}), at::zeros({5, 3})), Error);
  EXPECT_THROW(precision_recall(at::zeros({3, 2}), at::zeros({5, 2})), Error);  // 3 < k + 1
  EXPECT_THROW(precision_recall(at::Tensor(), at::zeros({5, 2})), Error);
  EXPECT_THROW(parse_distance_precision("fp8"), Error);
  PrecisionRecallOptions o;
  o.k = 0;
  EXPECT_THROW(manifold_radii(at::zeros({5, 2}), o), Error);
}

}  // namespace
}  // namespace sagbench::eval
