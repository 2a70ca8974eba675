// Sampling jobs over index ranges: setup from a config document, label
// policies, noise sources, batched sampling (upstream image_sample.py /
// classifier_sample.py, seeded per sample). Tested by tests/diffusion/sampling_job_test.cpp.
#include "diffusion/sampling_job.h"

#include <fmt/format.h>

#include <algorithm>

#include "config/config.h"
#include "core/error.h"
#include "io/npz.h"
#include "models/unet.h"

namespace sagbench::diffusion {
namespace {

std::unique_ptr<NoiseSource> make_noise(const SamplingConfig& sampling) {
  const auto seed = static_cast<std::uint64_t>(sampling.seed);
  if (sampling.x_T_file.empty() && sampling.step_noise_file.empty()) {
    return std::make_unique<CounterNoise>(seed);
  }
  at::Tensor x_T;
  at::Tensor step_noise;
  if (!sampling.x_T_file.empty()) {
    x_T = read_npz_array(sampling.x_T_file, "x_T", "sampling.x_T_file");
  }
  if (!sampling.step_noise_file.empty()) {
    step_noise = read_npz_array(sampling.step_noise_file, "step_noise", "sampling.step_noise_file");
  }
  return std::make_unique<ArrayNoise>(x_T, sampling.x_T_file + ":x_T", step_noise,
                                      sampling.step_noise_file + ":step_noise", seed);
}

}  // namespace

SamplingSetup SamplingSetup::from_document(const config::Document& document) {
  SamplingSetup setup;
  SAG_REQUIRE(document.has("model"), kConfig,
              "the config has no `model:` section; include a preset from configs/models/");
  setup.model = config::bind<models::UNetConfig>(document, "model");
  setup.diffusion = config::bind<DiffusionConfig>(document, "diffusion");
  setup.sampler = config::bind<SamplerConfig>(document, "sampler");
  setup.sampling = config::bind<SamplingConfig>(document, "sampling");
  SAG_REQUIRE(
      setup.model.learn_sigma == setup.diffusion.learn_sigma, kConfig,
      "model.learn_sigma ({}) and diffusion.learn_sigma ({}) disagree; they must match the checkpoint",
      setup.model.learn_sigma, setup.diffusion.learn_sigma);
  SAG_REQUIRE(
      !setup.model.checkpoint.empty() || setup.sampling.allow_random_weights, kConfig,
      "model.checkpoint is empty: set it to the weights file (or sampling.allow_random_weights=true for a "
      "smoke test with random weights)");
  return setup;
}

SamplingJob::SamplingJob(SamplingSetup setup, std::shared_ptr<models::UNetModel> model, at::Device device)
    : setup_(std::move(setup)),
      model_(std::move(model)),
      denoiser_(model_),
      device_(device),
      diffusion_(make_diffusion(setup_.diffusion, effective_respacing(setup_.diffusion, setup_.sampler))),
      sampler_(diffusion_, sampler_options(setup_.sampler)),
      noise_(make_noise(setup_.sampling)) {
  setup_.sampling.validate();
  const std::int64_t end = setup_.sampling.num_samples;
  noise_->check(end, diffusion_.num_steps(), sample_shape());
  if (setup_.sampling.labels == "file") {
    file_labels_ = read_npz_array(setup_.sampling.labels_file, "y", "sampling.labels_file").to(at::kLong);
    SAG_REQUIRE(
        file_labels_.dim() == 1 && file_labels_.size(0) >= end, kShape,
        "sampling.labels_file {}: `y` must be (N,) with N >= num_samples = {}, got {} dims of {} rows",
        setup_.sampling.labels_file, end, file_labels_.dim(),
        file_labels_.dim() > 0 ? file_labels_.size(0) : 0);
  }
}

void SamplingJob::set_guidance(std::unique_ptr<StepGuidance> guidance) {
  guidance_ = std::move(guidance);
}

std::vector<std::int64_t> SamplingJob::sample_shape() const {
  const auto side = static_cast<std::int64_t>(setup_.model.image_size);
  return {static_cast<std::int64_t>(setup_.model.in_channels), side, side};
}

std::int64_t SamplingJob::label_classes() const {
  std::int64_t classes = model().num_classes();
  const std::int64_t guided = guidance_ != nullptr ? guidance_->label_classes() : 0;
  if (guided > 0 && (classes == 0 || guided < classes)) {
    classes = guided;
  }
  return classes;
}

at::Tensor SamplingJob::labels(std::int64_t first, std::int64_t count) const {
  const std::int64_t classes = label_classes();
  const SamplingConfig& s = setup_.sampling;
  if (classes == 0) {
    SAG_REQUIRE(s.labels == "random", kConfig,
                "sampling.labels is '{}' but the model is unconditional and no guidance uses labels",
                s.labels);
    return {};
  }
  at::Tensor out = at::empty({count}, at::kLong);
  auto* data = out.data_ptr<std::int64_t>();
  for (std::int64_t k = 0; k < count; ++k) {
    const std::int64_t index = first + k;
    if (s.labels == "fixed") {
      data[k] =
          s.fixed_labels[static_cast<std::size_t>(index % static_cast<std::int64_t>(s.fixed_labels.size()))];
    } else if (s.labels == "file") {
      data[k] = file_labels_[index].item<std::int64_t>();
    } else {
      data[k] = counter_label(static_cast<std::uint64_t>(s.seed), index, classes);
    }
    SAG_REQUIRE(data[k] >= 0 && data[k] < classes, kConfig,
                "class label {} of sample {} (sampling.{}) is outside [0, {})", data[k], index,
                s.labels == "fixed" ? "fixed_labels" : "labels_file", classes);
  }
  return out;
}

void SamplingJob::check_labels() const {
  const std::int64_t count = setup_.sampling.num_samples;
  if (setup_.sampling.labels == "random") {
    return;  // drawn inside [0, classes) by construction
  }
  const std::int64_t checked =
      setup_.sampling.labels == "fixed"
          ? std::min<std::int64_t>(count, static_cast<std::int64_t>(setup_.sampling.fixed_labels.size()))
          : count;
  labels(0, checked);
}

void SamplingJob::sample(std::int64_t begin, std::int64_t end, std::int64_t batch_size,
                         const SampledBatchSink& sink) const {
  SAG_REQUIRE(begin >= 0 && begin < end, kConfig, "empty sample range [{}, {})", begin, end);
  SAG_REQUIRE(batch_size >= 1, kConfig, "batch_size must be >= 1 (got {})", batch_size);
  const std::vector<std::int64_t> shape = sample_shape();
  noise_->check(end, diffusion_.num_steps(), shape);
  const bool conditional = model().num_classes() > 0;
  for (std::int64_t first = begin; first < end; first += batch_size) {
    SampleBatch batch;
    batch.first_index = first;
    batch.count = std::min(batch_size, end - first);
    batch.labels = labels(first, batch.count);
    batch.condition_model = conditional;
    const at::Tensor x = sampler_.sample(denoiser_, *noise_, guidance_.get(), batch, shape, device_);
    sink(SampledBatch{first, x.to(at::kCPU), batch.labels});
  }
}

std::string SamplingJob::describe() const {
  return fmt::format(
      "{} ({}x{} px{}), {} {} steps (respacing '{}'), guidance: {}, {}",
      setup_.model.checkpoint.empty() ? "random weights" : setup_.model.checkpoint, setup_.model.image_size,
      setup_.model.image_size, label_classes() > 0 ? fmt::format(", {} classes", label_classes()) : "",
      setup_.sampler.kind, diffusion_.num_steps(), effective_respacing(setup_.diffusion, setup_.sampler),
      guidance_ != nullptr ? guidance_->describe() : "none", noise_->describe());
}

at::Tensor to_uint8_nhwc(const at::Tensor& samples) {
  return ((samples + 1) * 127.5).clamp(0, 255).to(at::kByte).permute({0, 2, 3, 1}).contiguous();
}

at::Tensor read_npz_array(const std::string& path, const std::string& name, const std::string& key) {
  io::NpzReader reader(path);
  if (reader.contains(name)) {
    return reader.read(name);
  }
  SAG_REQUIRE(reader.names().size() == 1, kFormat, "{} = {}: no array `{}` (arrays: {})", key, path, name,
              fmt::join(reader.names(), ", "));
  return reader.read(reader.names().front());
}

}  // namespace sagbench::diffusion
