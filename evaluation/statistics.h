// Gaussian statistics of features (mean, covariance with ddof 1, float64), as
// np.mean / np.cov(rowvar=False) in guided-diffusion's
// Evaluator.compute_statistics, accumulated in batches so features can be
// streamed and partial statistics merged across processes (Chan, Golub and
// LeVeque's pairwise update: exact up to float64 rounding, no E[x^2]-E[x]^2
// cancellation). Tested by tests/evaluation/statistics_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <Eigen/Dense>
#include <cstdint>
#include <string>

namespace sagbench::eval {

struct GaussianStatistics {
  Eigen::VectorXd mean;
  Eigen::MatrixXd covariance;
  // Number of feature vectors behind the statistics; 0 when unknown (read
  // from a reference file that carries only mu/sigma).
  std::int64_t count = 0;

  std::int64_t dim() const { return mean.size(); }
};

class MomentAccumulator {
 public:
  // `what` names the features in errors ("pool_3 of samples.npz").
  explicit MomentAccumulator(std::int64_t dim, std::string what = "features");

  // Adds a (n, dim) batch of any floating dtype on any device (copied to the
  // host in float64). Non-finite values are a kNumeric error naming the row.
  void add(const at::Tensor& batch);
  // Merges statistics accumulated elsewhere (another rank, another file).
  void merge(const MomentAccumulator& other);

  std::int64_t count() const { return count_; }
  std::int64_t dim() const { return dim_; }
  // Mean and covariance (ddof 1); needs at least 2 vectors.
  GaussianStatistics finish() const;

 private:
  std::int64_t dim_;
  std::string what_;
  std::int64_t count_ = 0;
  Eigen::VectorXd mean_;
  Eigen::MatrixXd scatter_;  // sum of (x - mean)(x - mean)^T, lower triangle kept
};

// Statistics of a whole (n, dim) feature matrix.
GaussianStatistics compute_statistics(const at::Tensor& features, const std::string& what = "features");

// Converts to / from tensors (float64 CPU): mean (D), covariance (D, D).
at::Tensor to_tensor(const Eigen::VectorXd& v);
at::Tensor to_tensor(const Eigen::MatrixXd& m);
// Validates shapes (mean 1-D of D, sigma D x D, both finite) and converts;
// `what` names the file and arrays in errors.
GaussianStatistics statistics_from_tensors(const at::Tensor& mean, const at::Tensor& covariance,
                                           const std::string& what);

}  // namespace sagbench::eval
