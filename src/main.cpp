// The sagbench binary: subcommands are registered in cli/app.cpp.
#include "cli/app.h"

int main(int argc, char** argv) { return sagbench::cli::run_app(argc, argv); }
