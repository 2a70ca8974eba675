// CUDA runtime helpers (see cuda_device.h).
#include "kernels/cuda_device.h"

#include "core/error.h"

#ifdef SAGBENCH_HAVE_CUDA
#include <cuda_runtime.h>
#endif
#ifdef SAGBENCH_TORCH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace sagbench::kernels {

bool cuda_device_available() {
#ifdef SAGBENCH_HAVE_CUDA
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" status for later calls
    return false;
  }
  return count > 0;
#else
  return false;
#endif
}

void* cuda_current_stream() {
#ifdef SAGBENCH_TORCH_CUDA
  return static_cast<void*>(c10::cuda::getCurrentCUDAStream().stream());
#else
  return nullptr;
#endif
}

void check_cuda_status(int status, const std::string& what) {
#ifdef SAGBENCH_HAVE_CUDA
  if (status != 0) {
    SAG_FAIL(kRuntime, "{}: CUDA error {} ({})", what, cudaGetErrorName(static_cast<cudaError_t>(status)),
             cudaGetErrorString(static_cast<cudaError_t>(status)));
  }
#else
  SAG_CHECK(false, "{}: a CUDA launch in a build without CUDA (status {})", what, status);
#endif
}

}  // namespace sagbench::kernels
