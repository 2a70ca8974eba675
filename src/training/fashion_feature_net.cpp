// FashionFeatureNet, its metadata round trip and the evaluator adapter (see
// fashion_feature_net.h). Features and logits are float32.
#include "training/fashion_feature_net.h"

#include <torch/nn/functional/activation.h>
#include <torch/types.h>

#include "core/error.h"
#include "evaluation/evaluator_config.h"
#include "evaluation/sha256.h"
#include "io/safetensors.h"
#include "io/state_dict.h"
#include "models/layers.h"
#include "training/fashion_mnist.h"

namespace sagbench::training {

void FeatureNetConfig::validate() const {
  SAG_REQUIRE(in_channels >= 1 && stages >= 1 && stages <= 6 && feature_dim >= 1 && num_classes >= 2, kConfig,
              "feature_net: in_channels, stages (1..6), feature_dim must be positive and num_classes >= 2");
  SAG_REQUIRE(width >= 8 && width % 8 == 0, kConfig,
              "feature_net.width must be a positive multiple of 8 (GroupNorm(8)), got {}", width);
}

FashionFeatureNet::FashionFeatureNet(const FeatureNetConfig& config) : config_(config) {
  config_.validate();
  namespace nn = torch::nn;
  stem_ =
      register_module("stem", nn::Conv2d(nn::Conv2dOptions(config.in_channels, config.width, 3).padding(1)));
  std::int64_t channels = config.width;
  for (int s = 0; s < config.stages; ++s) {
    const std::int64_t out = channels * 2;
    const std::string prefix = "stage" + std::to_string(s);
    convs_.push_back(register_module(prefix + "_down",
                                     nn::Conv2d(nn::Conv2dOptions(channels, out, 3).stride(2).padding(1))));
    norms_.push_back(register_module(prefix + "_norm1", nn::GroupNorm(nn::GroupNormOptions(8, out))));
    convs_.push_back(
        register_module(prefix + "_conv", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1))));
    norms_.push_back(register_module(prefix + "_norm2", nn::GroupNorm(nn::GroupNormOptions(8, out))));
    channels = out;
  }
  feature_ = register_module("feature", nn::Linear(channels, config.feature_dim));
  head_ = register_module("head", nn::Linear(config.feature_dim, config.num_classes));
}

FeatureNetOutput FashionFeatureNet::forward_features(const at::Tensor& x) {
  SAG_REQUIRE(x.dim() == 4 && x.size(1) == config_.in_channels, kShape,
              "feature net input must be (B, {}, H, W), got {}", config_.in_channels,
              models::describe_shape(x));
  at::Tensor h = stem_->forward(x);
  for (std::size_t i = 0; i < convs_.size(); ++i) {
    h = at::silu(norms_[i]->forward(convs_[i]->forward(h)));
  }
  FeatureNetOutput out;
  out.features = at::silu(feature_->forward(h.mean({2, 3})));
  out.logits = head_->forward(out.features);
  return out;
}

std::map<std::string, std::string> feature_net_metadata(const FeatureNetConfig& config) {
  return {{"feature_net.in_channels", std::to_string(config.in_channels)},
          {"feature_net.width", std::to_string(config.width)},
          {"feature_net.stages", std::to_string(config.stages)},
          {"feature_net.feature_dim", std::to_string(config.feature_dim)},
          {"feature_net.num_classes", std::to_string(config.num_classes)}};
}

FeatureNetConfig feature_net_config_from_metadata(const std::map<std::string, std::string>& metadata,
                                                  const std::string& source) {
  auto get = [&](const std::string& key) {
    auto it = metadata.find("feature_net." + key);
    SAG_REQUIRE(it != metadata.end(), kFormat,
                "{}: metadata lacks feature_net.{} (not a feature-net weights file?)", source, key);
    try {
      return std::stoi(it->second);
    } catch (const std::exception&) {
      SAG_FAIL(kFormat, "{}: metadata feature_net.{} = '{}' is not an integer", source, key, it->second);
    }
  };
  FeatureNetConfig config;
  config.in_channels = get("in_channels");
  config.width = get("width");
  config.stages = get("stages");
  config.feature_dim = get("feature_dim");
  config.num_classes = get("num_classes");
  config.validate();
  return config;
}

FashionFeatureExtractor::FashionFeatureExtractor(const std::string& weights_path, at::Device device,
                                                 std::int64_t image_size)
    : device_(device), image_size_(image_size) {
  io::SafetensorsMetadata metadata;
  io::TensorDict tensors = io::read_safetensors(weights_path, &metadata);
  net_ = std::make_shared<FashionFeatureNet>(feature_net_config_from_metadata(metadata, weights_path));
  io::LoadOptions options;
  options.convert_dtype = true;  // fp16 exports load into the float32 net
  io::load_state_dict(*net_, tensors, weights_path, options);
  net_->to(device_);
  net_->eval();
  sha256_ = eval::sha256_file(weights_path);
}

eval::FeatureDims FashionFeatureExtractor::dims() const {
  eval::FeatureDims d;
  d.pool = net_->config().feature_dim;
  d.classes = net_->config().num_classes;
  return d;
}

eval::FeatureBatch FashionFeatureExtractor::extract(const at::Tensor& images, const std::string& what) {
  SAG_REQUIRE(images.scalar_type() == at::kByte, kFormat, "{}: images must be uint8, got {}", what,
              c10::toString(images.scalar_type()));
  SAG_REQUIRE(images.dim() == 4 && images.size(3) == 1, kShape, "{}: images must be (B, H, W, 1), got {}",
              what, models::describe_shape(images));
  at::NoGradGuard no_grad;
  const at::Tensor x = to_model_input(images.select(3, 0).contiguous(), image_size_).to(device_);
  FeatureNetOutput out = net_->forward_features(x);
  eval::FeatureBatch batch;
  batch.pool = out.features.to(at::kCPU, at::kFloat).contiguous();
  batch.logits = out.logits.to(at::kCPU, at::kFloat).contiguous();
  batch.logits_unbiased = batch.logits;
  return batch;
}

void register_fashion_feature_extractor() {
  eval::register_feature_extractor("fashion-feature-net", [](const eval::EvaluatorConfig& config) {
    SAG_REQUIRE(!config.weights.empty(), kConfig,
                "extractor fashion-feature-net needs `weights` (feature_net.safetensors)");
    return std::make_unique<FashionFeatureExtractor>(config.weights, at::Device(config.device));
  });
}

double classification_accuracy(FashionFeatureNet& net, const at::Tensor& images, const at::Tensor& labels,
                               std::int64_t image_size, at::Device device, std::int64_t batch_size) {
  at::NoGradGuard no_grad;
  const bool was_training = net.is_training();
  net.eval();
  std::int64_t correct = 0;
  const std::int64_t n = images.size(0);
  for (std::int64_t begin = 0; begin < n; begin += batch_size) {
    const std::int64_t end = std::min(n, begin + batch_size);
    const at::Tensor x = to_model_input(images.slice(0, begin, end), image_size).to(device);
    const at::Tensor predicted = net.forward(x).argmax(1).to(at::kCPU);
    correct += predicted.eq(labels.slice(0, begin, end)).sum().item<std::int64_t>();
  }
  net.train(was_training);
  return n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

}  // namespace sagbench::training
