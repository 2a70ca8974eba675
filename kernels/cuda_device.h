// CUDA runtime helpers shared by the kernel dispatchers and their tests: is a
// device usable, the current stream, and launch-status checks. In a build
// without SAGBENCH_HAVE_CUDA there is no device and every launch is an
// internal error. Tested through tests/kernels/*_test.cpp (GPU tests skip when
// cuda_device_available() is false).
#pragma once

#include <string>

namespace sagbench::kernels {

// True when the build has CUDA and cudaGetDeviceCount reports at least one device.
bool cuda_device_available();

// The stream to launch on, as a cudaStream_t: LibTorch's current stream when
// LibTorch itself has CUDA (SAGBENCH_TORCH_CUDA), else nullptr (the legacy
// default stream, which LibTorch's own default stream is).
void* cuda_current_stream();

// Throws sagbench::Error(kRuntime) naming `what` when status (a cudaError_t) is not 0.
void check_cuda_status(int status, const std::string& what);

}  // namespace sagbench::kernels
