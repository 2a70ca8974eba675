// Batch-invariant BLAS kernels. Debian's LibTorch calls the system BLAS
// (libblas.so.3). OpenBLAS picks its kernels per CPU at load time, and its
// AVX-512 cores (SkylakeX, Cooperlake, SapphireRapids) take other code paths
// for small matrices, so a sample's bits then depend on the batch it was
// computed in. The Haswell (AVX2) kernels do not, and are as fast on the
// bundled model. The kernel set is read from OPENBLAS_CORETYPE when the
// library loads, before main(), hence a re-exec. Tested by
// tests/core/blas_kernels_test.cpp.
#pragma once

#include <string>

namespace sagbench {

// The OpenBLAS core this process loaded ("Cooperlake"), or "" when the BLAS is not OpenBLAS.
std::string openblas_core();

// Whether the kernels of `core` make results depend on the matrix shapes.
bool core_is_shape_dependent(const std::string& core);

// When OpenBLAS loaded shape-dependent kernels and OPENBLAS_CORETYPE is unset,
// sets OPENBLAS_CORETYPE=Haswell and replaces this process by a fresh start of
// the same binary with the same arguments; otherwise returns.
void ensure_batch_invariant_blas(char** argv);

}  // namespace sagbench
