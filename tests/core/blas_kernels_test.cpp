// Batch-invariant BLAS kernels: which OpenBLAS cores are replaced, and that
// the test process itself (whose main() makes the same switch as the sagbench
// binary's, tests/support/test_main.cpp) runs on batch-invariant kernels.
#include "core/blas_kernels.h"

#include <gtest/gtest.h>

namespace sagbench {
namespace {

TEST(BlasKernels, AvxFiveTwelveCoresAreReplaced) {
  for (const char* core : {"SkylakeX", "Cooperlake", "SAPPHIRERAPIDS"}) {
    EXPECT_TRUE(core_is_shape_dependent(core)) << core;
  }
  for (const char* core : {"Haswell", "Zen", "Prescott", ""}) {
    EXPECT_FALSE(core_is_shape_dependent(core)) << core;
  }
}

TEST(BlasKernels, TestsRunOnBatchInvariantKernels) {
  const std::string core = openblas_core();
  if (core.empty()) {
    GTEST_SKIP() << "the BLAS is not OpenBLAS";
  }
  EXPECT_FALSE(core_is_shape_dependent(core)) << core;
}

}  // namespace
}  // namespace sagbench
