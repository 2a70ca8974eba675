// `sagbench features`: Write Inception features (pool, spatial, logits) of an image npz.
// Not implemented yet: its body is the work of issue #5.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

void register_features(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "features",
      "Write Inception features (pool, spatial, logits) of an image npz (not implemented yet: issue #5)");
  cmd->callback([] { SAG_FAIL(kRuntime, "'sagbench features' is not implemented yet (issue #5)"); });
}

}  // namespace sagbench::cli
