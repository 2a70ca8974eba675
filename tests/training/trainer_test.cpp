// Tests of `sagbench train`'s loop (src/training/trainer.h, training_task.h)
// on tiny synthetic data and tiny networks: config binding and validation,
// a few steps on a fixed batch lower the loss of each kind, an interrupted
// and resumed run ends bit-identical to an uninterrupted one (same thread
// count, CPU), and exported weights (fp32 and fp16) load back strictly.
#include "training/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>

#include <filesystem>

#include "config/config.h"
#include "core/error.h"
#include "io/safetensors.h"
#include "io/state_dict.h"
#include "models/encoder_unet.h"
#include "models/unet.h"
#include "support/fixtures.h"
#include "training/training_task.h"

namespace sagbench::training {
namespace {

// Tiny networks at 32x32 (GroupNorm(32) needs 32 channels in the UNet).
constexpr const char* kDiffusionYaml = R"(
kind: diffusion
image_size: 32
batch_size: 4
lr: 0.001
ema_rate: 0.9
seed: 7
steps: 4
log_every: 1
checkpoint_every: 2
device: cpu
unet:
  image_size: 32
  in_channels: 1
  num_channels: 32
  num_res_blocks: 1
  channel_mult: [1, 2]
  attention_resolutions: [16]
  num_head_channels: 32
  class_cond: true
  num_classes: 11
  learn_sigma: true
diffusion:
  steps: 100
  label_dropout: 0.25
)";

constexpr const char* kClassifierYaml = R"(
kind: noisy_classifier
image_size: 32
batch_size: 4
lr: 0.001
device: cpu
classifier:
  image_size: 32
  in_channels: 1
  width: 32
  depth: 1
  channel_mult: [1, 2]
  attention_resolutions: [16]
  num_head_channels: 32
  out_channels: 10
  pool: attention
diffusion:
  steps: 100
)";

constexpr const char* kFeatureNetYaml = R"(
kind: feature_net
image_size: 32
batch_size: 4
lr: 0.002
steps: 3
device: cpu
feature_net:
  width: 8
  stages: 2
  feature_dim: 16
)";

TrainConfig config_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return config::bind<TrainConfig>(config::parse_document(yaml, "<test>", overrides));
}

// 8 labelled 28x28 images: a class-dependent bright square on noise.
LabeledImages tiny_data() {
  at::manual_seed(11);
  LabeledImages data;
  data.images = at::randint(0, 60, {8, 28, 28}).to(at::kByte);
  data.labels = at::arange(8, at::kLong).remainder(4);
  for (std::int64_t i = 0; i < 8; ++i) {
    const std::int64_t offset = 3 + 5 * data.labels[i].item<std::int64_t>();
    data.images[i].slice(0, offset, offset + 6).slice(1, offset, offset + 6).fill_(230);
  }
  return data;
}

double fixed_loss(TrainingTask& task, const at::Tensor& x, const at::Tensor& y) {
  at::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(123);
  return task.loss(x, y, gen).loss.item<double>();
}

void expect_loss_decreases(const TrainConfig& config, double lr = 2e-3) {
  at::manual_seed(1);
  std::unique_ptr<TrainingTask> task = make_training_task(config, at::kCPU);
  const LabeledImages data = tiny_data();
  const at::Tensor x = to_model_input(data.images.slice(0, 0, 4), 32);
  const at::Tensor y = data.labels.slice(0, 0, 4);
  const double before = fixed_loss(*task, x, y);
  torch::optim::AdamW optimizer(task->module().parameters(), torch::optim::AdamWOptions(lr));
  for (int step = 0; step < 12; ++step) {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(123);
    optimizer.zero_grad();
    task->loss(x, y, gen).loss.backward();
    optimizer.step();
  }
  const double after = fixed_loss(*task, x, y);
  EXPECT_LT(after, 0.8 * before) << config.kind << ": loss " << before << " -> " << after;
}

TEST(TrainerTest, ConfigBindingAndValidation) {
  const TrainConfig config = config_of(kDiffusionYaml);
  EXPECT_EQ(config.unet.num_classes, 11);
  EXPECT_DOUBLE_EQ(config.diffusion.label_dropout, 0.25);
  EXPECT_THROW(config_of(kDiffusionYaml, {"kind=gan"}), Error);
  EXPECT_THROW(config_of(kDiffusionYaml, {"unet.num_classes=10"}), Error);
  EXPECT_THROW(config_of(kDiffusionYaml, {"unet.in_channels=3"}), Error);
  EXPECT_THROW(config_of(kDiffusionYaml, {"image_size=31"}), Error);
  EXPECT_THROW(config_of(kFeatureNetYaml, {"feature_net.width=12"}), Error);
  EXPECT_THROW(config_of(kFeatureNetYaml, {"ema_rate=1"}), Error);
  EXPECT_THROW(resolve_device("tpu"), Error);
}

TEST(TrainerTest, DiffusionStepsLowerTheLossOnAFixedBatch) {
  expect_loss_decreases(config_of(kDiffusionYaml));
}

TEST(TrainerTest, NoisyClassifierStepsLowerTheLossOnAFixedBatch) {
  expect_loss_decreases(config_of(kClassifierYaml));
}

TEST(TrainerTest, FeatureNetStepsLowerTheLossOnAFixedBatch) {
  expect_loss_decreases(config_of(kFeatureNetYaml), 1e-2);
}

