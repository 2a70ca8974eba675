// Evaluator settings (configs/evaluators/*.yaml, `evaluator:` in experiments,
// and the flags of `sagbench eval/ref/fid/features`). Defaults reproduce the
// ADM evaluator (guided-diffusion evaluations/evaluator.py): adm
// preprocessing, batch 64, IS splits of 5000, k = 3, 10k distance blocks; the
// distance precision defaults to fp32 (ADM's fallback path), fp16 is ADM's
// primary path. Tested by tests/evaluation/evaluator_config_test.cpp.
#pragma once

#include <cstdint>
#include <string>

namespace sagbench::eval {

struct EvaluatorConfig {
  std::string extractor = "fid-inception";
  std::string weights;  // pytorch-fid's pt_inception-2015-12-05-6726825d.pth for fid-inception
  std::string mode = "adm";
  std::string device = "cpu";
  std::string precision = "fp32";
  std::int64_t batch_size = 64;
  std::string distance_precision = "fp32";
  std::int64_t pr_k = 3;
  std::int64_t pr_block = 10000;
  std::int64_t is_split_size = 5000;
  std::string cache_dir;

  template <class V>
  void visit(V& v) {
    v("extractor", extractor, "feature extractor: fid-inception, or a registered domain network");
    v("weights", weights,
      "weights file of the extractor (fid-inception: pytorch-fid's pt_inception-2015-12-05-6726825d.pth)");
    v.choice("mode", mode, {"adm", "pytorch-fid"},
             "preprocessing: adm (TF1 resize, (x-128)/128) or pytorch-fid (half-pixel bilinear, 2x-1)");
    v("device", device, "torch device of the extractor and distance blocks: cpu, cuda, cuda:N");
    v.choice("precision", precision, {"fp32", "tf32", "fp16"},
             "network arithmetic: fp32 (reference, TF32 off), tf32 or fp16 (CUDA only; labelled)");
    v("batch_size", batch_size, "images per forward pass");
    v.choice("distance_precision", distance_precision, {"fp32", "fp16", "fp64"},
             "precision/recall distance blocks: fp32, fp16 (ADM's primary path) or fp64");
    v("pr_k", pr_k,
      "precision/recall neighbourhood size k (radius = (k+1)-th smallest distance, self included)");
    v("pr_block", pr_block, "rows and columns per precision/recall distance block");
    v("is_split_size", is_split_size, "Inception Score split size (consecutive predictions)");
    v("cache_dir", cache_dir, "feature cache directory (empty: no cache)");
  }
  // Cross-field checks (kConfig): positive sizes and k.
  void validate() const;
};

}  // namespace sagbench::eval
