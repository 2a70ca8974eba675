// `sagbench run`: an experiment's configurations, one after the other, on
// every rank of a communicator. Per configuration: (1) the producer is built
// (the factory shares the model between configurations); (2) rank 0 prepares
// the run directory (refusing another configuration's shards) unless its
// metrics are already complete; (3) finished shards are verified (sha256) in
// parallel and corrupt ones made pending; (4) pending shards are dealt
// round-robin and sampled, each written atomically with its marker; (5) after
// a barrier bounded by shard progress, rank 0 merges; (6) features are
// extracted in parallel and rank 0 writes metrics.json (the others' waits in
// (5)-(6) follow rank 0's heartbeat file). Rank 0 alone draws the progress line. Tested with real processes
// by tests/distributed/process_test.cpp and in-process by tests/distributed/runner_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "distributed/experiment.h"
#include "distributed/producer_factory.h"
#include "distributed/shard_store.h"

namespace sagbench::distributed {

struct ConfigurationOutcome {
  std::string name;
  std::string run_dir;
  bool already_complete = false;  // metrics (or the merge) existed: nothing was redone
  std::int64_t shards_total = 0;
  std::int64_t shards_reused = 0;      // finished before this run and verified
  std::int64_t shards_recomputed = 0;  // found corrupt and computed again
  std::int64_t shards_computed = 0;    // computed by this run, all ranks (recomputed included)
  std::string samples_path;            // the merged npz
  nlohmann::json metrics;              // metrics.json (rank 0), null when not evaluated
  double sampling_s = 0.0;
};

// Evaluates a configuration's shards; called on every rank, returns the
// metrics record on rank 0 (null elsewhere). Provided by the CLI, which knows
// the evaluator (parallel_eval.h); empty when the experiment does not evaluate.
using Evaluate = std::function<nlohmann::json(Communicator& comm, const ShardStore& store,
                                              const config::Document& document, at::Device device,
                                              const WaitPolicy& wait)>;

struct RunOptions {
  std::vector<std::string> only;  // configurations to run (names); empty = all
  Evaluate evaluate;              // used when settings.evaluate is true
  // Key of the evaluation a configuration's metrics.json must record to count as complete.
  std::function<std::string(const config::Document& document)> evaluation_key;
};

// Must be called on every rank. Outcomes are complete on rank 0; on other
// ranks the shard counts are theirs and metrics are null.
std::vector<ConfigurationOutcome> run_experiment(Communicator& comm, const Experiment& experiment,
                                                 ProducerFactory& factory, const RunOptions& options);

// The configurations' summary table (rank 0's stdout after a run).
std::string format_outcomes(const std::vector<ConfigurationOutcome>& outcomes);

// Test hook: SAGBENCH_TEST_EXIT_AFTER_SHARDS="R:K" makes rank R exit at once
// (status 86, no clean-up, as a crash) after writing K shards in this run.
inline constexpr const char* kExitAfterShardsVariable = "SAGBENCH_TEST_EXIT_AFTER_SHARDS";
inline constexpr int kTestHookExitStatus = 86;

}  // namespace sagbench::distributed
