// The three training tasks (see training_task.h). Random draws happen on the
// CPU generator and are moved to the device, so a seed gives the same batch
// of timesteps and noise on every device.
#include "training/training_task.h"

#include <torch/nn/functional/loss.h>

#include "config/config.h"
#include "core/error.h"
#include "diffusion/beta_schedule.h"
#include "models/encoder_unet.h"
#include "models/unet.h"
#include "training/diffusion_losses.h"
#include "training/fashion_feature_net.h"

namespace sagbench::training {
namespace {

at::Tensor uniform_timesteps(std::int64_t batch, std::int64_t num_steps, at::Generator& generator) {
  return at::randint(num_steps, {batch}, generator, at::TensorOptions().dtype(at::kLong));
}

at::Tensor gaussian_like(const at::Tensor& x, at::Generator& generator) {
  return at::randn(x.sizes(), generator, at::TensorOptions().dtype(at::kFloat)).to(x.device());
}

LossTerms classification_loss(const at::Tensor& logits, const at::Tensor& labels) {
  LossTerms terms;
  terms.loss = at::cross_entropy_loss(logits, labels);
  terms.accuracy = logits.argmax(1).eq(labels).to(at::kFloat).mean().item<double>();
  return terms;
}

class DiffusionTask : public TrainingTask {
 public:
  DiffusionTask(const TrainConfig& config, at::Device device)
      : config_(config),
        process_(diffusion::named_beta_schedule(config.diffusion.schedule, config.diffusion.steps)),
        model_(std::make_shared<models::UNetModel>(config.unet, device)) {
    model_->train();
  }
  torch::nn::Module& module() override { return *model_; }

  LossTerms loss(const at::Tensor& x, const at::Tensor& labels, at::Generator& generator) override {
    const std::int64_t batch = x.size(0);
    const at::Tensor t = uniform_timesteps(batch, process_.num_steps(), generator);
    const at::Tensor noise = gaussian_like(x, generator);
    // Label dropout: the last label is the null label of classifier-free guidance.
    const at::Tensor drop = at::rand({batch}, generator, at::TensorOptions().dtype(at::kFloat))
                                .lt(config_.diffusion.label_dropout)
                                .to(x.device());
    const at::Tensor y = at::where(drop, at::full_like(labels, config_.unet.num_classes - 1), labels);
    const at::Tensor x_t = process_.q_sample(x, t, noise);
    const at::Tensor out = model_->forward(x_t, t.to(x.device()), config_.unet.class_cond ? y : at::Tensor());
    const std::int64_t channels = x.size(1);
    const at::Tensor eps = out.narrow(1, 0, channels);
    const at::Tensor var_values = config_.unet.learn_sigma ? out.narrow(1, channels, channels) : at::Tensor();
    at::Tensor mse;
    at::Tensor vb;
    const at::Tensor losses = process_.training_losses(x, x_t, t, noise, eps, var_values, &mse, &vb);
    LossTerms terms;
    terms.loss = losses.mean();
    terms.mse = mse.mean().item<double>();
    terms.vb = vb.defined() ? vb.mean().item<double>() : 0.0;
    return terms;
  }

  std::map<std::string, std::string> export_metadata() const override {
    return {{"unet_config", config::to_yaml_string(config_.unet)}};
  }

 private:
  TrainConfig config_;
  DiffusionTrainingProcess process_;
  std::shared_ptr<models::UNetModel> model_;
};

class NoisyClassifierTask : public TrainingTask {
 public:
  NoisyClassifierTask(const TrainConfig& config, at::Device device)
      : config_(config),
        process_(diffusion::named_beta_schedule(config.diffusion.schedule, config.diffusion.steps)),
        model_(std::make_shared<models::EncoderUNetModel>(config.classifier, device)) {
    model_->train();
  }
  torch::nn::Module& module() override { return *model_; }

  LossTerms loss(const at::Tensor& x, const at::Tensor& labels, at::Generator& generator) override {
    const at::Tensor t = uniform_timesteps(x.size(0), process_.num_steps(), generator);
    const at::Tensor x_t = process_.q_sample(x, t, gaussian_like(x, generator));
    return classification_loss(model_->forward(x_t, t.to(x.device())), labels);
  }

  std::map<std::string, std::string> export_metadata() const override {
    return {{"classifier_config", config::to_yaml_string(config_.classifier)}};
  }

 private:
  TrainConfig config_;
  DiffusionTrainingProcess process_;
  std::shared_ptr<models::EncoderUNetModel> model_;
};

class FeatureNetTask : public TrainingTask {
 public:
  FeatureNetTask(const TrainConfig& config, at::Device device)
      : config_(config), model_(std::make_shared<FashionFeatureNet>(config.feature_net)) {
    model_->to(device);
    model_->train();
  }
  torch::nn::Module& module() override { return *model_; }

  LossTerms loss(const at::Tensor& x, const at::Tensor& labels, at::Generator& /*generator*/) override {
    return classification_loss(model_->forward(x), labels);
  }

  std::map<std::string, std::string> export_metadata() const override {
    return feature_net_metadata(config_.feature_net);
  }

 private:
  TrainConfig config_;
  std::shared_ptr<FashionFeatureNet> model_;
};

}  // namespace

std::unique_ptr<TrainingTask> make_training_task(const TrainConfig& config, at::Device device) {
  if (config.kind == "diffusion") {
    return std::make_unique<DiffusionTask>(config, device);
  }
  if (config.kind == "noisy_classifier") {
    return std::make_unique<NoisyClassifierTask>(config, device);
  }
  SAG_REQUIRE(config.kind == "feature_net", kConfig,
              "kind must be diffusion, noisy_classifier or feature_net, got '{}'", config.kind);
  return std::make_unique<FeatureNetTask>(config, device);
}

}  // namespace sagbench::training
