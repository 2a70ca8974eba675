// Frechet distance between two Gaussians (FID, sFID):
//   d^2 = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr sqrtm(S1 S2)
// with the semantics of guided-diffusion's FIDStatistics.frechet_distance
// (itself TTUR's): if the square root is not finite, 1e-6 is added to both
// diagonals and it is redone; an imaginary part above 1e-3 on the diagonal of
// the square root is an error, a smaller one is dropped. Tested by
// tests/evaluation/frechet_test.cpp (REFERENCE.md §4 closed forms, fixture).
#pragma once

#include <cstdint>
#include <string>

#include "evaluation/statistics.h"

namespace sagbench::eval {

struct FrechetResult {
  double distance = 0.0;
  double trace_sqrt = 0.0;      // real part of tr sqrtm(S1 S2)
  double max_imaginary = 0.0;   // largest |imaginary part| on the diagonal of the square root
  bool offset_applied = false;  // the 1e-6 * I fallback was needed
};

// Where the float64 eigensolves run: Eigen on the host, or LibTorch (LAPACK,
// cuSOLVER) on `device`. kAuto: LibTorch on CUDA devices and on MKL builds,
// Eigen otherwise (LibTorch on a reference LAPACK is several times slower).
enum class LinalgBackend { kAuto, kEigen, kTorch };

struct FrechetOptions {
  double eps = 1e-6;  // the diagonal offset of the non-finite fallback
  LinalgBackend backend = LinalgBackend::kAuto;
  at::Device device = at::kCPU;
};

// tr sqrtm(S1 S2) in the eigenvalue form: S1 = B B^T (pivoted LDL^T, so a
// semi-definite S1 works), the eigenvalues of S1 S2 are those of the symmetric
// C = B^T S2 B, and tr sqrtm = sum sqrt(eig C). Negative eigenvalues (rounding)
// give the imaginary part. Agrees with scipy's Schur-based sqrtm to ~1e-11
// relative on well-conditioned inputs.
FrechetResult trace_sqrt_product(const Eigen::MatrixXd& s1, const Eigen::MatrixXd& s2,
                                 const FrechetOptions& options = {});

// The Frechet distance. Mismatched dimensions, non-symmetric or indefinite
// covariances, and statistics from fewer vectors than dimensions (singular
// covariance; the error gives both counts) are kShape/kNumeric errors naming
// `what_a` / `what_b`.
FrechetResult frechet_distance(const GaussianStatistics& a, const GaussianStatistics& b,
                               const std::string& what_a = "statistics A",
                               const std::string& what_b = "statistics B",
                               const FrechetOptions& options = {});

}  // namespace sagbench::eval
