// Batch-invariant BLAS kernels (see blas_kernels.h).
#include "core/blas_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace sagbench {

std::string openblas_core() {
  using CoreName = char* (*)();
  const auto get = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = get != nullptr ? get() : nullptr;
  return name != nullptr ? name : "";
}

bool core_is_shape_dependent(const std::string& core) {
  std::string lower = core;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "skylakex" || lower == "cooperlake" || lower == "sapphirerapids";
}

void ensure_batch_invariant_blas(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr || !core_is_shape_dependent(openblas_core())) {
    return;
  }
  ::setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  ::execv("/proc/self/exe", argv);
  // exec failed (no /proc): go on with the loaded kernels; the variable is set for child processes.
}

}  // namespace sagbench
