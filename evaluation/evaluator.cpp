// The evaluator (see evaluator.h): resolving each side to statistics and
// features, the metrics, and their JSON / text forms.
#include "evaluation/evaluator.h"

#include <fmt/format.h>

#include <map>
#include <tuple>

#include "core/error.h"
#include "evaluation/inception_extractor.h"
#include "evaluation/sha256.h"
#include "io/npz.h"

namespace sagbench::eval {

namespace {

// Our name -> torch-fidelity's key (None where torch-fidelity has no such metric).
const std::vector<std::pair<std::string, std::string>> kAliases = {
    {"inception_score", "inception_score_mean"},
    {"inception_score_std", "inception_score_std"},
    {"fid", "frechet_inception_distance"},
    {"sfid", ""},
    {"precision", "precision"},
    {"recall", "recall"}};

GaussianStatistics read_statistics(io::NpzReader& reader, const std::string& mean_name,
                                   const std::string& covariance_name) {
  return statistics_from_tensors(reader.read(mean_name), reader.read(covariance_name),
                                 fmt::format("{} ({}, {})", reader.path(), mean_name, covariance_name));
}

// The features' network must be the configured one: the same preprocessing
// for Inception-style extractors (whose preprocessing is the `mode`), the same
// extractor for those with their own fixed preprocessing (the Fashion-MNIST
// feature network), and the same weights when a weights file is configured.
void check_features_match_config(const FeatureProvenance& p, const std::string& path,
                                 const EvaluatorConfig& config) {
  if (p.preprocessing == "adm" || p.preprocessing == "pytorch-fid") {
    SAG_REQUIRE(p.preprocessing == config.mode, kConfig,
                "{}: its features were made with '{}' preprocessing but the evaluator is set to '{}' (mode)",
                path, p.preprocessing, config.mode);
  } else {
    SAG_REQUIRE(p.extractor == config.extractor, kConfig,
                "{}: its features were made by '{}' ({} preprocessing) but the evaluator's extractor is '{}'",
                path, p.extractor, p.preprocessing, config.extractor);
  }
  if (!config.weights.empty()) {
    const std::string sha = sha256_file(config.weights);
    SAG_REQUIRE(p.weights_sha256 == sha, kConfig,
                "{}: its features were made with weights sha256 {} but the configured weights {} have {}",
                path, p.weights_sha256, config.weights, sha);
  }
}

}  // namespace

MetricSelection parse_metric_selection(const std::vector<std::string>& names) {
  MetricSelection m{false, false, false, false};
  for (const std::string& name : names) {
    if (name == "all") {
      m = MetricSelection{};
    } else if (name == "inception_score" || name == "is" || name == "inception_score_mean") {
      m.inception_score = true;
    } else if (name == "fid" || name == "frechet_inception_distance") {
      m.fid = true;
    } else if (name == "sfid") {
      m.sfid = true;
    } else if (name == "precision" || name == "recall") {
      m.precision_recall = true;
    } else {
      SAG_FAIL(kConfig, "unknown metric '{}' (known: inception_score, fid, sfid, precision, recall, all)",
               name);
    }
  }
  SAG_REQUIRE(m.inception_score || m.fid || m.sfid || m.precision_recall, kConfig, "no metric selected");
  return m;
}

nlohmann::json torch_fidelity_aliases() {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [ours, theirs] : kAliases) {
    j[ours] = theirs.empty() ? nlohmann::json(nullptr) : nlohmann::json(theirs);
  }
  return j;
}

FeatureExtractor& LazyExtractor::get() {
  if (!extractor_) {
    extractor_ = make_feature_extractor(config_);
  }
  return *extractor_;
}

