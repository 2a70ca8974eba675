// Evaluation of a run's shards by every rank: each rank extracts the features
// (pool_3, the sFID spatial feature, the IS logits) of the shards dealt to it
// round-robin on its own device; rank 0 gathers them (NCCL for CUDA tensors,
// MPI for host ones), puts them back in sample-index order, resolves the
// reference as `sagbench eval` does (statistics in the file, a feature file,
// or images through the feature cache) and computes the metrics with
// eval::evaluate_resolved, so numbers and metrics.json are those of
// `sagbench eval` on the merged file. When FID is the only metric, ranks
// send float64 statistics (count, mean, scatter; merged with Chan et al.'s
// pairwise update) instead of features. Tested by
// tests/distributed/parallel_eval_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "config/document.h"
#include "distributed/communicator.h"
#include "distributed/shard_store.h"
#include "evaluation/statistics.h"

namespace sagbench::distributed {

// Keeps the feature extractor and the reference features between the
// configurations of a run (one load each while the evaluator and reference
// stay the same).
class ParallelEvaluator {
 public:
  ParallelEvaluator();
  ~ParallelEvaluator();

  // Called on every rank (a collective); returns {"metrics": {...},
  // "evaluator": {...}, "reference": {...}} on rank 0 and null elsewhere. The
  // experiment's metrics, reference and `evaluator:` section come from
  // `document`; the extractor runs on `device`.
  nlohmann::json evaluate(Communicator& comm, const ShardStore& store, const config::Document& document,
                          at::Device device, const WaitPolicy& wait);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// What a metrics.json must record to be reused: a digest of the metrics asked,
// the reference file (path, size, modification time) and the resolved evaluator.
std::string evaluation_key(const config::Document& document);

// Statistics of the union of two feature sets, exact up to float64 rounding.
eval::GaussianStatistics merge_statistics(const eval::GaussianStatistics& a,
                                          const eval::GaussianStatistics& b);

}  // namespace sagbench::distributed
