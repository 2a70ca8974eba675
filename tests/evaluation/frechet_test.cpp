// Tests for evaluation/frechet.h: the closed forms of REFERENCE.md §4 and the
// error paths. The closed forms are exact in real arithmetic; the tolerances
// (1e-12 relative) only absorb float64 rounding of a 2x2..2048x2048 eigensolve.
#include "evaluation/frechet.h"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cstdlib>

#include "core/error.h"

namespace sagbench::eval {
namespace {

GaussianStatistics gaussian(Eigen::VectorXd mean, Eigen::MatrixXd covariance) {
  GaussianStatistics s;
  s.mean = std::move(mean);
  s.covariance = std::move(covariance);
  return s;
}

TEST(Frechet, OneDimensionalGaussians) {
  // N(0, 1) vs N(3, 4): 9 + 1 + 4 - 2 * sqrt(4) = 10.
  const auto a = gaussian(Eigen::VectorXd::Constant(1, 0.0), Eigen::MatrixXd::Constant(1, 1, 1.0));
  const auto b = gaussian(Eigen::VectorXd::Constant(1, 3.0), Eigen::MatrixXd::Constant(1, 1, 4.0));
  EXPECT_NEAR(frechet_distance(a, b).distance, 10.0, 1e-12);
}

TEST(Frechet, DiagonalCovariances) {
  // |(1,2,2)|^2 = 9; 14 + 21 - 2 (2 + 2 + 12) = 3.
  const Eigen::Vector3d da(1, 4, 9), db(4, 1, 16);
  const auto a = gaussian(Eigen::Vector3d(0, 0, 0), da.asDiagonal().toDenseMatrix());
  const auto b = gaussian(Eigen::Vector3d(1, 2, 2), db.asDiagonal().toDenseMatrix());
  EXPECT_NEAR(frechet_distance(a, b).distance, 12.0, 1e-12);
}

TEST(Frechet, NonCommutingCovariancesWithBothBackends) {
  // S1 S2 = [[2,3],[1,6]]: tr sqrtm = sqrt(tr + 2 sqrt(det)) = sqrt(14); FID = 8 - 2 sqrt(14).
  Eigen::Matrix2d s1;
  s1 << 2, 1, 1, 2;
  const Eigen::Matrix2d s2 = Eigen::Vector2d(1, 3).asDiagonal();
  const auto a = gaussian(Eigen::Vector2d::Zero(), s1);
  const auto b = gaussian(Eigen::Vector2d::Zero(), s2);
  for (LinalgBackend backend : {LinalgBackend::kEigen, LinalgBackend::kTorch}) {
    FrechetOptions options;
    options.backend = backend;
    EXPECT_NEAR(frechet_distance(a, b, "a", "b", options).distance, 0.5166852264521173, 1e-13);
    // Symmetric in its arguments.
    EXPECT_NEAR(frechet_distance(b, a, "b", "a", options).distance, 0.5166852264521173, 1e-13);
  }
}

TEST(Frechet, AgreesWithGeneralEigenvaluesWhenPivoting) {
  // Rows of very different scale make the LDL^T pivot; the reference is the
  // sum of square roots of the eigenvalues of S1 S2 from Eigen's general
  // (non-symmetric) eigensolver. 1e-10 relative: both are float64 eigensolves
  // of a matrix with condition number ~1e5.
  std::srand(7);
  const Eigen::Index n = 9;
  const Eigen::MatrixXd a = Eigen::MatrixXd::Random(n, n);
  const Eigen::MatrixXd b = Eigen::MatrixXd::Random(n, n);
  Eigen::VectorXd scales(n);
  scales << 0.1, 3, 0.5, 7, 1, 2, 0.05, 11, 0.3;
  const Eigen::MatrixXd s1 = scales.asDiagonal() * a * a.transpose() * scales.asDiagonal();
  const Eigen::MatrixXd s2 = b * b.transpose();
  const Eigen::VectorXcd eig = Eigen::EigenSolver<Eigen::MatrixXd>(s1 * s2).eigenvalues();
  double expected = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    expected += std::sqrt(eig[i]).real();
  }
  for (LinalgBackend backend : {LinalgBackend::kEigen, LinalgBackend::kTorch}) {
    FrechetOptions options;
    options.backend = backend;
    EXPECT_NEAR(trace_sqrt_product(s1, s2, options).trace_sqrt, expected, 1e-10 * expected);
    EXPECT_NEAR(trace_sqrt_product(s2, s1, options).trace_sqrt, expected, 1e-10 * expected);
  }
}

TEST(Frechet, IdentityCovariances2048) {
  const std::int64_t d = 2048;
  const auto a = gaussian(Eigen::VectorXd::Zero(d), Eigen::MatrixXd::Identity(d, d));
  const auto b = gaussian(Eigen::VectorXd::Ones(d), Eigen::MatrixXd::Identity(d, d));
  const FrechetResult r = frechet_distance(a, b);
  EXPECT_NEAR(r.distance, 2048.0, 2048.0 * 1e-12);
  EXPECT_FALSE(r.offset_applied);
  EXPECT_EQ(r.max_imaginary, 0.0);
}

TEST(Frechet, SemiDefiniteCovarianceWorks) {
  // S1 = diag(1, 0) is singular; tr sqrtm(S1 S2) = sqrt(4) = 2 with S2 = diag(4, 9).
  const auto a = gaussian(Eigen::Vector2d::Zero(), Eigen::Vector2d(1, 0).asDiagonal().toDenseMatrix());
  const auto b = gaussian(Eigen::Vector2d::Zero(), Eigen::Vector2d(4, 9).asDiagonal().toDenseMatrix());
  EXPECT_NEAR(frechet_distance(a, b).distance, 1 + 13 - 4.0, 1e-12);
}

TEST(Frechet, SmallImaginaryPartIsDropped) {
  // An eigenvalue of -1e-8 gives an imaginary part of 1e-4 < 1e-3: kept real.
  const auto a = gaussian(Eigen::Vector2d::Zero(), Eigen::Matrix2d::Identity());
  const auto b = gaussian(Eigen::Vector2d::Zero(), Eigen::Vector2d(1, -1e-8).asDiagonal().toDenseMatrix());
  for (LinalgBackend backend : {LinalgBackend::kEigen, LinalgBackend::kTorch}) {
    FrechetOptions options;
    options.backend = backend;
    const FrechetResult r = frechet_distance(a, b, "a", "b", options);
    EXPECT_NEAR(r.max_imaginary, 1e-4, 1e-12);
    EXPECT_NEAR(r.trace_sqrt, 1.0, 1e-12);
  }
}

TEST(Frechet, LargeImaginaryPartIsAnError) {
  // Eigenvalues 1 and -1 spread over the diagonal by a rotation: 1/2 each.
  const auto a = gaussian(Eigen::Vector2d::Zero(), Eigen::Matrix2d::Identity());
  Eigen::Matrix2d indefinite;
  indefinite << 0, 1, 1, 0;
  const auto b = gaussian(Eigen::Vector2d::Zero(), indefinite);
  for (LinalgBackend backend : {LinalgBackend::kEigen, LinalgBackend::kTorch}) {
    FrechetOptions options;
    options.backend = backend;
    try {
      frechet_distance(a, b, "a", "b", options);
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kNumeric);
      EXPECT_NE(std::string(e.what()).find("imaginary component 0.5 "), std::string::npos) << e.what();
    }
  }
}

TEST(Frechet, FewerVectorsThanDimensionsIsAnErrorWithCounts) {
  auto a = gaussian(Eigen::VectorXd::Zero(4), Eigen::MatrixXd::Identity(4, 4));
  const auto b = a;
  a.count = 3;
  try {
    frechet_distance(a, b, "pool_3 of samples.npz", "ref.npz");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNumeric);
    EXPECT_NE(std::string(e.what()).find("pool_3 of samples.npz: 3 feature vectors for 4 dimensions"),
              std::string::npos)
        << e.what();
  }
}

TEST(Frechet, MismatchedDimensionsAndAsymmetryAreErrors) {
  const auto a = gaussian(Eigen::VectorXd::Zero(2), Eigen::MatrixXd::Identity(2, 2));
  const auto b = gaussian(Eigen::VectorXd::Zero(3), Eigen::MatrixXd::Identity(3, 3));
  EXPECT_THROW(frechet_distance(a, b), Error);
  Eigen::Matrix2d skew;
  skew << 1, 0.5, 0, 1;
  EXPECT_THROW(frechet_distance(a, gaussian(Eigen::VectorXd::Zero(2), skew)), Error);
}

}  // namespace
}  // namespace sagbench::eval
