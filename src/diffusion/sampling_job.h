// A sampling job: one model preset + checkpoint, its respaced process, a
// sampler, the noise source, class labels and (optionally) guidance, producing
// any contiguous sample-index range [begin, end) batch by batch. Sample i is
// the same whatever the range, batch size or device it is computed in, so
// single-process `sagbench sample` and distributed shards share this unit.
// Follows upstream image_sample.py / classifier_sample.py, seeded.
// Tested by tests/diffusion/sampling_job_test.cpp.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/document.h"
#include "diffusion/diffusion_config.h"
#include "diffusion/noise.h"
#include "diffusion/sampler.h"
#include "diffusion/sampling_config.h"
#include "diffusion/unet_denoiser.h"
#include "models/unet_config.h"

namespace sagbench::diffusion {

// The sections a sample run reads: model:, diffusion:, sampler:, sampling:.
struct SamplingSetup {
  models::UNetConfig model;
  DiffusionConfig diffusion;
  SamplerConfig sampler;
  SamplingConfig sampling;

  // Binds the four sections and cross-checks them (learn_sigma of model and
  // diffusion; a checkpoint unless allow_random_weights): kConfig errors.
  static SamplingSetup from_document(const config::Document& document);
};

// The samples of one batch, on the host.
struct SampledBatch {
  std::int64_t first_index = 0;
  at::Tensor samples;  // (n, C, H, W) float32 in about [-1, 1]
  at::Tensor labels;   // (n,) int64; undefined when the run has no labels
};
using SampledBatchSink = std::function<void(const SampledBatch& batch)>;

class SamplingJob {
 public:
  // `model` is the built network (models::build_unet of setup.model, loaded);
  // the noise files named in setup.sampling are read here.
  SamplingJob(SamplingSetup setup, std::shared_ptr<models::UNetModel> model, at::Device device);
  SamplingJob(const SamplingJob&) = delete;  // the sampler refers to the job's process
  SamplingJob& operator=(const SamplingJob&) = delete;

  // Attaches guidance (null = plain sampling); call before sampling.
  void set_guidance(std::unique_ptr<StepGuidance> guidance);

  // Samples [begin, end) in batches of at most batch_size, in index order,
  // handing each batch to `sink` before computing the next.
  void sample(std::int64_t begin, std::int64_t end, std::int64_t batch_size,
              const SampledBatchSink& sink) const;

  // Whether samples carry class labels (class-conditional model or guidance
  // that needs them), and over how many classes they are drawn.
  bool has_labels() const { return label_classes() > 0; }
  std::int64_t label_classes() const;
  // Labels of samples [first, first + count) as the configured policy gives them.
  at::Tensor labels(std::int64_t first, std::int64_t count) const;
  // Checks the label policy against the model and guidance, and every label
  // of [0, num_samples) against the class count (kConfig), before any work.
  void check_labels() const;

  const SamplingSetup& setup() const { return setup_; }
  const GaussianDiffusion& diffusion() const { return diffusion_; }
  const models::UNetModel& model() const { return denoiser_.model(); }
  std::shared_ptr<models::UNetModel> model_ptr() const { return model_; }
  const at::Device& device() const { return device_; }
  const NoiseSource& noise() const { return *noise_; }
  // (C, H, W) of one sample.
  std::vector<std::int64_t> sample_shape() const;
  // One line for logs: model, steps, sampler, guidance, noise.
  std::string describe() const;

 private:
  SamplingSetup setup_;
  std::shared_ptr<models::UNetModel> model_;
  mutable UNetDenoiser denoiser_;
  at::Device device_;
  GaussianDiffusion diffusion_;
  Sampler sampler_;
  std::unique_ptr<NoiseSource> noise_;
  std::unique_ptr<StepGuidance> guidance_;
  at::Tensor file_labels_;  // labels=file: all rows, int64
};

// Upstream's image conversion: ((x + 1) * 127.5).clamp(0, 255).to(uint8), NCHW -> NHWC.
at::Tensor to_uint8_nhwc(const at::Tensor& samples);

// The array `name` of an npz file, or its only array when `name` is absent
// (kFormat naming the file otherwise). `key` names the config key in errors.
at::Tensor read_npz_array(const std::string& path, const std::string& name, const std::string& key);

}  // namespace sagbench::diffusion
