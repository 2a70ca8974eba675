// `sagbench merge RUN_DIR`: streams the finished shards of a run directory
// into RUN_DIR/samples_NxHxWxC.npz after checking every shard's sha256
// (distributed/shard_merge.h). Idempotent: a second merge verifies and stops.
// `sagbench run` merges by itself; this command serves runs stopped before.
// Tested by tests/distributed/process_test.cpp.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "distributed/shard_merge.h"
#include "distributed/shard_store.h"

namespace sagbench::cli {

void register_merge(CLI::App& app) {
  auto run_dir = std::make_shared<std::string>();
  CLI::App* cmd =
      app.add_subcommand("merge",
                         "Merge the finished shards of a run directory into RUN_DIR/samples_NxHxWxC.npz "
                         "(arr_0 uint8 NHWC, arr_1 "
                         "labels when present), checking every shard's checksum first; idempotent.\n"
                         "Example: sagbench merge runs/sag_scale_sweep/sag_s0.2");
  cmd->add_option("run_dir", *run_dir, "run directory (holds shards/)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->callback([run_dir] {
    const distributed::ShardStore store =
        distributed::ShardStore::open((std::filesystem::path(*run_dir) / "shards").string());
    const distributed::MergeResult result = distributed::merge_shards(store, *run_dir);
    std::printf("%s %s (%lld samples, sha256 %s)\n", result.already_merged ? "verified" : "merged",
                result.path.c_str(), static_cast<long long>(result.samples), result.sha256.c_str());
  });
}

}  // namespace sagbench::cli
