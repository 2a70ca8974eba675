// The `sampling:` section: cross-key validation and the device choice
// (auto = CUDA when available).
// Tested by tests/diffusion/sampling_job_test.cpp and tests/cli/sample_test.cpp.
#include "diffusion/sampling_config.h"

#include <torch/cuda.h>

#include "core/error.h"

namespace sagbench::diffusion {

void SamplingConfig::validate() const {
  SAG_REQUIRE(num_samples >= 1, kConfig, "num_samples must be >= 1 (got {})", num_samples);
  SAG_REQUIRE(batch_size >= 1, kConfig, "batch_size must be >= 1 (got {})", batch_size);
  SAG_REQUIRE(seed >= 0, kConfig, "seed must be >= 0 (got {})", seed);
  SAG_REQUIRE(labels != "fixed" || !fixed_labels.empty(), kConfig,
              "labels: fixed needs a non-empty fixed_labels");
  SAG_REQUIRE(labels != "file" || !labels_file.empty(), kConfig, "labels: file needs labels_file");
  SAG_REQUIRE(labels == "fixed" || fixed_labels.empty(), kConfig,
              "fixed_labels is set but labels is '{}'; set labels: fixed", labels);
  SAG_REQUIRE(labels == "file" || labels_file.empty(), kConfig,
              "labels_file is set but labels is '{}'; set labels: file", labels);
  SAG_REQUIRE(!run_name.empty() && run_name.find('/') == std::string::npos, kConfig,
              "run_name must be one path component (got '{}')", run_name);
}

at::Device resolve_device(const std::string& device) {
  if (device == "cpu") {
    return at::kCPU;
  }
  const bool cuda = torch::cuda::is_available();
  if (device == "cuda") {
    SAG_REQUIRE(cuda, kConfig, "sampling.device is cuda but no CUDA device is available");
    return at::Device(at::kCUDA, 0);
  }
  SAG_REQUIRE(device == "auto", kConfig, "sampling.device must be auto, cpu or cuda (got '{}')", device);
  return cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
}

}  // namespace sagbench::diffusion
