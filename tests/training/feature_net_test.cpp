// Tests of the Fashion-MNIST feature network (src/training/fashion_feature_net.h):
// training reports test accuracy; the exported file rebuilds the network from
// its metadata alone through the evaluator's extractor registry; the
// extractor's features and logits equal the network's; bad inputs are errors.
#include <gtest/gtest.h>

#include "config/config.h"
#include "core/error.h"
#include "evaluation/evaluator_config.h"
#include "io/safetensors.h"
#include "io/state_dict.h"
#include "support/fixtures.h"
#include "training/fashion_feature_net.h"
#include "training/fashion_mnist.h"
#include "training/trainer.h"

namespace sagbench::training {
namespace {

TEST(FeatureNetTest, TrainedNetServesAsAFeatureExtractor) {
  TrainConfig config = config::bind<TrainConfig>(config::parse_document(R"(
kind: feature_net
batch_size: 8
lr: 0.003
steps: 5
device: cpu
feature_net: {width: 8, stages: 2, feature_dim: 16}
)"));
  at::manual_seed(2);
  LabeledImages data;
  data.images = at::randint(0, 256, {16, 28, 28}).to(at::kByte);
  data.labels = at::arange(16, at::kLong).remainder(10);
  TrainOptions options;
  options.test_data = data;
  const TrainResult result = train(config, data, testing::make_temp_dir("feature_net"), options);
  EXPECT_GE(result.test_accuracy, 0.0);
  EXPECT_LE(result.test_accuracy, 1.0);

  register_fashion_feature_extractor();
  eval::EvaluatorConfig eval_config;
  eval_config.extractor = "fashion-feature-net";
  eval_config.weights = result.weights_path;
  std::unique_ptr<eval::FeatureExtractor> extractor = eval::make_feature_extractor(eval_config);
  EXPECT_EQ(extractor->dims().pool, 16);
  EXPECT_EQ(extractor->dims().classes, 10);
  EXPECT_EQ(extractor->channels(), 1);
  EXPECT_EQ(extractor->weights_sha256().size(), 64u);

  const at::Tensor images = data.images.slice(0, 0, 5).unsqueeze(3).contiguous();
  const eval::FeatureBatch batch = extractor->extract(images, "test images");
  ASSERT_EQ(batch.pool.sizes(), (std::vector<std::int64_t>{5, 16}));
  ASSERT_EQ(batch.logits.sizes(), (std::vector<std::int64_t>{5, 10}));
  // The same network built by hand from the file gives the same outputs;
  // already-padded 32x32 images give the same features as 28x28 ones.
  io::SafetensorsMetadata metadata;
  const io::TensorDict weights = io::read_safetensors(result.weights_path, &metadata);
  FashionFeatureNet net(feature_net_config_from_metadata(metadata, result.weights_path));
  io::load_state_dict(net, weights, result.weights_path);
  net.eval();
  at::NoGradGuard no_grad;
  const FeatureNetOutput direct = net.forward_features(to_model_input(data.images.slice(0, 0, 5), 32));
  EXPECT_TRUE(at::allclose(batch.pool, direct.features, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(batch.logits, direct.logits, 1e-5, 1e-6));
  const at::Tensor padded = at::constant_pad_nd(images, {0, 0, 2, 2, 2, 2}, 0);
  EXPECT_TRUE(at::allclose(extractor->extract(padded, "padded").pool, batch.pool, 1e-4, 1e-5));
  EXPECT_EQ(classification_accuracy(net, data.images, data.labels, 32, at::kCPU), result.test_accuracy);

  EXPECT_THROW(extractor->extract(at::zeros({2, 28, 28, 3}, at::kByte), "rgb"), Error);
  EXPECT_THROW(extractor->extract(at::zeros({2, 28, 28, 1}, at::kFloat), "float"), Error);
  EXPECT_THROW(feature_net_config_from_metadata({}, "bare.safetensors"), Error);
}

}  // namespace
}  // namespace sagbench::training
