// Frechet distance (see frechet.h). float64 throughout. The square root's
// trace comes from the eigenvalues of C = B^T S2 B with S1 = B B^T: C is
// similar to S1 S2, symmetric and positive semi-definite, so a symmetric
// eigensolver suffices (no Schur form). Two backends: Eigen (pivoted LDL^T;
// the default on CPUs whose LibTorch has no MKL, where LAPACK is the slow
// reference one) and LibTorch (eigh; CUDA devices and MKL builds). The imaginary check is
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

void check_semi_definite(double smallest, double largest) {
  SAG_REQUIRE(
      smallest >= -kSemiDefiniteSlack * std::max(largest, 1e-300), kNumeric,
      "the first covariance is not positive semi-definite (pivot or eigenvalue {:.3g}, largest {:.3g})",
      smallest, largest);
}

// Real and imaginary parts of sum_j sqrt(mu_j).
SqrtAttempt trace_of_roots(const Eigen::VectorXd& mu) {
  SqrtAttempt attempt;
  double imaginary_trace = 0.0;
  for (Eigen::Index j = 0; j < mu.size(); ++j) {
    (mu[j] >= 0.0 ? attempt.result.trace_sqrt : imaginary_trace) += std::sqrt(std::abs(mu[j]));
  }
  attempt.result.max_imaginary = imaginary_trace;
  attempt.ok = std::isfinite(attempt.result.trace_sqrt) && std::isfinite(imaginary_trace);
  return attempt;
}

// The largest |imaginary part| on the diagonal of sqrtm(C) = W diag(sqrt(mu)) W^T.
double max_imaginary_diagonal(const Eigen::VectorXd& mu, const Eigen::MatrixXd& w) {
  const Eigen::VectorXd imag_root = (-mu).cwiseMax(0.0).cwiseSqrt();
  return (w.cwiseAbs2() * imag_root).maxCoeff();
}

// Eigen backend: S1 = P^T L D L^T P (pivoted LDL^T), C = D^1/2 L^T (P S2 P^T) L D^1/2.
SqrtAttempt try_trace_sqrt_eigen(const Eigen::MatrixXd& s1, const Eigen::MatrixXd& s2) {
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(s1);
  if (ldlt.info() != Eigen::Success) {
    return {};
  }
  const Eigen::VectorXd& pivots = ldlt.vectorD();
  check_semi_definite(pivots.minCoeff(), std::max(pivots.maxCoeff(), 0.0));
  const Eigen::VectorXd root_d = pivots.cwiseMax(0.0).cwiseSqrt();
  const Eigen::PermutationMatrix<Eigen::Dynamic> p(ldlt.transpositionsP());
  const Eigen::MatrixXd permuted = p * s2 * p.transpose();
  Eigen::MatrixXd c = ldlt.matrixU() * (permuted * ldlt.matrixL());
  c = root_d.asDiagonal() * c * root_d.asDiagonal();
  c = 0.5 * (c + c.transpose()).eval();

  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(c, Eigen::EigenvaluesOnly);
  if (eigen.info() != Eigen::Success) {
    return {};
  }
  SqrtAttempt attempt = trace_of_roots(eigen.eigenvalues());
  if (attempt.ok && attempt.result.max_imaginary > kImaginaryBound) {
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> full(c, Eigen::ComputeEigenvectors);
    attempt.ok = full.info() == Eigen::Success;
    attempt.result.max_imaginary = max_imaginary_diagonal(full.eigenvalues(), full.eigenvectors());
  }
  return attempt;
}

Eigen::VectorXd to_eigen_vector(const at::Tensor& t) {
  const at::Tensor host = t.to(at::kCPU, at::kDouble).contiguous();
  return Eigen::Map<const Eigen::VectorXd>(host.data_ptr<double>(), host.numel());
}

// LibTorch backend (LAPACK / cuSOLVER): S1 = V diag(l) V^T, B = V diag(sqrt l),
// C = B^T S2 B. An eigensolver failure (c10::Error) counts as non-finite.
SqrtAttempt try_trace_sqrt_torch(const Eigen::MatrixXd& s1, const Eigen::MatrixXd& s2,
                                 const at::Device& device) {
  try {
    const at::Tensor a = to_tensor(s1).to(device);
    const at::Tensor b = to_tensor(s2).to(device);
    const auto [lambda, v] = at::linalg_eigh(a);
    check_semi_definite(lambda.min().item<double>(), std::max(lambda.max().item<double>(), 0.0));
    const at::Tensor root = v * lambda.clamp_min(0.0).sqrt().unsqueeze(0);
    at::Tensor c = at::matmul(root.t(), at::matmul(b, root));
    c = 0.5 * (c + c.t());
    SqrtAttempt attempt = trace_of_roots(to_eigen_vector(at::linalg_eigvalsh(c)));
    if (attempt.ok && attempt.result.max_imaginary > kImaginaryBound) {
      const auto [mu, w] = at::linalg_eigh(c);
      const at::Tensor wt = w.to(at::kCPU).contiguous();  // row-major W: mapped as W^T
      const Eigen::Map<const Eigen::MatrixXd> w_transposed(wt.data_ptr<double>(), wt.size(0), wt.size(1));
      attempt.result.max_imaginary = max_imaginary_diagonal(to_eigen_vector(mu), w_transposed.transpose());
    }
    return attempt;
  } catch (const c10::Error&) {
    return {};
  }
}

bool use_torch(const FrechetOptions& options) {
  switch (options.backend) {
    case LinalgBackend::kEigen:
      return false;
    case LinalgBackend::kTorch:
      return true;
    case LinalgBackend::kAuto:
      return options.device.is_cuda() || at::hasMKL();
  }
  return false;
}

SqrtAttempt try_trace_sqrt(const Eigen::MatrixXd& s1, const Eigen::MatrixXd& s2,
                           const FrechetOptions& options) {
  return use_torch(options) ? try_trace_sqrt_torch(s1, s2, options.device) : try_trace_sqrt_eigen(s1, s2);
}

}  // namespace

FrechetResult trace_sqrt_product(const Eigen::MatrixXd& s1, const Eigen::MatrixXd& s2,
                                 const FrechetOptions& options) {
  SAG_CHECK(s1.rows() == s1.cols() && s2.rows() == s2.cols() && s1.rows() == s2.rows(),
            "square matrices of one size");
  SqrtAttempt attempt = try_trace_sqrt(s1, s2, options);
  if (!attempt.ok) {
    const Eigen::MatrixXd offset = options.eps * Eigen::MatrixXd::Identity(s1.rows(), s1.cols());
    attempt = try_trace_sqrt(s1 + offset, s2 + offset, options);
    SAG_REQUIRE(attempt.ok, kNumeric, "tr sqrtm(S1 S2) is not finite even after adding {} to the diagonals",
                options.eps);
    attempt.result.offset_applied = true;
  }
  SAG_REQUIRE(attempt.result.max_imaginary <= kImaginaryBound, kNumeric,
              "tr sqrtm(S1 S2): imaginary component {:.6g} on the diagonal exceeds {}",
              attempt.result.max_imaginary, kImaginaryBound);
  return attempt.result;
}

FrechetResult frechet_distance(const GaussianStatistics& a, const GaussianStatistics& b,
                               const std::string& what_a, const std::string& what_b,
                               const FrechetOptions& options) {
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
  FrechetResult result = trace_sqrt_product(a.covariance, b.covariance, options);
  const double mean_term = (a.mean - b.mean).squaredNorm();
  result.distance = mean_term + a.covariance.trace() + b.covariance.trace() - 2.0 * result.trace_sqrt;
  return result;
}

}  // namespace sagbench::eval
