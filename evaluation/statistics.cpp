// Gaussian statistics of features (see statistics.h). Each batch is centred on
// its own mean and its scatter computed with a symmetric rank-k update in
// float64 (Eigen); batches merge with the pairwise formula
//   mean = ma + d * nb / n,  S = Sa + Sb + d d^T * na * nb / n,  d = mb - ma.
#include "evaluation/statistics.h"

#include <cmath>
#include <utility>

#include "core/error.h"
#include "io/tensor_file.h"

namespace sagbench::eval {

namespace {

using RowMajorMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

MomentAccumulator::MomentAccumulator(std::int64_t dim, std::string what)
    : dim_(dim),
      what_(std::move(what)),
      mean_(Eigen::VectorXd::Zero(dim)),
      scatter_(Eigen::MatrixXd::Zero(dim, dim)) {
  SAG_CHECK(dim > 0, "feature dimension {}", dim);
}

void MomentAccumulator::add(const at::Tensor& batch) {
  SAG_REQUIRE(batch.dim() == 2 && batch.size(1) == dim_, kShape,
              "{}: expected a (n, {}) feature batch, got {}", what_, dim_,
              std::string(c10::str(batch.sizes())));
  SAG_REQUIRE(at::isFloatingType(batch.scalar_type()), kFormat, "{}: features must be floating point, got {}",
              what_, std::string(io::dtype_name(batch.scalar_type())));
  const std::int64_t rows = batch.size(0);
  if (rows == 0) {
    return;
  }
  const at::Tensor host = batch.to(at::kCPU, at::kDouble).contiguous();
  const Eigen::Map<const RowMajorMatrixXd> x(host.data_ptr<double>(), rows, dim_);
  if (!x.allFinite()) {
    Eigen::Index bad_row = 0;
    for (; bad_row < rows && x.row(bad_row).allFinite(); ++bad_row) {
    }
    SAG_FAIL(kNumeric, "{}: row {} of the batch (vector {}) has a NaN or infinite value", what_, bad_row,
             count_ + bad_row);
  }
  const Eigen::VectorXd batch_mean = x.colwise().mean().transpose();
  const Eigen::MatrixXd centred = x.rowwise() - batch_mean.transpose();
  Eigen::MatrixXd batch_scatter = Eigen::MatrixXd::Zero(dim_, dim_);
  batch_scatter.selfadjointView<Eigen::Lower>().rankUpdate(centred.transpose());

  const double na = static_cast<double>(count_);
  const double nb = static_cast<double>(rows);
  const double n = na + nb;
  const Eigen::VectorXd delta = batch_mean - mean_;
  mean_ += delta * (nb / n);
  scatter_ += batch_scatter;
  scatter_.selfadjointView<Eigen::Lower>().rankUpdate(delta, na * nb / n);
  count_ += rows;
}

void MomentAccumulator::merge(const MomentAccumulator& other) {
  SAG_REQUIRE(other.dim_ == dim_, kShape, "cannot merge statistics of {}-d {} into {}-d {}", other.dim_,
              other.what_, dim_, what_);
  if (other.count_ == 0) {
    return;
  }
  const double na = static_cast<double>(count_);
  const double nb = static_cast<double>(other.count_);
  const double n = na + nb;
  const Eigen::VectorXd delta = other.mean_ - mean_;
  mean_ += delta * (nb / n);
  scatter_ += other.scatter_;
  scatter_.selfadjointView<Eigen::Lower>().rankUpdate(delta, na * nb / n);
  count_ += other.count_;
}

GaussianStatistics MomentAccumulator::finish() const {
  SAG_REQUIRE(count_ >= 2, kNumeric, "{}: {} feature vector(s); a covariance needs at least 2", what_,
              count_);
  GaussianStatistics stats;
  stats.mean = mean_;
  stats.covariance = scatter_.selfadjointView<Eigen::Lower>();
  stats.covariance /= static_cast<double>(count_ - 1);
  stats.count = count_;
  return stats;
}

GaussianStatistics compute_statistics(const at::Tensor& features, const std::string& what) {
  SAG_REQUIRE(features.dim() == 2 && features.size(1) > 0, kShape, "{}: expected (n, d) features, got {}",
              what, std::string(c10::str(features.sizes())));
  MomentAccumulator acc(features.size(1), what);
  acc.add(features);
  return acc.finish();
}

at::Tensor to_tensor(const Eigen::VectorXd& v) {
  at::Tensor t = at::empty({v.size()}, at::TensorOptions().dtype(at::kDouble));
  Eigen::Map<Eigen::VectorXd>(t.data_ptr<double>(), v.size()) = v;
  return t;
}

at::Tensor to_tensor(const Eigen::MatrixXd& m) {
  at::Tensor t = at::empty({m.rows(), m.cols()}, at::TensorOptions().dtype(at::kDouble));
  Eigen::Map<RowMajorMatrixXd>(t.data_ptr<double>(), m.rows(), m.cols()) = m;
  return t;
}

GaussianStatistics statistics_from_tensors(const at::Tensor& mean, const at::Tensor& covariance,
                                           const std::string& what) {
  SAG_REQUIRE(mean.dim() == 1 && mean.size(0) > 0, kShape, "{}: mu must be a non-empty vector, got shape {}",
              what, std::string(c10::str(mean.sizes())));
  const std::int64_t dim = mean.size(0);
  SAG_REQUIRE(covariance.dim() == 2 && covariance.size(0) == dim && covariance.size(1) == dim, kShape,
              "{}: sigma must be {} x {} to match mu, got shape {}", what, dim, dim,
              std::string(c10::str(covariance.sizes())));
  SAG_REQUIRE(at::isFloatingType(mean.scalar_type()) && at::isFloatingType(covariance.scalar_type()), kFormat,
              "{}: mu and sigma must be floating point", what);
  const at::Tensor m = mean.to(at::kCPU, at::kDouble).contiguous();
  const at::Tensor c = covariance.to(at::kCPU, at::kDouble).contiguous();
  GaussianStatistics stats;
  stats.mean = Eigen::Map<const Eigen::VectorXd>(m.data_ptr<double>(), dim);
  stats.covariance = Eigen::Map<const RowMajorMatrixXd>(c.data_ptr<double>(), dim, dim);
  SAG_REQUIRE(stats.mean.allFinite() && stats.covariance.allFinite(), kNumeric,
              "{}: mu or sigma has NaN or infinite values", what);
  return stats;
}

}  // namespace sagbench::eval