TEST(TrainerTest, ResumedRunEqualsUninterruptedRun) {
  const TrainConfig config = config_of(kDiffusionYaml);
  const LabeledImages data = tiny_data();
  const std::string full_dir = testing::make_temp_dir("train_full");
  const TrainResult full = train(config, data, full_dir);
  EXPECT_EQ(full.step, 4);
  ASSERT_FALSE(full.weights_path.empty());

  const std::string split_dir = testing::make_temp_dir("train_split");
  TrainOptions interrupt;
  interrupt.max_steps_this_run = 3;  // stops past the step-2 checkpoint, saving step 3
  const TrainResult first = train(config, data, split_dir, interrupt);
  EXPECT_EQ(first.step, 3);
  EXPECT_TRUE(first.weights_path.empty());
  const TrainResult second = train(config, data, split_dir);
  EXPECT_EQ(second.start_step, 3);
  EXPECT_EQ(second.step, 4);

  // Same weights, EMA and Adam moments at step 4, bit for bit.
  const io::TensorDict a = io::read_safetensors(latest_checkpoint(full_dir));
  const io::TensorDict b = io::read_safetensors(latest_checkpoint(split_dir));
  ASSERT_EQ(a.names(), b.names());
  EXPECT_TRUE(a.contains("adam.label_emb.weight.exp_avg"));
  for (const auto& [name, tensor] : a.items()) {
    EXPECT_TRUE(at::equal(tensor, b.at(name))) << name;
  }
  const io::TensorDict wa = io::read_safetensors(full.weights_path);
  const io::TensorDict wb = io::read_safetensors(second.weights_path);
  for (const auto& [name, tensor] : wa.items()) {
    EXPECT_TRUE(at::equal(tensor, wb.at(name))) << name;
  }
  // The exported weights are the EMA, not the raw weights.
  EXPECT_TRUE(at::equal(wa.at("out.2.weight"), a.at("ema.out.2.weight")));
  EXPECT_FALSE(at::equal(a.at("ema.out.2.weight"), a.at("model.out.2.weight")));
  // keep_checkpoints (2) pruned step 2 of the three written (2, 3, 4).
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(split_dir + "/checkpoints")) {
    files += entry.path().extension() == ".safetensors" ? 1 : 0;
  }
  EXPECT_EQ(files, 2u);
}

// One update from the initial weights W0 to W1: the EMA is d W0 + (1 - d) W1
// with d = min(0.9, 1/10) under warm-up and d = 0.9 without; `raw` exports W1.
TEST(TrainerTest, EmaWarmupAndRawExport) {
  const LabeledImages data = tiny_data();
  auto exported = [&](const std::vector<std::string>& overrides) {
    std::vector<std::string> all = {"steps=1"};
    all.insert(all.end(), overrides.begin(), overrides.end());
    const TrainResult result =
        train(config_of(kDiffusionYaml, all), data, testing::make_temp_dir("train_ema"));
    return io::read_safetensors(result.weights_path).at("out.2.weight");
  };
  const at::Tensor raw = exported({"export_weights=raw"});
  const at::Tensor plain = exported({"ema_warmup=false"});
  const at::Tensor warm = exported({});
  const at::Tensor initial = (plain - 0.1 * raw) / 0.9;
  EXPECT_FALSE(at::allclose(raw, initial));
  EXPECT_TRUE(at::allclose(warm, 0.1 * initial + 0.9 * raw, 1e-5, 1e-6));
}

TEST(TrainerTest, ExportedWeightsLoadBackStrictly) {
  const LabeledImages data = tiny_data();
  const TrainConfig diffusion = config_of(kDiffusionYaml, {"steps=1", "export_fp16=true"});
  const TrainResult result = train(diffusion, data, testing::make_temp_dir("train_export"));
  io::SafetensorsMetadata metadata;
  const io::TensorDict weights = io::read_safetensors(result.weights_path, &metadata);
  EXPECT_EQ(weights.at("out.2.weight").scalar_type(), at::kHalf);
  EXPECT_EQ(metadata.at("kind"), "diffusion");
  EXPECT_NE(metadata.at("train_config").find("label_dropout: 0.25"), std::string::npos);
  models::UNetModel unet(diffusion.unet);
  io::LoadOptions convert;
  convert.convert_dtype = true;
  io::load_state_dict(unet, weights, result.weights_path, convert);

  const TrainConfig classifier = config_of(kClassifierYaml, {"steps=1"});
  const TrainResult classifier_result = train(classifier, data, testing::make_temp_dir("train_export_cls"));
  models::EncoderUNetModel encoder(classifier.classifier);
  io::load_state_dict(encoder, io::read_safetensors(classifier_result.weights_path),
                      classifier_result.weights_path);
  // A model of another shape is refused.
  models::UNetModel other(config_of(kDiffusionYaml, {"unet.num_channels=64"}).unet);
  EXPECT_THROW(io::load_state_dict(other, weights, result.weights_path, convert), Error);
}

TEST(TrainerTest, ResumeRefusesACheckpointOfAnotherKind) {
  const LabeledImages data = tiny_data();
  const std::string dir = testing::make_temp_dir("train_kind");
  train(config_of(kFeatureNetYaml, {"steps=1"}), data, dir);
  EXPECT_THROW(train(config_of(kDiffusionYaml), data, dir), Error);
}

}  // namespace
}  // namespace sagbench::training
