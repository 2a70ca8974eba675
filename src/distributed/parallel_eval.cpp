// Parallel feature extraction, gathering and metrics (see parallel_eval.h).
#include "distributed/parallel_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "config/config.h"
#include "core/error.h"
#include "distributed/experiment.h"
#include "distributed/shard_merge.h"
#include "evaluation/evaluator.h"
#include "evaluation/feature_extractor.h"
#include "evaluation/feature_set.h"
#include "evaluation/sha256.h"
#include "io/npz.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Which sample features the selected metrics need.
struct Needs {
  bool pool = false;
  bool spatial = false;
  bool logits = false;
  bool only_fid = false;

  explicit Needs(const eval::MetricSelection& m)
      : pool(m.fid || m.precision_recall),
        spatial(m.sfid),
        logits(m.inception_score),
        only_fid(m.fid && !m.sfid && !m.precision_recall && !m.inception_score) {}
};

// Features of some images, rows in the order extracted (host float32).
struct Features {
  std::vector<at::Tensor> pool, spatial, logits;

  void add(const eval::FeatureBatch& batch, const Needs& needs) {
    if (needs.pool) {
      pool.push_back(batch.pool);
    }
    if (needs.spatial) {
      spatial.push_back(batch.spatial);
    }
    if (needs.logits) {
      logits.push_back(batch.logits_unbiased);
    }
  }
};

// Rows [start, start + count) of `reader`'s arr_0 through the extractor, in batches.
void extract_rows(eval::FeatureExtractor& extractor, io::NpzReader& reader, std::int64_t start,
                  std::int64_t count, std::int64_t batch_size, const Needs& needs, Features& out) {
  for (std::int64_t first = start; first < start + count; first += batch_size) {
    const std::int64_t n = std::min(batch_size, start + count - first);
    const at::Tensor images = reader.read_rows(io::savez_name(0), first, n);
    out.add(extractor.extract(images, fmt::format("{} rows {}..{}", reader.path(), first, first + n)), needs);
  }
}

// Concatenates this rank's rows (dim columns when a rank has none) and gathers them on rank 0.
at::Tensor gather(Communicator& comm, const std::vector<at::Tensor>& parts, std::int64_t dim,
                  at::Device device, const std::string& what, const WaitPolicy& wait) {
  at::Tensor local = parts.empty() ? at::empty({0, dim}, at::kFloat) : at::cat(parts).to(at::kFloat);
  if (comm.backend() == Backend::kNccl) {
    local = local.to(device);  // NCCL carries CUDA tensors
  }
  return comm.gather_rows(local.contiguous(), 0, what, wait);
}

// Float64 count, mean and scatter of rows, as one row: [n, mean (D), scatter (D*D)].
at::Tensor moment_row(const std::vector<at::Tensor>& parts, std::int64_t dim) {
  at::Tensor row = at::zeros({1, 1 + dim + dim * dim}, at::kDouble);
  if (parts.empty()) {
    return row;
  }
  const at::Tensor x = at::cat(parts).to(at::kDouble);
  const at::Tensor mean = x.mean(0);
  const at::Tensor centered = x - mean;
  row[0][0] = static_cast<double>(x.size(0));
  row[0].narrow(0, 1, dim).copy_(mean);
  row[0].narrow(0, 1 + dim, dim * dim).copy_(centered.t().mm(centered).reshape({-1}));
  return row;
}

eval::GaussianStatistics statistics_of_moments(const at::Tensor& rows, std::int64_t dim,
                                               const std::string& what) {
  eval::GaussianStatistics total;
  for (std::int64_t r = 0; r < rows.size(0); ++r) {
    const auto n = static_cast<std::int64_t>(rows[r][0].item<double>());
    if (n == 0) {
      continue;
    }
    eval::GaussianStatistics part;
    part.count = n;
    const at::Tensor mean = rows[r].narrow(0, 1, dim).contiguous();
    const at::Tensor scatter = rows[r].narrow(0, 1 + dim, dim * dim).reshape({dim, dim}).contiguous();
    part.mean = Eigen::Map<const Eigen::VectorXd>(mean.data_ptr<double>(), dim);
    // Row-major scatter read as column-major is its transpose: it is symmetric.
    part.covariance =
        Eigen::Map<const Eigen::MatrixXd>(scatter.data_ptr<double>(), dim, dim) / std::max<double>(n - 1, 1);
    total = total.count == 0 ? part : merge_statistics(total, part);
  }
  SAG_REQUIRE(total.count >= 2, kShape, "{}: statistics need at least 2 feature vectors, got {}", what,
              total.count);
  return total;
}

