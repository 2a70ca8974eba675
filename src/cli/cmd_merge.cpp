// `sagbench merge`: Merge finished sample shards into one npz.
// Not implemented yet: its body is the work of issue #6.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

void register_merge(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "merge", "Merge finished sample shards into one npz (not implemented yet: issue #6)");
  cmd->callback([] { SAG_FAIL(kRuntime, "'sagbench merge' is not implemented yet (issue #6)"); });
}

}  // namespace sagbench::cli
