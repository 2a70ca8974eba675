// The training loop (see trainer.h). Checkpoints are single safetensors files
// written atomically (io::AtomicFile): "model.<name>" (state dict),
// "ema.<param>", "adam.<param>.{exp_avg,exp_avg_sq,step}", metadata step/kind/seed.
#include "training/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "io/safetensors.h"
#include "io/state_dict.h"
#include "models/unet.h"
#include "training/fashion_feature_net.h"
#include "training/preview.h"
#include "training/training_task.h"

namespace sagbench::training {
namespace fs = std::filesystem;
namespace {

enum class Stream : std::uint64_t { kInit = 1, kDataOrder = 2, kDraws = 3, kDropout = 4 };

// splitmix64 of (seed, stream, index): independent seeds per use.
std::uint64_t mix_seed(std::int64_t seed, Stream stream, std::int64_t index) {
  std::uint64_t z = static_cast<std::uint64_t>(seed) * 0x9E3779B97F4A7C15ULL +
                    static_cast<std::uint64_t>(stream) * 0xBF58476D1CE4E5B9ULL +
                    static_cast<std::uint64_t>(index);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFFULL;
}

at::Generator cpu_generator(std::uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

std::string param_key(const at::Tensor& p) {
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

// Batches of one epoch come from its seeded permutation; the last partial batch is dropped.
class DataOrder {
 public:
  DataOrder(std::int64_t size, std::int64_t batch, std::int64_t seed)
      : size_(size), batch_(batch), seed_(seed) {
    SAG_REQUIRE(size >= batch, kConfig, "batch_size {} exceeds the {} training images", batch, size);
  }
  at::Tensor indices(std::int64_t step) {
    const std::int64_t per_epoch = size_ / batch_;
    const std::int64_t epoch = step / per_epoch;
    if (epoch != epoch_) {
      at::Generator gen = cpu_generator(mix_seed(seed_, Stream::kDataOrder, epoch));
      perm_ = at::randperm(size_, gen, at::TensorOptions().dtype(at::kLong));
      epoch_ = epoch;
    }
    return perm_.narrow(0, (step % per_epoch) * batch_, batch_);
  }

 private:
  std::int64_t size_, batch_, seed_;
  std::int64_t epoch_ = -1;
  at::Tensor perm_;
};

struct State {
  torch::nn::Module* module = nullptr;
  std::vector<std::string> names;  // named_parameters order
  std::vector<at::Tensor> params;
  std::vector<at::Tensor> ema;
};

void save_checkpoint(const State& state, torch::optim::AdamW& optimizer, const TrainConfig& config,
                     std::int64_t step, const std::string& run_dir) {
  io::TensorDict dict;
  const io::TensorDict weights = io::state_dict_of(*state.module);
  for (const auto& [name, tensor] : weights.items()) {
    dict.insert("model." + name, tensor.detach().to(at::kCPU).contiguous());
  }
  for (std::size_t i = 0; i < state.params.size(); ++i) {
    dict.insert("ema." + state.names[i], state.ema[i].to(at::kCPU).contiguous());
    auto it = optimizer.state().find(param_key(state.params[i]));
    if (it != optimizer.state().end()) {
      const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
      dict.insert("adam." + state.names[i] + ".exp_avg", s.exp_avg().to(at::kCPU).contiguous());
      dict.insert("adam." + state.names[i] + ".exp_avg_sq", s.exp_avg_sq().to(at::kCPU).contiguous());
      dict.insert("adam." + state.names[i] + ".step", at::full({1}, s.step(), at::kLong));
    }
  }
  const std::string dir = run_dir + "/checkpoints";
  fs::create_directories(dir);
  const std::string path = fmt::format("{}/step_{:08d}.safetensors", dir, step);
  io::write_safetensors(
      path, dict,
      {{"step", std::to_string(step)}, {"kind", config.kind}, {"seed", std::to_string(config.seed)}});
  // Keep the newest keep_checkpoints files.
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".safetensors") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  for (std::size_t i = 0; i + static_cast<std::size_t>(config.keep_checkpoints) < files.size(); ++i) {
    fs::remove(files[i]);
  }
}

std::int64_t load_checkpoint(State& state, torch::optim::AdamW& optimizer, const TrainConfig& config,
                             const std::string& path) {
  io::SafetensorsMetadata metadata;
  const io::TensorDict dict = io::read_safetensors(path, &metadata);
  SAG_REQUIRE(metadata.count("step") == 1 && metadata["kind"] == config.kind, kFormat,
              "{}: not a '{}' training checkpoint (metadata step/kind)", path, config.kind);
  io::TensorDict model;
  for (const auto& [name, tensor] : dict.items()) {
    if (name.rfind("model.", 0) == 0) {
      model.insert(name.substr(6), tensor, path);
    }
  }
  io::load_state_dict(*state.module, model, path);
  for (std::size_t i = 0; i < state.params.size(); ++i) {
    const std::string& name = state.names[i];
    state.ema[i].copy_(dict.at("ema." + name));
    if (dict.contains("adam." + name + ".step")) {
      auto s = std::make_unique<torch::optim::AdamWParamState>();
      s->step(dict.at("adam." + name + ".step").item<std::int64_t>());
      s->exp_avg(dict.at("adam." + name + ".exp_avg").to(state.params[i].device()).clone());
      s->exp_avg_sq(dict.at("adam." + name + ".exp_avg_sq").to(state.params[i].device()).clone());
      optimizer.state()[param_key(state.params[i])] = std::move(s);
    }
  }
  try {
    return std::stoll(metadata["step"]);
  } catch (const std::exception&) {
    SAG_FAIL(kFormat, "{}: metadata step '{}' is not an integer", path, metadata["step"]);
  }
}

// Exports the EMA weights (copied into the module) with the resolved config.
std::string export_weights(const State& state, TrainingTask& task, const TrainConfig& config,
                           std::int64_t step, const std::string& run_dir) {
  io::TensorDict dict;
  const io::TensorDict weights = io::state_dict_of(*state.module);
  for (const auto& [name, tensor] : weights.items()) {
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    if (config.export_fp16 && t.is_floating_point()) {
      t = t.to(at::kHalf);
    }
    dict.insert(name, t);
  }
  std::map<std::string, std::string> metadata = task.export_metadata();
  metadata["kind"] = config.kind;
  metadata["step"] = std::to_string(step);
  metadata["train_config"] = config::to_yaml_string(config);
  const std::string path = run_dir + "/" + config.kind + ".safetensors";
  io::write_safetensors(path, dict, metadata);
  return path;
}

class CsvLog {
 public:
  explicit CsvLog(const std::string& path) {
    const bool fresh = !fs::exists(path);
    out_.open(path, std::ios::app);
    SAG_REQUIRE(out_.good(), kIo, "{}: cannot open the training log for appending", path);
    if (fresh) {
      out_ << "step,loss,mse,vb,accuracy,lr,elapsed_s\n";
    }
  }
  void row(std::int64_t step, double loss, double mse, double vb, double accuracy, double lr,
           double elapsed_s) {
    out_ << fmt::format("{},{:.6g},{:.6g},{:.6g},{:.6g},{:g},{:.1f}\n", step, loss, mse, vb, accuracy, lr,
                        elapsed_s);
    out_.flush();
  }

 private:
  std::ofstream out_;
};

}  // namespace

at::Device resolve_device(const std::string& device) {
  if (device == "auto") {
    return torch::cuda::is_available() ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  }
  try {
    return at::Device(device);
  } catch (const std::exception&) {
    SAG_FAIL(kConfig, "device must be auto, cpu, cuda or cuda:N, got '{}'", device);
  }
}

std::string latest_checkpoint(const std::string& run_dir) {
  const fs::path dir = fs::path(run_dir) / "checkpoints";
  std::string latest;
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("step_", 0) == 0 && entry.path().extension() == ".safetensors" &&
          (latest.empty() || entry.path().string() > latest)) {
        latest = entry.path().string();
      }
    }
  }
  return latest;
}

