// `sagbench ref`: Build reference statistics from an image npz or folder.
// Not implemented yet: its body is the work of issue #5.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

void register_ref(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "ref", "Build reference statistics from an image npz or folder (not implemented yet: issue #5)");
  cmd->callback([] { SAG_FAIL(kRuntime, "'sagbench ref' is not implemented yet (issue #5)"); });
}

}  // namespace sagbench::cli
