// The experiment runner (see runner.h).
#include "distributed/runner.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/provenance.h"
#include "distributed/heartbeat.h"
#include "distributed/launch.h"
#include "distributed/run_directory.h"
#include "distributed/shard_merge.h"
#include "evaluation/evaluator_config.h"

namespace sagbench::distributed {
namespace {
using nlohmann::json;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char name[256] = {};
  return ::gethostname(name, sizeof(name) - 1) == 0 ? std::string(name) : std::string("unknown");
}

// The test hook's shard count for this rank, or -1.
int exit_after_shards(int rank) {
  const char* text = std::getenv(kExitAfterShardsVariable);
  if (text == nullptr || *text == '\0') {
    return -1;
  }
  int hook_rank = -1;
  int shards = -1;
  char tail = 0;
  SAG_REQUIRE(std::sscanf(text, "%d:%d%c", &hook_rank, &shards, &tail) == 2 && shards >= 0, kConfig,
              "{}='{}' must be RANK:SHARDS", kExitAfterShardsVariable, text);
  return hook_rank == rank ? shards : -1;
}

// Everything one invocation shares between configurations.
struct Context {
  Communicator& comm;
  const Experiment& experiment;
  ProducerFactory& factory;
  const RunOptions& options;
  at::Device device;
  WaitPolicy wait;
  std::string attempt;  // id of this invocation, recorded in every marker it writes
  int exit_after = -1;  // test hook
  int shards_written = 0;
};

// Rank 0's progress line: samples of the shards finished since sampling
// started (every rank's markers) plus rank 0's shard in flight.
class SamplingProgress {
 public:
  SamplingProgress(const std::string& label, std::int64_t total, const ShardStore& store, bool enabled)
      : store_(store), total_(total), markers_at_start_(store.count_markers()) {
    if (enabled && total > 0) {
      ProgressOptions options;
      options.unit = "img";
      progress_.emplace(label, total, options);
    }
  }
  void add_own(std::int64_t count) {
    own_in_flight_ += count;
    update();
  }
  void own_shard_finished() {
    own_in_flight_ = 0;
    update();
  }
  void update() {
    if (!progress_) {
      return;
    }
    const std::int64_t finished = (store_.count_markers() - markers_at_start_) * store_.plan().shard_size();
    const std::int64_t estimate = std::min(total_, finished + own_in_flight_);
    if (estimate > reported_) {
      progress_->advance(estimate - reported_);
      reported_ = estimate;
    }
  }
  void finish() {
    if (progress_) {
      progress_->advance(total_ - reported_);
      progress_->finish();
    }
  }

 private:
  const ShardStore& store_;
  std::int64_t total_;
  std::int64_t markers_at_start_;
  std::int64_t own_in_flight_ = 0;
  std::int64_t reported_ = 0;
  std::optional<Progress> progress_;
};

json published_json(const PublishedMetrics& published) {
  json values = json::object();
  for (const auto& [key, value] :
       {std::pair{"fid", published.fid}, std::pair{"sfid", published.sfid},
        std::pair{"inception_score", published.inception_score}, std::pair{"precision", published.precision},
        std::pair{"recall", published.recall}}) {
    if (value) {
      values[key] = *value;
    }
  }
  return {{"metrics", values}, {"source", published.source}};
}

std::string resolved_config_yaml(Context& ctx, const config::Document& document,
                                 const ConfigurationSpec& spec) {
  YAML::Node root;
  root["experiment"] = config::to_yaml(ctx.experiment.settings);
  root["configuration"] = spec.name;
  root["overrides"] = spec.overrides;
  root["base"] = ctx.factory.resolved(document);
  root["evaluator"] = config::to_yaml(config::bind<eval::EvaluatorConfig>(document, "evaluator"));
  return config::to_yaml_string(root);
}

// Verifies this rank's share of the finished shards and agrees on the
// pending list (sorted) and the number found corrupt.
std::vector<std::int64_t> pending_shards(Context& ctx, const ShardStore& store, const std::string& name,
                                         std::int64_t* corrupt_total) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(store.plan().num_shards()));
  for (std::size_t k = 0; k < all.size(); ++k) {
    all[k] = static_cast<std::int64_t>(k);
  }
  std::ostringstream local;  // "corrupt k1 k2 ..."
  agree(ctx.comm, "verifying shards of " + name, ctx.wait, [&] {
    std::int64_t corrupt = 0;
    std::ostringstream pending;
    for (const std::int64_t k : deal_round_robin(all, ctx.comm.rank(), ctx.comm.world_size())) {
      const ShardStatus status = store.verify(k);
      if (status.state == ShardState::kCorrupt) {
        SAG_LOG_WARN("{}: shard {} is corrupt ({}); computing it again", name, k, status.reason);
        store.discard(k);
        ++corrupt;
      }
      if (status.state != ShardState::kDone) {
        pending << ' ' << k;
      }
    }
    local << corrupt << pending.str();
  });
  std::vector<std::int64_t> pending;
  *corrupt_total = 0;
  for (const std::string& text : ctx.comm.all_gather(local.str(), "pending shards of " + name, ctx.wait)) {
    std::istringstream in(text);
    std::int64_t corrupt = 0;
    in >> corrupt;
    *corrupt_total += corrupt;
    for (std::int64_t k = 0; in >> k;) {
      pending.push_back(k);
    }
  }
  std::sort(pending.begin(), pending.end());
  return pending;
}

