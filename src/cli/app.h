// The sagbench command-line application (CLI11): subcommand registry and the
// top-level error handling that turns a sagbench::Error into one clear line.
#pragma once

namespace sagbench::cli {

int run_app(int argc, char** argv);

}  // namespace sagbench::cli
