// Tests for evaluation/statistics.h: mean and ddof-1 covariance against a
// direct two-pass sum written here, batch and merge invariance, errors.
// Tolerance 1e-12 relative: the batched update differs from two-pass only by
// float64 rounding.
#include "evaluation/statistics.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace sagbench::eval {
namespace {

// Two-pass reference computed with plain loops.
void reference_moments(const at::Tensor& x, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) {
  const auto a = x.to(at::kDouble).contiguous();
  const auto acc = a.accessor<double, 2>();
  const std::int64_t n = a.size(0), d = a.size(1);
  mean = Eigen::VectorXd::Zero(d);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) {
      mean[j] += acc[i][j] / static_cast<double>(n);
    }
  }
  cov = Eigen::MatrixXd::Zero(d, d);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) {
      for (std::int64_t k = 0; k < d; ++k) {
        cov(j, k) += (acc[i][j] - mean[j]) * (acc[i][k] - mean[k]) / static_cast<double>(n - 1);
      }
    }
  }
}

TEST(Statistics, VarianceUsesDdofOne) {
  const at::Tensor x = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({4, 1});
  const GaussianStatistics s = compute_statistics(x);
  EXPECT_DOUBLE_EQ(s.mean[0], 2.5);
  EXPECT_NEAR(s.covariance(0, 0), 5.0 / 3.0, 1e-15);
  EXPECT_EQ(s.count, 4);
}

TEST(Statistics, BatchedAndMergedEqualTwoPass) {
  at::manual_seed(3);
  const at::Tensor x = at::randn({37, 5}) * 3 + 100;  // offset: catches E[x^2] - E[x]^2 cancellation
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
  reference_moments(x, mean, cov);

  MomentAccumulator batched(5);
  for (std::int64_t i = 0; i < 37; i += 8) {
    batched.add(x.slice(0, i, std::min<std::int64_t>(i + 8, 37)));
  }
  MomentAccumulator first(5), second(5);
  first.add(x.slice(0, 0, 11));
  second.add(x.slice(0, 11, 37));
  first.merge(second);

  for (const MomentAccumulator* acc : {&batched, &first}) {
    const GaussianStatistics s = acc->finish();
    EXPECT_EQ(s.count, 37);
    EXPECT_LT((s.mean - mean).cwiseAbs().maxCoeff(), 1e-12 * 100);
    EXPECT_LT((s.covariance - cov).cwiseAbs().maxCoeff(), 1e-12 * cov.cwiseAbs().maxCoeff());
    EXPECT_EQ((s.covariance - s.covariance.transpose()).cwiseAbs().maxCoeff(), 0.0);
  }
}

TEST(Statistics, Errors) {
  MomentAccumulator acc(3, "pool_3 of x.npz");
  EXPECT_THROW(acc.add(at::zeros({2, 4})), Error);
  EXPECT_THROW(acc.finish(), Error);  // no vectors
  at::Tensor bad = at::zeros({3, 3});
  bad[2][1] = std::numeric_limits<float>::quiet_NaN();
  try {
    acc.add(bad);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(statistics_from_tensors(at::zeros({3}), at::zeros({3, 2}), "ref.npz"), Error);
}

TEST(Statistics, TensorRoundTrip) {
  Eigen::MatrixXd m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  const at::Tensor t = to_tensor(m);
  EXPECT_EQ(t[1][0].item<double>(), 4.0);
  const GaussianStatistics s =
      statistics_from_tensors(to_tensor(Eigen::VectorXd(Eigen::Vector2d(1, 2))),
                              to_tensor(Eigen::MatrixXd(Eigen::MatrixXd::Identity(2, 2))), "t");
  EXPECT_EQ(s.mean[1], 2.0);
  EXPECT_EQ(s.count, 0);
}

}  // namespace
}  // namespace sagbench::eval
