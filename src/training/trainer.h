// The training loop of `sagbench train`: AdamW (upstream train_util.py uses
// AdamW), an EMA of the weights (update_ema: ema = rate * ema + (1 - rate) *
// param; the exported weights are the EMA), seeded data order and draws, and
// atomic checkpoints for exact resumption. Randomness is a function of (seed,
// step): each step's batch comes from the epoch's seeded permutation and its
// draws (timesteps, noise, label dropout, dropout) from generators seeded
// with (seed, step), so a resumed run needs only the step to replay exactly
// (given the same thread count and device). Tested by tests/training/trainer_test.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "training/fashion_mnist.h"
#include "training/train_config.h"

namespace sagbench::training {

struct TrainOptions {
  // Stop (with a checkpoint) after this many steps in this invocation,
  // before config.steps; -1 runs to config.steps. Simulates an interruption.
  std::int64_t max_steps_this_run = -1;
  // Held-out data for the final report (feature_net: test accuracy); may be empty.
  LabeledImages test_data;
};

struct TrainResult {
  std::int64_t start_step = 0;  // 0, or the step a checkpoint was resumed from
  std::int64_t step = 0;        // steps done in total
  double last_loss = 0;         // mean loss of the last logging window
  double test_accuracy = -1;    // feature_net / noisy classifier at t = 0 on test_data; -1 if not measured
  std::string weights_path;     // exported weights (empty when stopped early)
};

// Device of config.device: "auto" is cuda when available, else cpu.
at::Device resolve_device(const std::string& device);

// Trains into `run_dir` (must exist): checkpoints/step_XXXXXXXX.safetensors
// (newest keep_checkpoints kept), train_log.csv (step,loss,mse,vb,accuracy,
// lr,elapsed_s; appended across resumptions), and at the end
// <kind>.safetensors: the EMA weights (fp16 when export_fp16) with metadata
// kind, step, the architecture and the resolved train_config YAML.
// Resumes from the latest checkpoint when config.resume.
TrainResult train(const TrainConfig& config, const LabeledImages& data, const std::string& run_dir,
                  const TrainOptions& options = {});

// The latest checkpoint file of a run dir, or "" when there is none.
std::string latest_checkpoint(const std::string& run_dir);

}  // namespace sagbench::training
