// `sagbench train CONFIG.yaml [key=value ...]`: trains one of the bundled
// Fashion-MNIST models (configs/train/: the class-conditional diffusion UNet
// with a CFG null label, the noisy classifier, the feature network of the
// dataset's FID/IS/P&R) into <output_dir>/<name>, resuming from its latest
// checkpoint when the config (apart from `steps` and the export keys) is the
// same: rerunning with another `steps=` extends a run, or exports it at a
// checkpoint already reached. Also registers the
// "fashion-feature-net" evaluator extractor. The loop is src/training/trainer.h, tested by tests/training/.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "config/config.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "training/fashion_feature_net.h"
#include "training/fashion_mnist.h"
#include "training/trainer.h"

namespace sagbench::cli {
namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
};

void train_command(const TrainArgs& args) {
  const config::Document document = config::load_document(args.config, args.overrides);
  const training::TrainConfig config = config::bind<training::TrainConfig>(document);
  const training::LabeledImages data = training::load_fashion_mnist(config.data_dir, "train");
  training::TrainOptions options;
  if (config.kind == "feature_net") {
    options.test_data = training::load_fashion_mnist(config.data_dir, "test");
  }
  RunDirRequest request;
  request.parent = config.output_dir;
  request.name = config.name;
  // The run's identity is its config without `steps` and the export-time
  // keys: training can be extended, or ended early and exported, by resuming.
  YAML::Node identity = config::to_yaml(config);
  for (const char* key :
       {"steps", "export_weights", "export_fp16", "preview_per_class", "preview_respacing"}) {
    identity.remove(key);
  }
  request.config_yaml = config::to_yaml_string(identity);
  request.overrides = args.overrides;
  const RunDir run = open_run_dir(request);
  SAG_LOG_INFO("training {} on {} images in {} ({})", config.kind, data.images.size(0), run.path,
               run.resumed ? "existing run" : "new run");
  const training::TrainResult result = training::train(config, data, run.path, options);
  std::printf("run_dir: %s\nsteps: %lld\nloss: %.6g\nweights: %s\n", run.path.c_str(),
              static_cast<long long>(result.step), result.last_loss, result.weights_path.c_str());
  if (result.test_accuracy >= 0) {
    std::printf("test_accuracy: %.4f\n", result.test_accuracy);
  }
  std::fflush(stdout);
}

}  // namespace

void register_train(CLI::App& app) {
  training::register_fashion_feature_extractor();
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a bundled Fashion-MNIST model (kind: diffusion | noisy_classifier | feature_net) into "
      "<output_dir>/<name>: train_log.csv, checkpoints/ (resumable), <kind>.safetensors (EMA weights).\n"
      "Example: sagbench train configs/train/fashion_diffusion.yaml steps=2000 device=cpu");
  cmd->add_option("config", args->config, "training YAML (presets: configs/train/*.yaml)")->required();
  cmd->add_option("overrides", args->overrides,
                  "key=value overrides, e.g. batch_size=32 unet.num_channels=64");
  cmd->callback([args] { train_command(*args); });
}

}  // namespace sagbench::cli
