// A configuration's run directory, <output_dir>/<experiment>/<configuration>:
// config.yaml (the resolved configuration of the first run) and
// provenance.json, one provenance.resume-N.json per later run (with that run's
// resolved configuration), shards/ (shard_store.h), the merged samples and
// merge.json (shard_merge.h) and metrics.json. The path is fixed by the
// experiment, so a rerun resumes it; a directory whose shards were made by
// another configuration is refused before anything is written. Files are
// written atomically and never replaced. Tested by tests/distributed/run_directory_test.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "distributed/shard_store.h"

namespace sagbench::distributed {

struct RunDirectory {
  std::string path;
  std::string shard_dir;
  bool resumed = false;
};

// Creates or resumes `path` for `manifest`; `provenance` is written as
// provenance.json (new) or provenance.resume-N.json (resumed), with
// `config_yaml` added to it as "config_yaml". Called by one rank.
RunDirectory prepare_run_directory(const std::string& path, const std::string& config_yaml,
                                   const ShardManifest& manifest, nlohmann::json provenance);

// metrics.json of `run_dir` when it exists and records `config_hash` and
// `evaluation_key` (the metrics, reference and evaluator asked); null otherwise.
nlohmann::json finished_metrics(const std::string& run_dir, const std::string& config_hash,
                                const std::string& evaluation_key);

// Writes metrics.json (atomically; an existing one of another evaluation is
// kept as metrics.replaced-N.json, never lost).
void write_metrics(const std::string& run_dir, const nlohmann::json& metrics);

}  // namespace sagbench::distributed
