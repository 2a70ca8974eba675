// `sagbench report`: Tables and plots from run directories.
// Not implemented yet: its body is the work of issue #7.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

void register_report(CLI::App& app) {
  CLI::App* cmd =
      app.add_subcommand("report", "Tables and plots from run directories (not implemented yet: issue #7)");
  cmd->callback([] { SAG_FAIL(kRuntime, "'sagbench report' is not implemented yet (issue #7)"); });
}

}  // namespace sagbench::cli
