// `sagbench info FILE`: name, dtype and shape of every tensor in any supported
// file. Not implemented yet: the tensor-file reader is the work of issue #2.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

void register_info(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("info", "List the tensors of a checkpoint or array file");
  cmd->callback([] { SAG_FAIL(kRuntime, "'sagbench info' is not implemented yet (issue #2)"); });
}

}  // namespace sagbench::cli
