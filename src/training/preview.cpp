// Sample previews (see preview.h).
#include "training/preview.h"

#include <memory>

#include "core/atomic_write.h"
#include "core/error.h"
#include "diffusion/beta_schedule.h"
#include "diffusion/gaussian_diffusion.h"
#include "diffusion/noise.h"
#include "diffusion/respacing.h"
#include "diffusion/sampler.h"
#include "diffusion/unet_denoiser.h"
#include "models/layers.h"
#include "training/fashion_mnist.h"

namespace sagbench::training {

at::Tensor sample_classes(models::UNetModel& model, const TrainConfig& config, std::int64_t per_class,
                          const std::string& respacing, std::uint64_t seed, at::Device device) {
  SAG_REQUIRE(config.unet.class_cond && per_class >= 1, kConfig,
              "previews need a class-conditional unet and per_class >= 1");
  const std::vector<double> betas =
      diffusion::named_beta_schedule(config.diffusion.schedule, config.diffusion.steps);
  diffusion::ProcessOptions process;
  process.variance_type = config.unet.learn_sigma ? diffusion::ModelVarianceType::kLearnedRange
                                                  : diffusion::ModelVarianceType::kFixedLarge;
  const diffusion::GaussianDiffusion gaussian(
      betas, diffusion::space_timesteps(config.diffusion.steps, respacing), process);
  diffusion::SamplerOptions options;
  options.kind = diffusion::SamplerKind::kDdim;
  const diffusion::Sampler sampler(gaussian, options);
  // The sampler owns no model: wrap a non-owning pointer to `model`.
  diffusion::UNetDenoiser denoiser(std::shared_ptr<models::UNetModel>(&model, [](models::UNetModel*) {}));
  diffusion::SampleBatch batch;
  batch.count = 10 * per_class;
  batch.labels = at::arange(10, at::kLong).repeat_interleave(per_class).to(device);
  const bool was_training = model.is_training();
  model.eval();
  at::NoGradGuard no_grad;
  const std::vector<std::int64_t> shape = {config.unet.in_channels, config.image_size, config.image_size};
  at::Tensor samples =
      sampler.sample(denoiser, diffusion::CounterNoise(seed), nullptr, batch, shape, device).to(at::kCPU);
  model.train(was_training);
  return samples;
}

at::Tensor tile_grid(const at::Tensor& samples, std::int64_t rows, std::int64_t cols) {
  SAG_REQUIRE(samples.dim() == 4 && samples.size(1) == 1 && samples.size(0) == rows * cols, kShape,
              "grid of {}x{} needs ({}, 1, H, W) samples, got {}", rows, cols, rows * cols,
              models::describe_shape(samples));
  const std::int64_t h = samples.size(2);
  const std::int64_t w = samples.size(3);
  const at::Tensor images = to_uint8_nhwc(samples).view({rows, cols, h, w});
  return images.permute({0, 2, 1, 3}).reshape({rows * h, cols * w}).contiguous();
}

void write_pgm(const std::string& path, const at::Tensor& gray) {
  SAG_REQUIRE(gray.dim() == 2 && gray.scalar_type() == at::kByte, kShape, "PGM needs (H, W) uint8, got {}",
              models::describe_shape(gray));
  const at::Tensor data = gray.contiguous();
  std::string bytes = "P5\n" + std::to_string(data.size(1)) + " " + std::to_string(data.size(0)) + "\n255\n";
  bytes.append(reinterpret_cast<const char*>(data.data_ptr<std::uint8_t>()),
               static_cast<std::size_t>(data.numel()));
  write_file_atomic(path, bytes);
}

}  // namespace sagbench::training
