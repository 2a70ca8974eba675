// `sagbench train`: Train the bundled Fashion-MNIST models.
// Not implemented yet: its body is the work of issue #7.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

void register_train(CLI::App& app) {
  CLI::App* cmd =
      app.add_subcommand("train", "Train the bundled Fashion-MNIST models (not implemented yet: issue #7)");
  cmd->callback([] { SAG_FAIL(kRuntime, "'sagbench train' is not implemented yet (issue #7)"); });
}

}  // namespace sagbench::cli
