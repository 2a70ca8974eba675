// The `sampling:` section of a sample run: how many samples, batch size,
// seed, class labels, noise files, device and output, with upstream
// image_sample.py / classifier_sample.py flag names where one exists
// (configs/README.md tabulates them). Tested by tests/diffusion/sampling_job_test.cpp.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sagbench::diffusion {

struct SamplingConfig {
  std::int64_t num_samples = 16;
  std::int64_t batch_size = 16;
  std::int64_t seed = 0;
  std::string labels = "random";
  std::vector<std::int64_t> fixed_labels;
  std::string labels_file;
  std::string x_T_file;
  std::string step_noise_file;
  std::string device = "auto";
  std::string output_dir = "runs";
  std::string run_name = "sample";
  bool save_raw = false;
  bool allow_random_weights = false;

  template <class V>
  void visit(V& v) {
    v("num_samples", num_samples, "number of samples N (--num_samples)");
    v("batch_size", batch_size, "samples per forward batch (--batch_size); results do not depend on it");
    v("seed", seed, "run seed: noise and labels of sample i derive from (seed, i) (upstream never seeds)");
    v.choice("labels", labels, {"random", "fixed", "file"},
             "class labels when needed: random (uniform, like upstream th.randint), fixed (fixed_labels), "
             "file (labels_file)");
    v("fixed_labels", fixed_labels, "labels for labels=fixed; sample i gets fixed_labels[i % length]");
    v("labels_file", labels_file, "npz with array `y` (row i = sample i) for labels=file");
    v("x_T_file", x_T_file,
      "npz with array `x_T` (N, C, H, W): initial noise instead of the counter generator");
    v("step_noise_file", step_noise_file, "npz with array `step_noise` (steps, N, C, H, W): per-step noise");
    v.choice("device", device, {"auto", "cpu", "cuda"}, "where to sample; auto = cuda when available");
    v("output_dir", output_dir, "folder that holds run directories");
    v("run_name", run_name, "run directory name (a fresh <name>-2, -3, ... when taken; never overwritten)");
    v("save_raw", save_raw, "also write the float32 samples (N, C, H, W) in [-1, 1] as samples_raw_*.npz");
    v("allow_random_weights", allow_random_weights,
      "permit an empty model.checkpoint (random weights: smoke tests)");
  }
  void validate() const;
};

// "auto" -> cuda when available, else cpu; "cuda" without a GPU is a kConfig error.
at::Device resolve_device(const std::string& device);

}  // namespace sagbench::diffusion
