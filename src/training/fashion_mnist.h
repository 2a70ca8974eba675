// Fashion-MNIST (Xiao et al. 2017) from its gzip'd idx files, as Debian's
// dataset-fashion-mnist installs them (/usr/share/datasets/fashion-mnist):
// idx3 images (magic 0x00000803, N x 28 x 28 uint8) and idx1 labels (magic
// 0x00000801, N uint8 in 0..9), big-endian headers, read natively with zlib.
// Model input: 1 channel, zero-padded 28 -> 32 (no interpolation; 32 has the
// power-of-two divisors a UNet needs), scaled to [-1, 1]. The Inception
// evaluator needs 3 channels, so channels are repeated at evaluation time.
// Tested by tests/training/fashion_mnist_test.cpp (hand-built gz idx files).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace sagbench::training {

struct LabeledImages {
  at::Tensor images;  // (N, H, W) uint8
  at::Tensor labels;  // (N,) int64 in [0, 10)
};

// The images of an idx3 file (gzip'd or plain): (N, rows, cols) uint8. A bad
// magic, truncated data, trailing bytes or absurd sizes are kFormat / kIo
// errors naming the file.
at::Tensor read_idx_images(const std::string& path);
// The labels of an idx1 file: (N,) int64; labels >= num_classes are kFormat errors.
at::Tensor read_idx_labels(const std::string& path, std::int64_t num_classes = 10);

// `split`: "train" (60k) or "test" (10k) from `dir` (train-images-idx3-ubyte.gz,
// t10k-labels-idx1-ubyte.gz, ...); image and label counts must agree.
LabeledImages load_fashion_mnist(const std::string& dir, const std::string& split);

// (N, H, W) uint8 -> (N, 1, size, size) float32 in [-1, 1], zero-padded
// symmetrically (black = -1); `size` must be >= H, W with an even margin.
at::Tensor to_model_input(const at::Tensor& images, std::int64_t size);
// Inverse for display/evaluation: (N, 1, size, size) in [-1, 1] -> (N, size, size, 1)
// uint8 as upstream sample.py: ((x + 1) * 127.5).clamp(0, 255) truncated; padding kept.
at::Tensor to_uint8_nhwc(const at::Tensor& x);

}  // namespace sagbench::training