void sample_shards(Context& ctx, SampleProducer& producer, const ShardStore& store,
                   const std::vector<std::int64_t>& mine, SamplingProgress& progress) {
  const std::int64_t batch_size = ctx.experiment.settings.batch_size;
  for (const std::int64_t k : mine) {
    const ShardRange range = store.plan().shard(k);
    const double start_s = now_s();
    ShardWriter writer(store, k);
    producer.produce(range.begin, range.end, batch_size, [&](const ImageBatch& batch) {
      writer.append(batch);
      progress.add_own(batch.images.size(0));
    });
    writer.commit({{"rank", ctx.comm.rank()},
                   {"world_size", ctx.comm.world_size()},
                   {"host", host_name()},
                   {"device", ctx.device.str()},
                   {"batch_size", batch_size},
                   {"attempt", ctx.attempt},
                   {"elapsed_s", now_s() - start_s},
                   {"written_utc", utc_timestamp()}});
    progress.own_shard_finished();
    if (++ctx.shards_written == ctx.exit_after) {
      SAG_LOG_WARN("test hook {}: exiting after {} shards", kExitAfterShardsVariable, ctx.shards_written);
      std::_Exit(kTestHookExitStatus);
    }
  }
}

ConfigurationOutcome run_configuration(Context& ctx, const ConfigurationSpec& spec,
                                       const std::string& label) {
  Communicator& comm = ctx.comm;
  const ExperimentSettings& settings = ctx.experiment.settings;
  ConfigurationOutcome outcome;
  outcome.name = spec.name;
  outcome.run_dir = ctx.experiment.run_dir(spec);
  const bool evaluate = settings.evaluate && static_cast<bool>(ctx.options.evaluate);

  const config::Document document = ctx.experiment.configuration_document(spec);
  std::unique_ptr<SampleProducer> producer;
  ShardManifest manifest;
  std::string config_yaml;
  std::string evaluation_key;
  agree(comm, "configuration " + spec.name, ctx.wait, [&] {
    producer = ctx.factory.make(document, ctx.device);
    manifest = {ctx.factory.identity(document), settings.num_samples, settings.shard_size,
                producer->geometry()};
    config_yaml = resolved_config_yaml(ctx, document, spec);
    evaluation_key = evaluate && ctx.options.evaluation_key ? ctx.options.evaluation_key(document) : "";
  });
  const std::string hash = manifest.config_hash();
  outcome.shards_total = ShardPlan(settings.num_samples, settings.shard_size).num_shards();

  // Resume at the experiment level: a configuration with its results is not touched.
  std::string complete;
  if (comm.rank() == 0) {
    const json metrics = evaluate ? finished_metrics(outcome.run_dir, hash, evaluation_key) : json();
    const auto merged = recorded_merge(outcome.run_dir, manifest);
    if ((evaluate && !metrics.is_null()) || (!evaluate && merged.has_value())) {
      outcome.metrics = metrics;
      outcome.samples_path = merged.has_value() ? merged->path : std::string();
      complete = "1";
    }
  }
  if (comm.broadcast(complete, 0, "completion of " + spec.name, ctx.wait) == "1") {
    SAG_LOG_INFO("{}: complete in {}, skipped", spec.name, outcome.run_dir);
    outcome.already_complete = true;
    outcome.shards_reused = outcome.shards_total;
    return outcome;
  }

  std::optional<ShardStore> store;
  agree(comm, "run directory of " + spec.name, ctx.wait, [&] {
    if (comm.rank() == 0) {
      const RunDirectory run =
          prepare_run_directory(outcome.run_dir, config_yaml, manifest, collect_provenance());
      const int stale = ShardStore::open(run.shard_dir).remove_stale_temporaries();
      if (stale > 0) {
        SAG_LOG_INFO("{}: removed {} temporary files of an interrupted run", spec.name, stale);
      }
    }
  });
  agree(comm, "opening shards of " + spec.name, ctx.wait,
        [&] { store.emplace(ShardStore::open(outcome.run_dir + "/shards")); });

  std::int64_t corrupt = 0;
  const std::vector<std::int64_t> pending = pending_shards(ctx, *store, spec.name, &corrupt);
  outcome.shards_recomputed = corrupt;
  outcome.shards_computed = static_cast<std::int64_t>(pending.size());
  outcome.shards_reused = outcome.shards_total - outcome.shards_computed;
  std::int64_t pending_samples = 0;
  for (const std::int64_t k : pending) {
    pending_samples += store->plan().shard(k).count();
  }
  if (comm.rank() == 0) {
    SAG_LOG_INFO("{}: {} shards of {} samples; {} finished, {} to compute ({} corrupt) on {} rank(s)",
                 spec.name, outcome.shards_total, settings.shard_size, outcome.shards_reused, pending.size(),
                 corrupt, comm.world_size());
  }

  const double start_s = now_s();
  SamplingProgress progress(label, pending_samples, *store, comm.rank() == 0);
  sample_shards(ctx, *producer, *store, deal_round_robin(pending, comm.rank(), comm.world_size()), progress);
  WaitPolicy sampling_wait = ctx.wait;
  sampling_wait.progress = [&] {
    progress.update();
    return store->progress_fingerprint();
  };
  comm.barrier("sampling of " + spec.name, sampling_wait);
  progress.finish();
  outcome.sampling_s = now_s() - start_s;

  // Rank 0 merges (and partly evaluates) alone: its heartbeat keeps the others' waits alive.
  const Heartbeat heartbeat(outcome.run_dir + "/.heartbeat", comm.rank() == 0);
  WaitPolicy rank0_wait = ctx.wait;
  rank0_wait.progress = [&heartbeat] { return heartbeat.probe(); };
  MergeResult merged;
  agree(comm, "merging " + spec.name, rank0_wait, [&] {
    if (comm.rank() == 0) {
      merged = merge_shards(*store, outcome.run_dir);
      SAG_LOG_INFO("{}: {} {}", spec.name, merged.already_merged ? "verified" : "merged", merged.path);
    }
  });
  outcome.samples_path = merged.path;

  if (evaluate) {
    json metrics = ctx.options.evaluate(comm, *store, document, ctx.device, rank0_wait);
    agree(comm, "writing metrics of " + spec.name, rank0_wait, [&] {
      if (comm.rank() == 0) {
        metrics["experiment"] = settings.name;
        metrics["configuration"] = spec.name;
        metrics["config_hash"] = hash;
        metrics["evaluation_key"] = evaluation_key;
        metrics["samples"] = {
            {"file", merged.path}, {"sha256", merged.sha256}, {"count", settings.num_samples}};
        if (!spec.sweep.empty()) {
          metrics["sweep"] = {{"name", spec.sweep}, {"key", spec.sweep_key}, {"value", spec.sweep_value}};
        }
        if (!spec.published.empty()) {
          metrics["published"] = published_json(spec.published);
        }
        metrics["overrides"] = spec.overrides;
        metrics["world_size"] = comm.world_size();
        metrics["provenance"] = collect_provenance();
        write_metrics(outcome.run_dir, metrics);
        outcome.metrics = metrics;
      }
    });
  }
  return outcome;
}

