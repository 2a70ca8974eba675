// The sagbench binary: subcommands are registered in cli/app.cpp.
#include "cli/app.h"
#include "core/blas_kernels.h"

int main(int argc, char** argv) {
  sagbench::ensure_batch_invariant_blas(argv);
  return sagbench::cli::run_app(argc, argv);
}
