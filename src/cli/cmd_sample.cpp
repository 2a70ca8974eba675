// `sagbench sample`: Sample a model preset + checkpoint into samples_NxHxWxC.npz.
// Not implemented yet: its body is the work of issue #3.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

void register_sample(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "sample",
      "Sample a model preset + checkpoint into samples_NxHxWxC.npz (not implemented yet: issue #3)");
  cmd->callback([] { SAG_FAIL(kRuntime, "'sagbench sample' is not implemented yet (issue #3)"); });
}

}  // namespace sagbench::cli
