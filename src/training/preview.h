// Sample previews of a trained Fashion-MNIST diffusion model: `per_class`
// class-conditional samples of each of the 10 classes (no guidance) from a
// respaced deterministic DDIM process (diffusion/sampler.h, Philox counter
// noise), tiled one class per row into a binary PGM (P5) image, so a short
// run can be judged by eye without OpenCV. Tested by tests/training/preview_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "models/unet.h"
#include "training/train_config.h"

namespace sagbench::training {

// (10 * per_class, 1, S, S) float32 samples in [-1, 1], class c in rows
// [c * per_class, (c + 1) * per_class). `respacing` is a space_timesteps spec ("ddim50").
at::Tensor sample_classes(models::UNetModel& model, const TrainConfig& config, std::int64_t per_class,
                          const std::string& respacing, std::uint64_t seed, at::Device device);

// (rows * cols, 1, S, S) in [-1, 1] -> (rows * S, cols * S) uint8 grid.
at::Tensor tile_grid(const at::Tensor& samples, std::int64_t rows, std::int64_t cols);

// Writes a (H, W) uint8 tensor as a binary PGM, atomically.
void write_pgm(const std::string& path, const at::Tensor& gray);

}  // namespace sagbench::training
