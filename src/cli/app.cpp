// The sagbench application: registers every subcommand (commands.h) and turns
// a sagbench::Error into one clear line on stderr with a non-zero exit.
#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"

namespace sagbench::cli {

int run_app(int argc, char** argv) {
  CLI::App app{"sagbench: Self-Attention Guidance research harness"};
  app.require_subcommand(1);
  register_info(app);
  register_sample(app);
  register_eval(app);
  register_ref(app);
  register_fid(app);
  register_features(app);
  register_run(app);
  register_merge(app);
  register_report(app);
  register_train(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fprintf(stderr, "sagbench: %s: %s\n", error_kind_name(e.kind()), e.what());
    return 2;
  }
  return 0;
}

}  // namespace sagbench::cli
