// Placeholder until the CLI lands: prints the version.
#include "cli/app.h"

#include <cstdio>

namespace sagbench::cli {

int run_app(int argc, char** argv) {
  std::puts("sagbench");
  return 0;
}

}  // namespace sagbench::cli
