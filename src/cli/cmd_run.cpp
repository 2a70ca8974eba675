// `sagbench run`: Run an experiment YAML (all configurations, distributed, resumable).
// Not implemented yet: its body is the work of issue #6.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

void register_run(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run an experiment YAML (all configurations, distributed, resumable) (not implemented yet: issue #6)");
  cmd->callback([] { SAG_FAIL(kRuntime, "'sagbench run' is not implemented yet (issue #6)"); });
}

}  // namespace sagbench::cli
