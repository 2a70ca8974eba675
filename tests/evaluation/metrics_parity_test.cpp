// Parity of the metrics with the upstream reference on metrics_vectors.npz:
// pr_ref (1000x8) and pr_sample (1500x8) float32 vectors with the expected
// precision and recall (k = 3, float64 distances) and FID (float64, ddof 1,
// scipy sqrtm).
// Tolerances: precision and recall are counts over 1500 / 1000 vectors, so
// they must match exactly in fp64, and in fp32 too unless a distance lies
// within float32 rounding of a radius (none does here); FID to 1e-9 relative
// (eigenvalue form vs scipy's Schur sqrtm, both float64 on 8x8 matrices).
#include <gtest/gtest.h>

#include "evaluation/frechet.h"
#include "evaluation/precision_recall.h"
#include "evaluation/statistics.h"
#include "io/npz.h"
#include "support/fixtures.h"

namespace sagbench::eval {
namespace {

class MetricsParity : public ::testing::Test {
 protected:
  void SetUp() override { vectors_ = io::read_npz(testing::fixture_path("metrics_vectors.npz")); }
  double scalar(const std::string& name) const { return vectors_.at(name).item<double>(); }
  io::TensorDict vectors_;
};

TEST_F(MetricsParity, PrecisionAndRecall) {
  for (DistancePrecision p : {DistancePrecision::kFp64, DistancePrecision::kFp32}) {
    PrecisionRecallOptions options;
    options.precision = p;
    const PrecisionRecall pr = precision_recall(vectors_.at("pr_ref"), vectors_.at("pr_sample"), options);
    EXPECT_DOUBLE_EQ(pr.precision, scalar("precision")) << distance_precision_name(p);
    EXPECT_DOUBLE_EQ(pr.recall, scalar("recall")) << distance_precision_name(p);
  }
}

TEST_F(MetricsParity, PrecisionAndRecallInSmallBlocks) {
  PrecisionRecallOptions options;
  options.row_block = 300;
  options.col_block = 700;
  const PrecisionRecall pr = precision_recall(vectors_.at("pr_ref"), vectors_.at("pr_sample"), options);
  EXPECT_DOUBLE_EQ(pr.precision, scalar("precision"));
  EXPECT_DOUBLE_EQ(pr.recall, scalar("recall"));
}

TEST_F(MetricsParity, Fp16DistancesStayCloseOnUnitScaleVectors) {
  // ADM's fp16 path rounds distances to 11 significant bits; on these vectors
  // a handful of memberships may flip, never more than 1% of either set.
  PrecisionRecallOptions options;
  options.precision = DistancePrecision::kFp16;
  const PrecisionRecall pr = precision_recall(vectors_.at("pr_ref"), vectors_.at("pr_sample"), options);
  EXPECT_NEAR(pr.precision, scalar("precision"), 0.01);
  EXPECT_NEAR(pr.recall, scalar("recall"), 0.01);
  EXPECT_EQ(pr.fp16_fallback_blocks, 0);
}

TEST_F(MetricsParity, FrechetDistance) {
  const GaussianStatistics ref = compute_statistics(vectors_.at("pr_ref"), "pr_ref");
  const GaussianStatistics smp = compute_statistics(vectors_.at("pr_sample"), "pr_sample");
  const double expected = scalar("fid_ref_vs_sample");
  for (LinalgBackend backend : {LinalgBackend::kEigen, LinalgBackend::kTorch}) {
    FrechetOptions options;
    options.backend = backend;
    EXPECT_NEAR(frechet_distance(ref, smp, "ref", "sample", options).distance, expected, 1e-9 * expected);
  }
}

}  // namespace
}  // namespace sagbench::eval