// The samples' rows put back in sample-index order: rank r holds its shards
// (dealt round-robin) one after the other.
at::Tensor sample_order(const ShardStore& store, int world_size) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(store.plan().num_shards()));
  for (std::size_t k = 0; k < all.size(); ++k) {
    all[k] = static_cast<std::int64_t>(k);
  }
  at::Tensor source_row = at::empty({store.plan().num_samples()}, at::kLong);
  auto* rows = source_row.data_ptr<std::int64_t>();
  std::int64_t gathered = 0;
  for (int r = 0; r < world_size; ++r) {
    for (const std::int64_t k : deal_round_robin(all, r, world_size)) {
      const ShardRange range = store.plan().shard(k);
      for (std::int64_t i = range.begin; i < range.end; ++i) {
        rows[i] = gathered++;
      }
    }
  }
  return source_row;
}

}  // namespace

eval::GaussianStatistics merge_statistics(const eval::GaussianStatistics& a,
                                          const eval::GaussianStatistics& b) {
  SAG_REQUIRE(a.dim() == b.dim(), kShape, "cannot merge statistics of dimension {} and {}", a.dim(), b.dim());
  SAG_REQUIRE(a.count >= 1 && b.count >= 1, kShape, "merging statistics needs their counts (got {} and {})",
              a.count, b.count);
  const double na = static_cast<double>(a.count);
  const double nb = static_cast<double>(b.count);
  const double n = na + nb;
  const Eigen::VectorXd delta = b.mean - a.mean;
  const Eigen::MatrixXd scatter = a.covariance * std::max(na - 1, 0.0) +
                                  b.covariance * std::max(nb - 1, 0.0) +
                                  delta * delta.transpose() * (na * nb / n);
  eval::GaussianStatistics out;
  out.count = a.count + b.count;
  out.mean = a.mean + delta * (nb / n);
  out.covariance = scatter / (n - 1);
  return out;
}

std::string evaluation_key(const config::Document& document) {
  const auto settings = config::bind<ExperimentSettings>(document, "experiment");
  const auto evaluator = config::bind<eval::EvaluatorConfig>(document, "evaluator");
  std::error_code ec;
  const auto size = fs::file_size(settings.reference, ec);
  const auto mtime = fs::last_write_time(settings.reference, ec).time_since_epoch().count();
  return eval::sha256_hex(fmt::format("metrics: {}\nreference: {} {} {}\n{}",
                                      fmt::join(settings.metrics, ","), settings.reference, size, mtime,
                                      config::to_yaml_string(evaluator)));
}

struct ParallelEvaluator::State {
  std::string extractor_key;
  std::unique_ptr<eval::LazyExtractor> extractor;
  std::string reference_key;
  eval::ResolvedInput reference;  // rank 0 only
};

ParallelEvaluator::ParallelEvaluator() : state_(std::make_unique<State>()) {}
ParallelEvaluator::~ParallelEvaluator() = default;