std::string metric_cell(const json& metrics, const char* key) {
  if (!metrics.is_object() || !metrics.contains("metrics") || !metrics["metrics"].contains(key)) {
    return "-";
  }
  return fmt::format("{:.4g}", metrics["metrics"][key].get<double>());
}

}  // namespace

std::vector<ConfigurationOutcome> run_experiment(Communicator& comm, const Experiment& experiment,
                                                 ProducerFactory& factory, const RunOptions& options) {
  WaitPolicy wait;
  wait.timeout_s = experiment.settings.timeout_s;
  Context ctx{
      comm, experiment, factory, options, select_device(experiment.settings.device, comm.local_rank()),
      wait, "",         -1,      0};
  ctx.exit_after = exit_after_shards(comm.rank());
  ctx.attempt = comm.broadcast(
      comm.rank() == 0 ? fmt::format("{}-{}-{}", utc_timestamp(), host_name(), ::getpid()) : std::string(), 0,
      "run id", wait);
  const json me = {{"rank", comm.rank()},
                   {"local_rank", comm.local_rank()},
                   {"host", host_name()},
                   {"device", ctx.device.str()}};
  json ranks = json::array();
  for (const std::string& text : comm.all_gather(me.dump(), "rank devices", wait)) {
    ranks.push_back(json::parse(text));
  }
  const json world = comm.describe();
  register_provenance_source("distributed", [world, ranks, attempt = ctx.attempt] {
    json record = world;
    record["ranks"] = ranks;
    record["attempt"] = attempt;
    return record;
  });
  if (comm.rank() == 0) {
    SAG_LOG_INFO(
        "experiment {}: {} configuration(s), {} sample(s) each; {} rank(s), backend {}; producer: {}",
        experiment.settings.name, experiment.configurations.size(), experiment.settings.num_samples,
        comm.world_size(), backend_name(comm.backend()), factory.describe());
  }
  std::vector<std::string> names;
  for (const ConfigurationSpec& spec : experiment.configurations) {
    names.push_back(spec.name);
  }
  for (const std::string& name : options.only) {
    SAG_REQUIRE(std::find(names.begin(), names.end(), name) != names.end(), kConfig,
                "{}: no configuration named '{}' (configurations: {})", experiment.path, name,
                fmt::join(names, ", "));
  }
  std::vector<ConfigurationOutcome> outcomes;
  const std::size_t count = experiment.configurations.size();
  for (std::size_t i = 0; i < count; ++i) {
    const ConfigurationSpec& spec = experiment.configurations[i];
    if (!options.only.empty() &&
        std::find(options.only.begin(), options.only.end(), spec.name) == options.only.end()) {
      continue;
    }
    outcomes.push_back(run_configuration(ctx, spec, fmt::format("{} [{}/{}]", spec.name, i + 1, count)));
  }
  return outcomes;
}

std::string format_outcomes(const std::vector<ConfigurationOutcome>& outcomes) {
  std::string table =
      "| configuration | shards reused | shards computed | FID | sFID | IS | precision | recall | run "
      "directory |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const ConfigurationOutcome& o : outcomes) {
    table += fmt::format("| {} | {} | {}{} | {} | {} | {} | {} | {} | {} |\n", o.name, o.shards_reused,
                         o.shards_computed,
                         o.shards_recomputed > 0 ? fmt::format(" ({} corrupt)", o.shards_recomputed) : "",
                         metric_cell(o.metrics, "fid"), metric_cell(o.metrics, "sfid"),
                         metric_cell(o.metrics, "inception_score"), metric_cell(o.metrics, "precision"),
                         metric_cell(o.metrics, "recall"), o.run_dir);
  }
  return table;
}

}  // namespace sagbench::distributed