TrainResult train(const TrainConfig& config, const LabeledImages& data, const std::string& run_dir,
                  const TrainOptions& options) {
  config.validate();
  SAG_REQUIRE(fs::is_directory(run_dir), kIo, "run directory {} does not exist", run_dir);
  SAG_REQUIRE(data.images.defined() && data.images.dim() == 3 && data.labels.size(0) == data.images.size(0),
              kShape, "training data must be (N, H, W) images with N labels");
  const at::Device device = resolve_device(config.device);
  torch::manual_seed(mix_seed(config.seed, Stream::kInit, 0));
  std::unique_ptr<TrainingTask> task = make_training_task(config, device);
  State state;
  state.module = &task->module();
  for (const auto& item : state.module->named_parameters()) {
    state.names.push_back(item.key());
    state.params.push_back(item.value());
    state.ema.push_back(item.value().detach().clone());
  }
  torch::optim::AdamW optimizer(state.params,
                                torch::optim::AdamWOptions(config.lr).weight_decay(config.weight_decay));

  TrainResult result;
  const std::string resume_from = config.resume ? latest_checkpoint(run_dir) : "";
  if (!resume_from.empty()) {
    result.start_step = load_checkpoint(state, optimizer, config, resume_from);
    SAG_LOG_INFO("resuming {} from step {} ({})", config.kind, result.start_step, resume_from);
  }
  std::int64_t end_step = config.steps;
  if (options.max_steps_this_run >= 0) {
    end_step = std::min(end_step, result.start_step + options.max_steps_this_run);
  }
  DataOrder order(data.images.size(0), config.batch_size, config.seed);
  CsvLog csv(run_dir + "/train_log.csv");
  ProgressOptions progress_options;
  progress_options.unit = "step";
  Progress progress("train " + config.kind, config.steps - result.start_step, progress_options);
  const auto start_time = std::chrono::steady_clock::now();
  double window_loss = 0, window_mse = 0, window_vb = 0, window_accuracy = 0;
  std::int64_t window = 0;
  std::int64_t step = result.start_step;
  while (step < end_step) {
    const at::Tensor idx = order.indices(step);
    const at::Tensor x = to_model_input(data.images.index_select(0, idx), config.image_size).to(device);
    const at::Tensor labels = data.labels.index_select(0, idx).to(device);
    at::Generator draws = cpu_generator(mix_seed(config.seed, Stream::kDraws, step));
    torch::manual_seed(mix_seed(config.seed, Stream::kDropout, step));
    optimizer.zero_grad();
    const LossTerms terms = task->loss(x, labels, draws);
    terms.loss.backward();
    optimizer.step();
    {
      at::NoGradGuard no_grad;
      const double n = static_cast<double>(step);
      const double rate =
          config.ema_warmup ? std::min(config.ema_rate, (1.0 + n) / (10.0 + n)) : config.ema_rate;
      for (std::size_t i = 0; i < state.params.size(); ++i) {
        state.ema[i].mul_(rate).add_(state.params[i].detach(), 1.0 - rate);
      }
    }
    ++step;
    const double loss = terms.loss.item<double>();
    SAG_REQUIRE(std::isfinite(loss), kNumeric, "training loss is not finite at step {} ({})", step, loss);
    window_loss += loss;
    window_mse += terms.mse;
    window_vb += terms.vb;
    window_accuracy += terms.accuracy;
    ++window;
    progress.advance();
    if (step % config.log_every == 0 || step == end_step) {
      const double elapsed_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
      const double n = static_cast<double>(window);
      result.last_loss = window_loss / n;
      csv.row(step, result.last_loss, window_mse / n, window_vb / n, window_accuracy / n, config.lr,
              elapsed_s);
      SAG_LOG_INFO("{} step {}/{} loss {:.5f} (mse {:.5f} vb {:.5f} acc {:.3f})", config.kind, step,
                   config.steps, result.last_loss, window_mse / n, window_vb / n, window_accuracy / n);
      window_loss = window_mse = window_vb = window_accuracy = 0;
      window = 0;
    }
    if (step % config.checkpoint_every == 0 || step == end_step) {
      save_checkpoint(state, optimizer, config, step, run_dir);
    }
  }
  progress.finish();
  result.step = step;
  if (step < config.steps) {
    return result;  // interrupted on purpose: the checkpoint holds the state
  }
  if (config.export_weights == "ema") {
    at::NoGradGuard no_grad;
    for (std::size_t i = 0; i < state.params.size(); ++i) {
      state.params[i].copy_(state.ema[i]);
    }
  }
  state.module->eval();
  result.weights_path = export_weights(state, *task, config, step, run_dir);
  SAG_LOG_INFO("exported {} weights of step {} to {}", config.export_weights == "ema" ? "EMA" : "raw", step,
               result.weights_path);
  auto* unet = dynamic_cast<models::UNetModel*>(state.module);
  if (unet != nullptr && config.preview_per_class > 0 && config.unet.class_cond) {
    const at::Tensor samples =
        sample_classes(*unet, config, config.preview_per_class, config.preview_respacing,
                       static_cast<std::uint64_t>(config.seed), device);
    write_pgm(run_dir + "/samples_preview.pgm", tile_grid(samples, 10, config.preview_per_class));
    SAG_LOG_INFO("wrote {}/samples_preview.pgm (one class per row)", run_dir);
  }
  auto* net = dynamic_cast<FashionFeatureNet*>(state.module);
  if (net != nullptr && options.test_data.images.defined()) {
    result.test_accuracy = classification_accuracy(*net, options.test_data.images, options.test_data.labels,
                                                   config.image_size, device);
    SAG_LOG_INFO("feature_net test accuracy {:.4f} on {} images", result.test_accuracy,
                 options.test_data.images.size(0));
    csv.row(step, result.last_loss, 0, 0, result.test_accuracy, 0, 0);
  }
  return result;
}

}  // namespace sagbench::training
