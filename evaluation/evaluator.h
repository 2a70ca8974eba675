// The evaluator: metrics of a sample set against a reference set with the
// semantics of guided-diffusion's evaluations/evaluator.py (main(): IS of the
// samples, FID and sFID of sample vs reference statistics, precision and
// recall of the pool features). Either side may be an image npz (arr_0), a
// feature npz (sagbench features / ref) or a statistics npz (mu, sigma,
// mu_s, sigma_s, as ADM's reference batches); statistics in a file are used
// when present, exactly as upstream's read_statistics does. Numbers carry the
// evaluator's names; torch-fidelity's are documented aliases.
// Tested by tests/evaluation/evaluator_test.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "evaluation/evaluator_config.h"
#include "evaluation/feature_set.h"
#include "evaluation/frechet.h"
#include "evaluation/inception_score.h"
#include "evaluation/precision_recall.h"
#include "evaluation/statistics.h"

namespace sagbench::eval {

struct MetricSelection {
  bool inception_score = true;
  bool fid = true;
  bool sfid = true;
  bool precision_recall = true;
};

// From names: inception_score, fid, sfid, precision, recall (either of the
// last two selects both), all; torch-fidelity aliases are accepted. An unknown
// name is a kConfig error listing the known ones.
MetricSelection parse_metric_selection(const std::vector<std::string>& names);

// torch-fidelity's key for each of our names (metrics.json "aliases").
nlohmann::json torch_fidelity_aliases();

// Builds the configured extractor on first use only (feature and statistics
// files need no network).
class LazyExtractor {
 public:
  explicit LazyExtractor(EvaluatorConfig config) : config_(std::move(config)) {}
  FeatureExtractor& get();
  bool built() const { return extractor_ != nullptr; }
  const EvaluatorConfig& config() const { return config_; }

 private:
  EvaluatorConfig config_;
  std::unique_ptr<FeatureExtractor> extractor_;
};

struct InputNeeds {
  bool pool_statistics = false;
  bool spatial_statistics = false;
  bool pool_features = false;
  bool logits = false;
};

// One side of an evaluation, reduced to what the metrics need.
struct ResolvedInput {
  std::string path;
  std::string role;  // "samples", "reference", "A", "B"
  std::optional<GaussianStatistics> pool_statistics, spatial_statistics;
  std::string pool_statistics_source, spatial_statistics_source;
  at::Tensor pool;                            // (N, 2048) when asked for
  at::Tensor logits_unbiased;                 // (N, 1008) when asked for
  std::int64_t count = 0;                     // images or feature vectors behind it (0: statistics only)
  std::optional<FeatureProvenance> features;  // how its features were made, when it has any
};

// Reads what `needs` asks of the npz at `path`: statistics from mu/sigma
// (mu_s/sigma_s) when present, features from a feature npz, otherwise from
// its images (arr_0) through the extractor (with the configured cache).
// Anything that cannot be had (e.g. precision/recall of a statistics-only
// file) is a kFormat error naming the file, the metric and what it holds.
ResolvedInput resolve_input(const std::string& path, const std::string& role, const InputNeeds& needs,
                            LazyExtractor& extractor);

struct EvaluationReport {
  std::optional<InceptionScore> inception_score;
  std::optional<FrechetResult> fid;
  std::optional<FrechetResult> sfid;
  std::optional<PrecisionRecall> precision_recall;
  ResolvedInput samples;
  ResolvedInput reference;
  std::optional<FeatureProvenance> extractor;  // the features' network, when any were used
};

EvaluationReport evaluate(const std::string& samples_path, const std::string& reference_path,
                          const EvaluatorConfig& config, const MetricSelection& metrics = {});

// The metrics of two sides already resolved: evaluate() is resolve_input for
// each side plus this; the distributed evaluator (src/distributed/
// parallel_eval.h) gathers the samples' features from every rank instead.
EvaluationReport evaluate_resolved(ResolvedInput samples, ResolvedInput reference, const EvaluatorConfig& config,
                                   const MetricSelection& metrics = {});

// metrics.json: values under the evaluator's names, counts, inputs, the
// extractor (name, weights sha256, preprocessing, precision), distance
// precision, settings and the aliases; the caller adds provenance.
nlohmann::json report_json(const EvaluationReport& report, const EvaluatorConfig& config);
// A human table: one "name  value" line per metric.
std::string format_report(const EvaluationReport& report);

}  // namespace sagbench::eval
