// `sagbench eval`: Evaluate samples against a reference batch (FID, sFID, IS, precision, recall).
// Not implemented yet: its body is the work of issue #5.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

void register_eval(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("eval",
                                     "Evaluate samples against a reference batch (FID, sFID, IS, precision, "
                                     "recall) (not implemented yet: issue #5)");
  cmd->callback([] { SAG_FAIL(kRuntime, "'sagbench eval' is not implemented yet (issue #5)"); });
}

}  // namespace sagbench::cli