ResolvedInput resolve_input(const std::string& path, const std::string& role, const InputNeeds& needs,
                            LazyExtractor& extractor) {
  const EvaluatorConfig& config = extractor.config();
  ResolvedInput r;
  r.path = path;
  r.role = role;
  io::NpzReader reader(path);
  const bool has_stats = reader.contains("mu") && reader.contains("sigma");
  const bool has_spatial_stats = reader.contains("mu_s") && reader.contains("sigma_s");
  const bool has_features = reader.contains(kFeatureMetaArray);
  const bool has_images = reader.contains("arr_0");
  if (needs.pool_statistics && has_stats) {
    r.pool_statistics = read_statistics(reader, "mu", "sigma");
    r.pool_statistics_source = "mu, sigma in file";
  }
  if (needs.spatial_statistics && has_spatial_stats) {
    r.spatial_statistics = read_statistics(reader, "mu_s", "sigma_s");
    r.spatial_statistics_source = "mu_s, sigma_s in file";
  }
  const bool want_pool = needs.pool_features || (needs.pool_statistics && !r.pool_statistics);
  const bool want_spatial = needs.spatial_statistics && !r.spatial_statistics;
  const bool want_logits = needs.logits;

  FeatureSet features;
  auto missing = [&]() {
    std::vector<std::string> m;
    if (want_pool && !features.pool.defined())
      m.push_back("pool");
    if (want_spatial && !features.spatial.defined())
      m.push_back("spatial");
    if (want_logits && !features.logits_unbiased.defined())
      m.push_back("logits_unbiased");
    return m;
  };
  if (has_features && (want_pool || want_spatial || want_logits)) {
    features = read_feature_npz(path);
    check_features_match_config(features.provenance, path, config);
  }
  if (!missing().empty()) {
    SAG_REQUIRE(
        has_images, kFormat,
        "{} {}: the selected metrics need its {} features, but it has neither those nor images (arr_0); "
        "it holds: {}{}",
        role, path, fmt::join(missing(), ", "), fmt::join(reader.names(), ", "),
        needs.pool_features && !has_features
            ? " (precision/recall need per-image features: a statistics-only file cannot give them)"
            : "");
    // A covariance of fewer images than dimensions is singular: say so before extracting for hours.
    // (A malformed image array is reported by the extraction itself.)
    const io::NpyHeader& header = reader.header("arr_0");
    const bool well_formed = header.dtype == at::kByte && header.shape.size() == 4 &&
                             header.shape[3] == extractor.get().channels();
    const FeatureDims dims = extractor.get().dims();
    const std::int64_t images = well_formed ? header.shape[0] : 0;
    for (const auto& [wanted, dim, name] :
         {std::tuple{want_pool, dims.pool, "pool_3"}, std::tuple{want_spatial, dims.spatial, "spatial"}}) {
      SAG_REQUIRE(!well_formed || !wanted || images > dim, kNumeric,
                  "{} {}: {} images for {}-dimensional {} features: the covariance would be singular; the "
                  "Frechet distance needs at least {} images",
                  role, path, images, dim, name, dim + 1);
    }
    features = cached_npz_features(path, "arr_0", extractor.get(), config.batch_size, config.cache_dir);
  }
  if (features.count > 0) {
    r.features = features.provenance;
    r.count = features.count;
  }
  if (want_pool) {
    r.pool_statistics = compute_statistics(features.pool, "pool_3 features of " + path);
    r.pool_statistics_source = fmt::format("computed from {} feature vectors", features.count);
  } else if (r.pool_statistics && features.pool.defined()) {
    r.pool_statistics->count = features.pool.size(0);  // our reference files keep their features
  }
  if (want_spatial) {
    r.spatial_statistics = compute_statistics(features.spatial, "spatial features of " + path);
    r.spatial_statistics_source = fmt::format("computed from {} feature vectors", features.count);
  }
  if (needs.pool_features) {
    r.pool = features.pool;
  }
  if (needs.logits) {
    r.logits_unbiased = features.logits_unbiased;
  }
  return r;
}

EvaluationReport evaluate(const std::string& samples_path, const std::string& reference_path,
                          const EvaluatorConfig& config, const MetricSelection& metrics) {
  config.validate();
  LazyExtractor extractor(config);
  InputNeeds sample_needs{metrics.fid, metrics.sfid, metrics.precision_recall, metrics.inception_score};
  InputNeeds reference_needs{metrics.fid, metrics.sfid, metrics.precision_recall, false};
  ResolvedInput samples = resolve_input(samples_path, "samples", sample_needs, extractor);
  ResolvedInput reference = resolve_input(reference_path, "reference", reference_needs, extractor);
  return evaluate_resolved(std::move(samples), std::move(reference), config, metrics);
}

