// The Fashion-MNIST feature network: a small clean-image classifier whose
// penultimate features replace Inception's pool features for FID and
// precision/recall on this dataset (and its logits for IS), in the spirit of
// the domain classifiers used for MNIST-like FID. Its weights file
// (safetensors) carries its architecture in the metadata, so the evaluator
// rebuilds it from the file alone ("fashion-feature-net" extractor).
// Tested by tests/training/feature_net_test.cpp.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "evaluation/feature_extractor.h"
#include "training/train_config.h"

namespace sagbench::training {

struct FeatureNetOutput {
  at::Tensor features;  // (B, feature_dim) after SiLU: the pool features
  at::Tensor logits;    // (B, num_classes)
};

// stem conv3x3 -> `stages` x [conv3x3 stride 2, GroupNorm(8), SiLU, conv3x3,
// GroupNorm(8), SiLU] -> global mean -> linear + SiLU (features) -> linear (logits).
class FashionFeatureNet : public torch::nn::Module {
 public:
  explicit FashionFeatureNet(const FeatureNetConfig& config);
  FeatureNetOutput forward_features(const at::Tensor& x);
  at::Tensor forward(const at::Tensor& x) { return forward_features(x).logits; }
  const FeatureNetConfig& config() const { return config_; }

 private:
  FeatureNetConfig config_;
  torch::nn::Conv2d stem_{nullptr};
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<torch::nn::GroupNorm> norms_;
  torch::nn::Linear feature_{nullptr};
  torch::nn::Linear head_{nullptr};
};

// The architecture as safetensors metadata ("feature_net.width" -> "32", ...) and back.
std::map<std::string, std::string> feature_net_metadata(const FeatureNetConfig& config);
FeatureNetConfig feature_net_config_from_metadata(const std::map<std::string, std::string>& metadata,
                                                  const std::string& source);

// FeatureExtractor over a trained FashionFeatureNet: (B, H, W, 1) uint8 images,
// 28x28 (zero-padded like training) or image_size x image_size already padded.
// pool = features; logits = logits_unbiased = logits (one linear head; there is
// no Inception-style bias split). No spatial features (sFID is not defined).
class FashionFeatureExtractor : public eval::FeatureExtractor {
 public:
  FashionFeatureExtractor(const std::string& weights_path, at::Device device, std::int64_t image_size = 32);
  std::string name() const override { return "fashion-feature-net"; }
  std::string weights_sha256() const override { return sha256_; }
  std::string preprocessing() const override { return "zero-pad-32-scale-1"; }
  std::string compute_precision() const override { return "fp32"; }
  eval::FeatureDims dims() const override;
  std::int64_t channels() const override { return 1; }
  eval::FeatureBatch extract(const at::Tensor& images, const std::string& what) override;

 private:
  std::shared_ptr<FashionFeatureNet> net_;
  at::Device device_;
  std::int64_t image_size_;
  std::string sha256_;
};

// Registers "fashion-feature-net" (config.weights, config.device) with the evaluator.
void register_fashion_feature_extractor();

// Top-1 accuracy of `net` on (N, H, W) uint8 images and (N,) labels.
double classification_accuracy(FashionFeatureNet& net, const at::Tensor& images, const at::Tensor& labels,
                               std::int64_t image_size, at::Device device, std::int64_t batch_size = 500);

}  // namespace sagbench::training
