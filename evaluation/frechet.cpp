// Frechet distance (see frechet.h). float64 throughout (Eigen). The square
// root's trace comes from the eigenvalues of C = B^T S2 B with S1 = B B^T from
// a pivoted LDL^T: C is similar to S1 S2, symmetric and positive semi-definite,
// so a symmetric eigensolver suffices (no Schur form). The imaginary check is
// made on the diagonal of sqrtm(C); its sum equals the imaginary part of
// tr sqrtm(S1 S2), and eigenvectors are only computed when that sum exceeds
// the 1e-3 bound (the largest diagonal entry cannot exceed the sum).
#include "evaluation/frechet.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace sagbench::eval {

namespace {

constexpr double kImaginaryBound = 1e-3;  // np.allclose(diag.imag, 0, atol=1e-3)
// Relative size of a negative LDL^T pivot that is still rounding (a covariance
// stored in float32 carries ~1e-7 relative error).
constexpr double kSemiDefiniteSlack = 1e-6;

struct SqrtAttempt {
  bool ok = false;
  FrechetResult result;
};

void check_covariance(const Eigen::MatrixXd& s, const std::string& what) {
  const double scale = std::max(1.0, s.cwiseAbs().maxCoeff());
  const double asymmetry = (s - s.transpose()).cwiseAbs().maxCoeff();
  SAG_REQUIRE(asymmetry <= 1e-6 * scale, kNumeric,
              "{}: the covariance is not symmetric (max |S - S^T| = {:.3g})", what, asymmetry);
}

SqrtAttempt try_trace_sqrt(const Eigen::MatrixXd& s1, const Eigen::MatrixXd& s2) {
  SqrtAttempt attempt;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(s1);
  if (ldlt.info() != Eigen::Success) {
    return attempt;
  }
  Eigen::VectorXd pivots = ldlt.vectorD();
  const double largest = std::max(pivots.maxCoeff(), 0.0);
  SAG_REQUIRE(pivots.minCoeff() >= -kSemiDefiniteSlack * std::max(largest, 1e-300), kNumeric,
              "the first covariance is not positive semi-definite (LDL^T pivot {:.3g}, largest {:.3g})",
              pivots.minCoeff(), largest);
  const Eigen::VectorXd root_d = pivots.cwiseMax(0.0).cwiseSqrt();

  // C = D^1/2 L^T (P S2 P^T) L D^1/2.
  const Eigen::PermutationMatrix<Eigen::Dynamic> p(ldlt.transpositionsP());
  const Eigen::MatrixXd permuted = p * s2 * p.transpose();
  Eigen::MatrixXd c = ldlt.matrixU() * (permuted * ldlt.matrixL());
  c = root_d.asDiagonal() * c * root_d.asDiagonal();
  c = 0.5 * (c + c.transpose()).eval();

  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(c, Eigen::EigenvaluesOnly);
  if (eigen.info() != Eigen::Success || !eigen.eigenvalues().allFinite()) {
    return attempt;
  }
  const Eigen::VectorXd& mu = eigen.eigenvalues();
  double real_trace = 0.0;
  double imaginary_trace = 0.0;
  for (Eigen::Index j = 0; j < mu.size(); ++j) {
    (mu[j] >= 0.0 ? real_trace : imaginary_trace) += std::sqrt(std::abs(mu[j]));
  }
  double max_imaginary = imaginary_trace;
  if (imaginary_trace > kImaginaryBound) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> full(c, Eigen::ComputeEigenvectors);
    if (full.info() != Eigen::Success) {
      return attempt;
    }
    const Eigen::VectorXd imag_root = (-full.eigenvalues()).cwiseMax(0.0).cwiseSqrt();
    max_imaginary = (full.eigenvectors().cwiseAbs2() * imag_root).maxCoeff();
  }
  if (!std::isfinite(real_trace) || !std::isfinite(max_imaginary)) {
    return attempt;
  }
  attempt.ok = true;
  attempt.result.trace_sqrt = real_trace;
  attempt.result.max_imaginary = max_imaginary;
  return attempt;
}

}  // namespace

FrechetResult trace_sqrt_product(const Eigen::MatrixXd& s1, const Eigen::MatrixXd& s2, double eps) {
  SAG_CHECK(s1.rows() == s1.cols() && s2.rows() == s2.cols() && s1.rows() == s2.rows(),
            "square matrices of one size");
  SqrtAttempt attempt = try_trace_sqrt(s1, s2);
  if (!attempt.ok) {
    const Eigen::MatrixXd offset = eps * Eigen::MatrixXd::Identity(s1.rows(), s1.cols());
    attempt = try_trace_sqrt(s1 + offset, s2 + offset);
    SAG_REQUIRE(attempt.ok, kNumeric, "tr sqrtm(S1 S2) is not finite even after adding {} to the diagonals",
                eps);
    attempt.result.offset_applied = true;
  }
  SAG_REQUIRE(attempt.result.max_imaginary <= kImaginaryBound, kNumeric,
              "tr sqrtm(S1 S2): imaginary component {:.6g} on the diagonal exceeds {}",
              attempt.result.max_imaginary, kImaginaryBound);
  return attempt.result;
}

FrechetResult frechet_distance(const GaussianStatistics& a, const GaussianStatistics& b,
                               const std::string& what_a, const std::string& what_b, double eps) {
  SAG_REQUIRE(a.dim() > 0 && a.covariance.rows() == a.dim() && a.covariance.cols() == a.dim(), kShape,
              "{}: mean of {} and covariance of {}x{} disagree", what_a, a.dim(), a.covariance.rows(),
              a.covariance.cols());
  SAG_REQUIRE(b.dim() > 0 && b.covariance.rows() == b.dim() && b.covariance.cols() == b.dim(), kShape,
              "{}: mean of {} and covariance of {}x{} disagree", what_b, b.dim(), b.covariance.rows(),
              b.covariance.cols());
  SAG_REQUIRE(a.dim() == b.dim(), kShape, "Frechet distance of {}-d {} and {}-d {}: dimensions differ",
              a.dim(), what_a, b.dim(), what_b);
  for (const auto* s : {&a, &b}) {
    const std::string& what = s == &a ? what_a : what_b;
    SAG_REQUIRE(s->count == 0 || s->count > s->dim(), kNumeric,
                "{}: {} feature vectors for {} dimensions: the covariance is singular (rank <= {}); the "
                "Frechet distance needs at least {} vectors",
                what, s->count, s->dim(), s->count - 1, s->dim() + 1);
    check_covariance(s->covariance, what);
  }
  FrechetResult result = trace_sqrt_product(a.covariance, b.covariance, eps);
  const double mean_term = (a.mean - b.mean).squaredNorm();
  result.distance = mean_term + a.covariance.trace() + b.covariance.trace() - 2.0 * result.trace_sqrt;
  return result;
}

}  // namespace sagbench::eval