EvaluationReport evaluate_resolved(ResolvedInput samples, ResolvedInput reference,
                                   const EvaluatorConfig& config, const MetricSelection& metrics) {
  EvaluationReport report;
  report.samples = std::move(samples);
  report.reference = std::move(reference);
  const std::string& samples_path = report.samples.path;
  const std::string& reference_path = report.reference.path;
  if (report.samples.features && report.reference.features) {
    SAG_REQUIRE(report.samples.features->same_extractor(*report.reference.features), kConfig,
                "features of {} ({}) and of {} ({}) come from different extractors", samples_path,
                report.samples.features->describe_extractor(), reference_path,
                report.reference.features->describe_extractor());
  }
  report.extractor = report.samples.features ? report.samples.features : report.reference.features;

  if (metrics.inception_score) {
    report.inception_score =
        inception_score_from_logits(report.samples.logits_unbiased, config.is_split_size);
  }
  if (metrics.fid) {
    report.fid =
        frechet_distance(*report.samples.pool_statistics, *report.reference.pool_statistics,
                         "pool_3 statistics of " + samples_path, "pool_3 statistics of " + reference_path);
  }
  if (metrics.sfid) {
    report.sfid =
        frechet_distance(*report.samples.spatial_statistics, *report.reference.spatial_statistics,
                         "spatial statistics of " + samples_path, "spatial statistics of " + reference_path);
  }
  if (metrics.precision_recall) {
    PrecisionRecallOptions options;
    options.k = config.pr_k;
    options.row_block = config.pr_block;
    options.col_block = config.pr_block;
    options.precision = parse_distance_precision(config.distance_precision);
    options.device = parse_device(config.device);
    report.precision_recall = precision_recall(report.reference.pool, report.samples.pool, options);
  }
  return report;
}

namespace {

nlohmann::json input_json(const ResolvedInput& r) {
  nlohmann::json j = {{"path", r.path}, {"count", r.count}};
  if (r.pool_statistics) {
    j["pool_statistics"] = r.pool_statistics_source;
  }
  if (r.spatial_statistics) {
    j["spatial_statistics"] = r.spatial_statistics_source;
  }
  if (r.features) {
    j["features"] = r.features->to_json();
  }
  return j;
}

}  // namespace

nlohmann::json report_json(const EvaluationReport& report, const EvaluatorConfig& config) {
  nlohmann::json values = nlohmann::json::object();
  nlohmann::json details = nlohmann::json::object();
  if (report.inception_score) {
    values["inception_score"] = report.inception_score->mean;
    values["inception_score_std"] = report.inception_score->std;
    details["inception_score"] = {{"splits", report.inception_score->splits},
                                  {"split_size", config.is_split_size},
                                  {"logits", "pool_3 . W^T without bias, softmax over 1008 classes"}};
  }
  for (const auto& [name, result] : {std::pair{"fid", &report.fid}, std::pair{"sfid", &report.sfid}}) {
    if (*result) {
      values[name] = (*result)->distance;
      details[name] = {{"offset_applied", (*result)->offset_applied},
                       {"max_imaginary", (*result)->max_imaginary}};
    }
  }
  if (report.precision_recall) {
    values["precision"] = report.precision_recall->precision;
    values["recall"] = report.precision_recall->recall;
    details["precision_recall"] = {
        {"k", config.pr_k},
        {"block", config.pr_block},
        {"distance_precision", distance_precision_name(report.precision_recall->distance_precision)},
        {"fp16_fallback_blocks", report.precision_recall->fp16_fallback_blocks}};
  }
  nlohmann::json j = {{"metrics", values},
                      {"details", details},
                      {"sample_count", report.samples.count},
                      {"reference_count", report.reference.count},
                      {"samples", input_json(report.samples)},
                      {"reference", input_json(report.reference)},
                      {"aliases", {{"torch-fidelity", torch_fidelity_aliases()}}},
                      {"evaluator",
                       {{"semantics", "guided-diffusion evaluations/evaluator.py"},
                        {"extractor", config.extractor},
                        {"weights", config.weights},
                        {"preprocessing", config.mode},
                        {"device", config.device},
                        {"batch_size", config.batch_size}}}};
  if (report.extractor) {
    j["evaluator"]["network"] = report.extractor->extractor;
    j["evaluator"]["weights_sha256"] = report.extractor->weights_sha256;
    j["evaluator"]["compute_precision"] = report.extractor->compute_precision;
    // The network's own preprocessing: `mode` only applies to Inception-style extractors.
    j["evaluator"]["preprocessing"] = report.extractor->preprocessing;
  }
  return j;
}

std::string format_report(const EvaluationReport& report) {
  std::string out;
  auto line = [&](const char* name, double value) { out += fmt::format("{:<16} {:.6g}\n", name, value); };
  if (report.inception_score) {
    line("inception_score", report.inception_score->mean);
    line("  (std)", report.inception_score->std);
  }
  if (report.fid) {
    line("fid", report.fid->distance);
  }
  if (report.sfid) {
    line("sfid", report.sfid->distance);
  }
  if (report.precision_recall) {
    line("precision", report.precision_recall->precision);
    line("recall", report.precision_recall->recall);
  }
  return out;
}

}  // namespace sagbench::eval
