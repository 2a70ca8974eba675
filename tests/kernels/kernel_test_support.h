// Helpers of the kernel tests: random inputs, the largest absolute difference,
// and (in CUDA builds) device buffers and a timer that reports achieved
// bandwidth. GPU tests call SAGBENCH_SKIP_WITHOUT_CUDA_DEVICE() first, so a
// CPU-only machine (or a build without nvcc) skips them.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "kernels/cuda_device.h"

#ifdef SAGBENCH_HAVE_CUDA
#include <cuda_runtime.h>
#endif

#define SAGBENCH_SKIP_WITHOUT_CUDA_DEVICE()                                     \
  do {                                                                          \
    if (!::sagbench::kernels::cuda_device_available()) {                        \
      GTEST_SKIP() << "no CUDA device (or a build without SAGBENCH_HAVE_CUDA)"; \
    }                                                                           \
  } while (0)

namespace sagbench::kernels::testing {

// max |a - b| over two float arrays of `count` elements.
inline double max_abs_difference(const float* a, const float* b, std::int64_t count) {
  double worst = 0.0;
  for (std::int64_t i = 0; i < count; ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  }
  return worst;
}

inline double max_abs_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

#ifdef SAGBENCH_HAVE_CUDA

// A device copy of a host vector (or `count` uninitialised floats), freed on scope exit.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::int64_t count) : count_(count) {
    EXPECT_EQ(cudaMalloc(&data_, sizeof(float) * static_cast<std::size_t>(std::max<std::int64_t>(count, 1))),
              cudaSuccess);
  }
  explicit DeviceBuffer(const std::vector<float>& host)
      : DeviceBuffer(static_cast<std::int64_t>(host.size())) {
    EXPECT_EQ(cudaMemcpy(data_, host.data(), sizeof(float) * host.size(), cudaMemcpyHostToDevice),
              cudaSuccess);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { cudaFree(data_); }

  float* data() const { return static_cast<float*>(data_); }
  std::vector<float> to_host() const {
    std::vector<float> host(static_cast<std::size_t>(count_));
    EXPECT_EQ(cudaMemcpy(host.data(), data_, sizeof(float) * host.size(), cudaMemcpyDeviceToHost),
              cudaSuccess);
    return host;
  }

 private:
  void* data_ = nullptr;
  std::int64_t count_ = 0;
};

// Runs `launch` (returning a cudaError_t as int) `warmup` + `repeats` times,
// times each repeat with CUDA events, and prints the median time and the
// achieved bandwidth bytes_moved / time (the kernel's DRAM traffic, stated by
// the caller), also recorded as gtest properties.
template <class Launch>
double report_bandwidth(const std::string& name, double bytes_moved, Launch launch, int warmup = 3,
                        int repeats = 20) {
  for (int i = 0; i < warmup; ++i) {
    EXPECT_EQ(launch(), 0);
  }
  cudaEvent_t start;
  cudaEvent_t stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<float> times_ms;
  for (int i = 0; i < repeats; ++i) {
    cudaEventRecord(start);
    EXPECT_EQ(launch(), 0);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float elapsed_ms = 0.0f;
    cudaEventElapsedTime(&elapsed_ms, start, stop);
    times_ms.push_back(elapsed_ms);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(times_ms.begin(), times_ms.end());
  const double median_ms = times_ms[times_ms.size() / 2];
  const double gb_per_s = bytes_moved / (median_ms * 1e-3) / 1e9;
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  // The card's theoretical DRAM bandwidth: 2 (double data rate) x memory clock x bus width.
  int clock_khz = 0;
  int bus_bits = 0;
  cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, 0);
  cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0);
  const double peak_gb_per_s = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
  std::cout << "[bandwidth] " << name << " on " << prop.name << ": median " << median_ms << " ms (min "
            << times_ms.front() << ", max " << times_ms.back() << ") over " << repeats << " runs, "
            << bytes_moved / 1e6 << " MB moved -> " << gb_per_s << " GB/s of a theoretical " << peak_gb_per_s
            << " GB/s (" << 100.0 * gb_per_s / peak_gb_per_s << "%)\n";
  ::testing::Test::RecordProperty(name + "_median_ms", std::to_string(median_ms));
  ::testing::Test::RecordProperty(name + "_gb_per_s", std::to_string(gb_per_s));
  return gb_per_s;
}

#endif  // SAGBENCH_HAVE_CUDA

}  // namespace sagbench::kernels::testing
