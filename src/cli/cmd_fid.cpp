// `sagbench fid`: FID between two image, feature or statistics files.
// Not implemented yet: its body is the work of issue #5.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

void register_fid(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "fid", "FID between two image, feature or statistics files (not implemented yet: issue #5)");
  cmd->callback([] { SAG_FAIL(kRuntime, "'sagbench fid' is not implemented yet (issue #5)"); });
}

}  // namespace sagbench::cli
