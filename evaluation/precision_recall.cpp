// Precision and recall (see precision_recall.h). Distance products run in
// Eigen on the CPU and cuBLAS (TF32 off) on CUDA. Radii keep a running set of
// the k+1 smallest distances per row across column blocks, so a row block never
// needs the full (rows x N) distance matrix that upstream allocates; the value
// selected is the same. Membership is accumulated block by block with `<=`.
#include "evaluation/precision_recall.h"

#include <Eigen/Dense>
#include <algorithm>

#include "core/error.h"

namespace sagbench::eval {

namespace {

// Rounds float32 values to the nearest float16 (overflow becomes +-inf), back in float32.
at::Tensor round_to_half(const at::Tensor& x) {
  return x.to(at::kHalf).to(at::kFloat);
}

template <class Scalar>
at::Tensor eigen_product_transposed(const at::Tensor& a, const at::Tensor& b) {
  using RowMajor = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const at::Tensor ac = a.contiguous();
  const at::Tensor bc = b.contiguous();
  at::Tensor out = at::empty({a.size(0), b.size(0)}, a.options());
  const Eigen::Map<const RowMajor> ma(ac.data_ptr<Scalar>(), a.size(0), a.size(1));
  const Eigen::Map<const RowMajor> mb(bc.data_ptr<Scalar>(), b.size(0), b.size(1));
  Eigen::Map<RowMajor>(out.data_ptr<Scalar>(), a.size(0), b.size(0)).noalias() = ma * mb.transpose();
  return out;
}

// a . b^T accumulated in a's dtype. On the CPU through Eigen's GEMM (LibTorch
// may sit on a reference BLAS there, ~20x slower); on CUDA through cuBLAS with
// TF32 off, so fp32 stays fp32.
at::Tensor product_transposed(const at::Tensor& a, const at::Tensor& b) {
  if (a.is_cpu()) {
    return a.scalar_type() == at::kDouble ? eigen_product_transposed<double>(a, b)
                                          : eigen_product_transposed<float>(a, b);
  }
  const bool tf32 = at::globalContext().allowTF32CuBLAS();
  at::globalContext().setAllowTF32CuBLAS(false);
  at::Tensor out = at::matmul(a, b.t());
  at::globalContext().setAllowTF32CuBLAS(tf32);
  return out;
}

at::Tensor distances_in(const at::Tensor& u, const at::Tensor& v, at::ScalarType type) {
  const at::Tensor a = u.to(type);
  const at::Tensor b = v.to(type);
  const at::Tensor norm_u = (a * a).sum(1).unsqueeze(1);
  const at::Tensor norm_v = (b * b).sum(1).unsqueeze(0);
  return at::clamp_min(norm_u - 2 * product_transposed(a, b) + norm_v, 0.0);
}

// TensorFlow's float16 graph: each op's result is rounded to half; matmul and
// reduce_sum accumulate in float32. Emulated in float32 so that every device
// (and CPUs without half GEMM) gives the same answer.
at::Tensor distances_half(const at::Tensor& u, const at::Tensor& v) {
  const at::Tensor a = round_to_half(u.to(at::kFloat));
  const at::Tensor b = round_to_half(v.to(at::kFloat));
  const at::Tensor norm_u = round_to_half(round_to_half(a * a).sum(1)).unsqueeze(1);
  const at::Tensor norm_v = round_to_half(round_to_half(b * b).sum(1)).unsqueeze(0);
  const at::Tensor twice_product = round_to_half(2 * round_to_half(product_transposed(a, b)));
  const at::Tensor partial = round_to_half(norm_u - twice_product);
  return at::clamp_min(round_to_half(partial + norm_v), 0.0);
}

void check_features(const at::Tensor& x, const std::string& what) {
  SAG_REQUIRE(x.defined() && x.dim() == 2 && x.size(0) > 0 && x.size(1) > 0, kShape,
              "precision/recall: {} features must be a non-empty (N, d) matrix, got {}", what,
              x.defined() ? std::string(c10::str(x.sizes())) : std::string("nothing"));
  SAG_REQUIRE(at::isFloatingType(x.scalar_type()), kFormat,
              "precision/recall: {} features must be floating point", what);
}

void check_options(const PrecisionRecallOptions& o) {
  SAG_REQUIRE(o.k >= 1, kConfig, "precision/recall: k must be >= 1, got {}", o.k);
  SAG_REQUIRE(o.row_block >= 1 && o.col_block >= 1, kConfig, "precision/recall: block sizes must be >= 1");
}

at::ScalarType radius_type(DistancePrecision p) {
  return p == DistancePrecision::kFp64 ? at::kDouble : at::kFloat;
}

}  // namespace

const char* distance_precision_name(DistancePrecision precision) {
  switch (precision) {
    case DistancePrecision::kFp32:
      return "fp32";
    case DistancePrecision::kFp16:
      return "fp16";
    case DistancePrecision::kFp64:
      return "fp64";
  }
  return "?";
}

DistancePrecision parse_distance_precision(const std::string& name) {
  if (name == "fp32") {
    return DistancePrecision::kFp32;
  }
  if (name == "fp16") {
    return DistancePrecision::kFp16;
  }
  if (name == "fp64") {
    return DistancePrecision::kFp64;
  }
  SAG_FAIL(kConfig, "unknown distance precision '{}' (expected fp32, fp16 or fp64)", name);
}

at::Tensor pairwise_squared_distances(const at::Tensor& u, const at::Tensor& v, DistancePrecision precision,
                                      bool* fell_back) {
  if (fell_back != nullptr) {
    *fell_back = false;
  }
  switch (precision) {
    case DistancePrecision::kFp64:
      return distances_in(u, v, at::kDouble);
    case DistancePrecision::kFp32:
      return distances_in(u, v, at::kFloat);
    case DistancePrecision::kFp16: {
      at::Tensor d = distances_half(u, v);
      if (at::isfinite(d).all().item<bool>()) {
        return d;
      }
      if (fell_back != nullptr) {
        *fell_back = true;
      }
      return distances_in(u, v, at::kFloat);
    }
  }
  SAG_CHECK(false, "unhandled distance precision");
  return {};
}

at::Tensor manifold_radii(const at::Tensor& features, const PrecisionRecallOptions& options,
                          std::int64_t* fp16_fallback_blocks) {
  check_features(features, "manifold");
  check_options(options);
  const std::int64_t n = features.size(0);
  const std::int64_t kept = options.k + 1;
  SAG_REQUIRE(n >= kept, kShape, "precision/recall: {} feature vectors, but k = {} needs at least {}", n,
              options.k, kept);
  const at::Tensor x = features.to(options.device);
  at::Tensor radii = at::empty({n}, at::TensorOptions().dtype(radius_type(options.precision)));
  for (std::int64_t r0 = 0; r0 < n; r0 += options.row_block) {
    const at::Tensor rows = x.slice(0, r0, std::min(r0 + options.row_block, n));
    at::Tensor nearest;  // (rows, <= k+1) smallest so far
    for (std::int64_t c0 = 0; c0 < n; c0 += options.col_block) {
      bool fell_back = false;
      const at::Tensor d = pairwise_squared_distances(
          rows, x.slice(0, c0, std::min(c0 + options.col_block, n)), options.precision, &fell_back);
      if (fell_back && fp16_fallback_blocks != nullptr) {
        ++*fp16_fallback_blocks;
      }
      const at::Tensor candidates = nearest.defined() ? at::cat({nearest, d}, 1) : d;
      const std::int64_t take = std::min(kept, candidates.size(1));
      nearest = std::get<0>(at::topk(candidates, take, 1, /*largest=*/false, /*sorted=*/true));
    }
    radii.slice(0, r0, r0 + rows.size(0)).copy_(nearest.select(1, options.k));
  }
  return radii;
}

PrecisionRecall precision_recall(const at::Tensor& reference, const at::Tensor& samples,
                                 const PrecisionRecallOptions& options) {
  check_features(reference, "reference");
  check_features(samples, "sample");
  check_options(options);
  SAG_REQUIRE(reference.size(1) == samples.size(1), kShape,
              "precision/recall: reference features are {}-d but sample features are {}-d", reference.size(1),
              samples.size(1));
  PrecisionRecall out;
  out.distance_precision = options.precision;
  const at::Tensor ref_radii =
      manifold_radii(reference, options, &out.fp16_fallback_blocks).to(options.device);
  const at::Tensor sample_radii =
      manifold_radii(samples, options, &out.fp16_fallback_blocks).to(options.device);
  const at::Tensor ref = reference.to(options.device);
  const at::Tensor smp = samples.to(options.device);
  const std::int64_t n_ref = ref.size(0);
  const std::int64_t n_smp = smp.size(0);
  const auto bool_options = at::TensorOptions().dtype(at::kBool).device(options.device);
  at::Tensor ref_in = at::zeros({n_ref}, bool_options);  // reference on the sample manifold
  at::Tensor smp_in = at::zeros({n_smp}, bool_options);  // sample on the reference manifold
  for (std::int64_t r0 = 0; r0 < n_ref; r0 += options.row_block) {
    const std::int64_t r1 = std::min(r0 + options.row_block, n_ref);
    for (std::int64_t c0 = 0; c0 < n_smp; c0 += options.col_block) {
      const std::int64_t c1 = std::min(c0 + options.col_block, n_smp);
      bool fell_back = false;
      const at::Tensor d = pairwise_squared_distances(ref.slice(0, r0, r1), smp.slice(0, c0, c1),
                                                      options.precision, &fell_back);
      if (fell_back) {
        ++out.fp16_fallback_blocks;
      }
      ref_in.slice(0, r0, r1).logical_or_(d.le(sample_radii.slice(0, c0, c1).unsqueeze(0)).any(1));
      smp_in.slice(0, c0, c1).logical_or_(d.le(ref_radii.slice(0, r0, r1).unsqueeze(1)).any(0));
    }
  }
  out.precision = smp_in.to(at::kDouble).mean().item<double>();
  out.recall = ref_in.to(at::kDouble).mean().item<double>();
  return out;
}

}  // namespace sagbench::eval