json ParallelEvaluator::evaluate(Communicator& comm, const ShardStore& store,
                                 const config::Document& document, at::Device device,
                                 const WaitPolicy& wait) {
  State& s = *state_;
  const double start_s = now_s();
  const auto settings = config::bind<ExperimentSettings>(document, "experiment");
  auto config = config::bind<eval::EvaluatorConfig>(document, "evaluator");
  config.device = device.str();
  const eval::MetricSelection selection = eval::parse_metric_selection(settings.metrics);
  const Needs needs(selection);
  const std::string samples_path =
      (fs::path(store.dir()).parent_path() / merged_file_name(store.manifest())).string();

  const std::string extractor_key = config::to_yaml_string(config);
  agree(comm, "loading the feature extractor", wait, [&] {
    if (s.extractor_key != extractor_key) {
      s.extractor = std::make_unique<eval::LazyExtractor>(config);
      s.extractor->get();
      s.extractor_key = extractor_key;
      s.reference_key.clear();
    }
  });
  eval::FeatureExtractor& extractor = s.extractor->get();
  const eval::FeatureDims dims = extractor.dims();

  // Samples: this rank's shards, round-robin.
  std::vector<std::int64_t> all(static_cast<std::size_t>(store.plan().num_shards()));
  for (std::size_t k = 0; k < all.size(); ++k) {
    all[k] = static_cast<std::int64_t>(k);
  }
  Features local;
  agree(comm, "features of the samples", wait, [&] {
    for (const std::int64_t k : deal_round_robin(all, comm.rank(), comm.world_size())) {
      io::NpzReader reader(store.shard_path(k));
      extract_rows(extractor, reader, 0, store.plan().shard(k).count(), config.batch_size, needs, local);
    }
  });
  eval::ResolvedInput samples;
  samples.path = samples_path;
  samples.role = "samples";
  samples.count = store.plan().num_samples();
  samples.features = eval::provenance_of(extractor);
  samples.features->source = samples_path;
  samples.features->source_array = io::savez_name(0);
  const std::string from_ranks = fmt::format("{} rank(s)", comm.world_size());
  if (needs.only_fid) {
    const at::Tensor rows = comm.gather_rows(moment_row(local.pool, dims.pool), 0, "sample statistics", wait);
    if (comm.rank() == 0) {
      samples.pool_statistics = statistics_of_moments(rows, dims.pool, "pool_3 features of " + samples_path);
      samples.pool_statistics_source = "merged from the statistics of " + from_ranks;
    }
  } else {
    const at::Tensor order = comm.rank() == 0 ? sample_order(store, comm.world_size()) : at::Tensor();
    auto ordered = [&](const std::vector<at::Tensor>& parts, std::int64_t dim, const std::string& name) {
      const at::Tensor rows = gather(comm, parts, dim, device, name, wait);
      return comm.rank() == 0 ? rows.cpu().index_select(0, order) : at::Tensor();
    };
    const at::Tensor pool =
        needs.pool ? ordered(local.pool, dims.pool, "sample pool features") : at::Tensor();
    const at::Tensor spatial =
        needs.spatial ? ordered(local.spatial, dims.spatial, "sample spatial features") : at::Tensor();
    samples.logits_unbiased =
        needs.logits ? ordered(local.logits, dims.classes, "sample IS logits") : at::Tensor();
    agree(comm, "sample statistics", wait, [&] {
      if (comm.rank() != 0) {
        return;
      }
      const std::string source =
          fmt::format("computed from {} feature vectors gathered from {}", samples.count, from_ranks);
      if (selection.precision_recall) {
        samples.pool = pool;
      }
      if (selection.fid) {
        samples.pool_statistics = eval::compute_statistics(pool, "pool_3 features of " + samples_path);
        samples.pool_statistics_source = source;
      }
      if (selection.sfid) {
        samples.spatial_statistics = eval::compute_statistics(spatial, "spatial features of " + samples_path);
        samples.spatial_statistics_source = source;
      }
    });
  }

  // The reference and the metrics, on rank 0, as `sagbench eval` computes them.
  json record;
  agree(comm, "metrics", wait, [&] {
    if (comm.rank() != 0) {
      return;
    }
    const std::string reference_key = evaluation_key(document);
    if (s.reference_key != reference_key) {
      const eval::InputNeeds reference_needs{selection.fid, selection.sfid, selection.precision_recall,
                                             false};
      s.reference = eval::resolve_input(settings.reference, "reference", reference_needs, *s.extractor);
      s.reference_key = reference_key;
    }
    const eval::EvaluationReport report = eval::evaluate_resolved(samples, s.reference, config, selection);
    record = eval::report_json(report, config);
    record["distributed"] = {
        {"features", needs.only_fid ? "statistics merged across ranks" : "gathered to rank 0"},
        {"world_size", comm.world_size()},
        {"backend", backend_name(comm.backend())},
        {"eval_s", now_s() - start_s}};
  });
  return comm.rank() == 0 ? record : json();
}

}  // namespace sagbench::distributed
