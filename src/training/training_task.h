// What `sagbench train` optimises, one class per config kind: the network and
// its per-batch loss. Randomness inside a loss (timesteps, noise, label
// dropout) comes only from the generator passed in, so a step is a pure
// function of (weights, batch, generator seed). Follows upstream
// train_util.py run_step (diffusion: UniformSampler timesteps, training_losses)
// and classifier_train.py (noisy classifier: q_sample at uniform t, cross
// entropy). Tested by tests/training/trainer_test.cpp (loss decreases per kind).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <map>
#include <memory>
#include <string>

#include "training/train_config.h"

namespace sagbench::training {

struct LossTerms {
  at::Tensor loss;      // scalar: what is minimised
  double mse = 0;       // diffusion: mean eps-MSE part; classifiers: 0
  double vb = 0;        // diffusion with learned sigma: mean VLB part (bits/dim)
  double accuracy = 0;  // classifiers: top-1 on the batch
};

class TrainingTask {
 public:
  virtual ~TrainingTask() = default;
  virtual torch::nn::Module& module() = 0;
  // x: (B, C, H, W) float32 in [-1, 1] on the task's device; labels (B,) int64.
  virtual LossTerms loss(const at::Tensor& x, const at::Tensor& labels, at::Generator& generator) = 0;
  // Metadata recorded with the exported weights (architecture keys).
  virtual std::map<std::string, std::string> export_metadata() const = 0;
};

// Builds the configured task with its network on `device`, initialised from
// the global torch seed (the caller seeds it).
std::unique_ptr<TrainingTask> make_training_task(const TrainConfig& config, at::Device device);

}  // namespace sagbench::training
