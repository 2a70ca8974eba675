// Improved precision and recall (Kynkaanniemi et al. 2019) with the semantics
// of guided-diffusion's ManifoldEstimator / DistanceBlock: squared distances
// |u|^2 - 2 u.v + |v|^2 clamped at 0, computed in blocks; the radius of a point
// is its (k+1)-th smallest squared distance to its own set (the point itself
// included, so k = 3 gives the 4th smallest); a vector is on a manifold when
// its squared distance to some point is <= that point's radius.
// precision = fraction of samples on the reference manifold; recall = fraction
// of references on the sample manifold. Tested by
// tests/evaluation/precision_recall_test.cpp (1-D closed form, fixture).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace sagbench::eval {

// Precision of the distance blocks:
//   fp32: float32 throughout (the ADM evaluator's fallback path; default);
//   fp16: ADM's primary path: inputs, squares, norms, products and sums rounded
//         to float16 as TensorFlow's half graph does (float32 accumulation),
//         falling back to fp32 for any block with an overflow;
//   fp64: float64 throughout (for checks).
enum class DistancePrecision { kFp32, kFp16, kFp64 };

const char* distance_precision_name(DistancePrecision precision);
// "fp32" | "fp16" | "fp64"; anything else is a kConfig error.
DistancePrecision parse_distance_precision(const std::string& name);

struct PrecisionRecallOptions {
  std::int64_t k = 3;              // nearest neighbours (ADM: nhood_sizes=(3,))
  std::int64_t row_block = 10000;  // ADM's row_batch_size
  std::int64_t col_block = 10000;  // ADM's col_batch_size
  DistancePrecision precision = DistancePrecision::kFp32;
  at::Device device = at::kCPU;  // where the distance blocks are computed
};

struct PrecisionRecall {
  double precision = 0.0;
  double recall = 0.0;
  DistancePrecision distance_precision = DistancePrecision::kFp32;
  std::int64_t fp16_fallback_blocks = 0;  // fp16 blocks recomputed in fp32
};

// Pairwise squared distances of u (m, d) and v (n, d) -> (m, n) in float32
// (fp16 / fp32) or float64, on u's device. `fell_back` (optional) reports an
// fp16 block that overflowed and was recomputed in fp32.
at::Tensor pairwise_squared_distances(const at::Tensor& u, const at::Tensor& v, DistancePrecision precision,
                                      bool* fell_back = nullptr);

// Radius of every row of `features` (N, d): the (k+1)-th smallest squared
// distance to the rows of `features`. Returns (N) float32 (float64 for fp64) on the host.
at::Tensor manifold_radii(const at::Tensor& features, const PrecisionRecallOptions& options,
                          std::int64_t* fp16_fallback_blocks = nullptr);

// Precision and recall of `samples` against `reference` (both (N, d) float).
PrecisionRecall precision_recall(const at::Tensor& reference, const at::Tensor& samples,
                                 const PrecisionRecallOptions& options = {});

}  // namespace sagbench::eval
