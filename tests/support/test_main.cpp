// The main() of every test binary: GoogleTest's, after switching OpenBLAS to
// batch-invariant kernels as the sagbench binary does (core/blas_kernels.h).
#include <gtest/gtest.h>

#include "core/blas_kernels.h"

int main(int argc, char** argv) {
  sagbench::ensure_batch_invariant_blas(argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
