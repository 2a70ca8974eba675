// Sampling-cost benchmarks (Google Benchmark; the paper's cost table, issue 8
// item 3): time per DDPM step and img·steps/s of none / blur / sag / cg /
// sag_cg / cfg / sag_cfg guidance on ADM architectures with random weights
// (speed does not depend on the weights), and on CUDA the peak allocated
// memory (LibTorch 2.x caching-allocator statistics). Each run first samples
// once untimed (warm-up; the sampler stops with kNumeric on any non-finite
// value, and the output is checked finite), then times whole samples of
// --steps steps; aggregates report the median over --repetitions.
// Models: tiny (the flags of ../shared/fixtures/adm_tiny_uncond.json, the CPU
// default), adm256_uncond and adm128_cond (configs/models presets). CFG runs
// make the model class-conditional with one extra (null) label.
// Run: bench_sampling --models=adm256_uncond,adm128_cond --batches=16,64 --device=cuda
//      --precision=fp16 --benchmark_out=x.json --benchmark_out_format=json
//      (scripts/gpu_bench.sh; SAGBENCH_BENCH_MACHINE names the machine).
#include <benchmark/benchmark.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/document.h"
#include "core/error.h"
#include "core/provenance.h"
#include "diffusion/diffusion_config.h"
#include "diffusion/noise.h"
#include "diffusion/sampler.h"
#include "diffusion/unet_denoiser.h"
#include "guidance/cfg.h"
#include "guidance/classifier_guidance.h"
#include "guidance/sag.h"
#include "models/model_loading.h"

#if defined(SAGBENCH_TORCH_CUDA) && TORCH_VERSION_MAJOR >= 2
#include <c10/cuda/CUDACachingAllocator.h>
#define SAGBENCH_BENCH_PEAK_MEMORY 1
#endif

namespace {

using namespace sagbench;

struct Options {
  std::vector<std::string> models;
  std::vector<std::int64_t> batches;
  std::int64_t steps = 2;
  int repetitions = 3;
  std::string device = "cpu";
  std::string precision = "fp32";
};

// One architecture: the network, its noisy classifier and SAG's layer and sigma (REFERENCE.md §2).
struct ModelSpec {
  models::UNetConfig unet;
  models::EncoderUNetConfig classifier;
  int sag_depth = 2;
  double sag_sigma = 9.0;
};

ModelSpec model_spec(const std::string& name) {
  ModelSpec spec;
  if (name == "tiny") {
    spec.unet.image_size = 32;
    spec.unet.num_channels = 32;
    spec.unet.num_res_blocks = 1;
    spec.unet.channel_mult = {1, 2, 2};
    spec.unet.attention_resolutions = {16, 8};
    spec.unet.num_head_channels = 8;
    spec.unet.learn_sigma = true;
    spec.unet.resblock_updown = true;
    spec.classifier.image_size = 32;
    spec.classifier.width = 32;
    spec.classifier.depth = 1;
    spec.classifier.channel_mult = {1, 2, 2};
    spec.classifier.attention_resolutions = {16, 8};
    spec.classifier.num_head_channels = 8;
    spec.sag_depth = 1;
    spec.sag_sigma = 2.0;
    return spec;
  }
  const std::string presets = std::string(SAGBENCH_SOURCE_DIR) + "/configs/models/";
  std::string unet_preset;
  std::string classifier_preset;
  if (name == "adm256_uncond") {
    unet_preset = "adm_imagenet256_uncond.yaml";
    classifier_preset = "adm_classifier256.yaml";
  } else if (name == "adm128_cond") {
    unet_preset = "adm_imagenet128_cond.yaml";
    classifier_preset = "adm_classifier128.yaml";
    spec.sag_depth = 8;
    spec.sag_sigma = 3.0;
  } else {
    SAG_FAIL(kConfig, "--models: unknown model '{}' (tiny, adm256_uncond, adm128_cond)", name);
  }
  spec.unet = config::bind<models::UNetConfig>(config::load_document(presets + unet_preset), "model");
  spec.classifier = config::bind<models::EncoderUNetConfig>(
      config::load_document(presets + classifier_preset), "classifier");
  return spec;
}

Options& options() {
  static Options instance;
  return instance;
}

// One network and one classifier stay resident (the last used), so peak
// memory counts only what the measured configuration holds.
// with_null_label: class-conditional with one extra label (for CFG).
std::shared_ptr<models::UNetModel> cached_unet(const std::string& name, bool with_null_label,
                                               const Options& opt) {
  static std::string key;
  static std::shared_ptr<models::UNetModel> slot;
  const std::string wanted = name + (with_null_label ? "/null_label" : "");
  if (key != wanted || !slot) {
    slot.reset();
    models::UNetConfig config = model_spec(name).unet;
    config.use_fp16 = opt.precision == "fp16";
    config.use_bf16 = opt.precision == "bf16";
    if (with_null_label) {
      config.class_cond = true;
      config.num_classes += 1;
    }
    slot = models::build_unet(config, at::Device(opt.device));
    key = wanted;
  }
  return slot;
}

// The classifier of `name`, or none (released) when name is empty.
std::shared_ptr<guidance::NoisyClassifier> cached_classifier(const std::string& name, const Options& opt) {
  static std::string key;
  static std::shared_ptr<guidance::NoisyClassifier> slot;
  if (key != name) {
    slot.reset();
    key = name;
  }
  if (!slot && !name.empty()) {
    slot = std::make_shared<guidance::EncoderUNetClassifier>(
        models::build_classifier(model_spec(name).classifier, at::Device(opt.device)));
  }
  return slot;
}

void synchronize(const Options& opt) {
  if (opt.device != "cpu") {
    torch::cuda::synchronize();
  }
}

void BM_SamplingStep(benchmark::State& state, const std::string& model_name, const std::string& method) {
  const Options& opt = options();
  const std::int64_t batch = state.range(0);
  const bool sag = method == "sag" || method == "sag_cg" || method == "sag_cfg";
  const bool cg = method == "cg" || method == "sag_cg";
  const bool cfg = method == "cfg" || method == "sag_cfg";
  try {
    torch::NoGradGuard no_grad;
    const ModelSpec spec = model_spec(model_name);
    const bool class_cond = spec.unet.class_cond || cfg;
    auto unet = cached_unet(model_name, cfg, opt);
    auto classifier = cached_classifier(cg ? model_name : std::string(), opt);
    std::vector<std::unique_ptr<guidance::GuidanceTerm>> terms;
    if (sag || method == "blur") {
      guidance::SagSettings settings;
      settings.mode = method == "blur" ? "blur" : "sag";
      settings.s = 0.5;
      settings.layer.depth = spec.sag_depth;
      settings.blur_sigma = spec.sag_sigma;
      terms.push_back(std::make_unique<guidance::SelfAttentionGuidance>(settings));
    }
    if (cfg) {
      guidance::CfgSettings settings;
      settings.null_label = spec.unet.num_classes;
      terms.push_back(std::make_unique<guidance::ClassifierFreeGuidance>(settings));
    }
    if (cg) {
      guidance::ClassifierGuidanceSettings settings;
      settings.scale = 0.5;
      terms.push_back(std::make_unique<guidance::ClassifierGuidance>(classifier, settings));
    }
    guidance::GuidanceChain chain(std::move(terms));
    diffusion::DiffusionConfig process_config;
    process_config.learn_sigma = spec.unet.learn_sigma;
    const diffusion::GaussianDiffusion process =
        diffusion::make_diffusion(process_config, std::to_string(opt.steps));
    const diffusion::Sampler sampler(process, diffusion::SamplerOptions{});
    diffusion::UNetDenoiser denoiser(unet);
    const diffusion::CounterNoise noise(1234);
    diffusion::SampleBatch samples;
    samples.count = batch;
    samples.labels = at::arange(batch, at::kLong).remainder(spec.unet.num_classes);
    samples.condition_model = class_cond;
    const std::vector<std::int64_t> shape = {spec.unet.in_channels, spec.unet.image_size,
                                             spec.unet.image_size};
    const at::Device device(opt.device);

    // Warm-up and correctness: the sampler throws kNumeric on a non-finite step.
    const at::Tensor warm = sampler.sample(denoiser, noise, &chain, samples, shape, device);
    synchronize(opt);
    state.counters["check_finite"] = at::isfinite(warm).all().item<bool>() ? 1.0 : 0.0;
#ifdef SAGBENCH_BENCH_PEAK_MEMORY
    const int device_index =
        device.is_cuda() ? static_cast<int>(device.index() < 0 ? 0 : device.index()) : -1;
    if (device_index >= 0) {
      c10::cuda::CUDACachingAllocator::resetPeakStats(device_index);
    }
#endif
    double total_s = 0.0;
    for (auto _ : state) {
      const auto start = std::chrono::steady_clock::now();
      const at::Tensor x = sampler.sample(denoiser, noise, &chain, samples, shape, device);
      synchronize(opt);
      const double elapsed_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      benchmark::DoNotOptimize(x.data_ptr());
      total_s += elapsed_s;
      state.SetIterationTime(elapsed_s / static_cast<double>(opt.steps));
    }
    state.counters["img_steps_per_s"] =
        static_cast<double>(batch * opt.steps) * static_cast<double>(state.iterations()) / total_s;
#ifdef SAGBENCH_BENCH_PEAK_MEMORY
    if (device_index >= 0) {
      // Index 0 is StatType::AGGREGATE in every LibTorch 2.x release.
      const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_index);
      state.counters["peak_GiB"] =
          static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024 * 1024);
    }
#endif
    state.SetLabel(chain.describe());
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) {
    if (!part.empty()) {
      parts.push_back(part);
    }
  }
  return parts;
}

std::int64_t parse_positive(const std::string& flag, const std::string& text) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  SAG_REQUIRE(used == text.size() && value > 0 && value <= 1 << 20, kConfig,
              "{}: expected a positive integer, got '{}'", flag, text);
  return value;
}

// Our flags (after Google Benchmark removed its own); unknown ones are errors.
Options parse_options(int argc, char** argv) {
  Options opt;
  opt.device = torch::cuda::is_available() ? "cuda" : "cpu";
  std::string models;
  std::string batches;
  std::string precision;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    const std::string key = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (key == "--models") {
      models = value;
    } else if (key == "--batches") {
      batches = value;
    } else if (key == "--steps") {
      opt.steps = parse_positive(key, value);
    } else if (key == "--repetitions") {
      opt.repetitions = static_cast<int>(parse_positive(key, value));
    } else if (key == "--device") {
      opt.device = value;
    } else if (key == "--precision") {
      precision = value;
    } else {
      SAG_FAIL(kConfig,
               "unknown argument '{}' (--models, --batches, --steps, --repetitions, --device, "
               "--precision, or Google Benchmark's --benchmark_*)",
               arg);
    }
  }
  SAG_REQUIRE(opt.device == "cpu" || opt.device.rfind("cuda", 0) == 0, kConfig,
              "--device: expected cpu or cuda[:N], got '{}'", opt.device);
  SAG_REQUIRE(opt.device == "cpu" || torch::cuda::is_available(), kConfig,
              "--device={}: LibTorch sees no CUDA device", opt.device);
  const bool cpu = opt.device == "cpu";
  // Defaults stay small (scripts/gpu_check.sh runs every bench_* without
  // arguments): the CPU runs the tiny model at batch 2; CUDA both ADM models at
  // batch 16 with the fp16 torso of the reference timings.
  opt.precision = precision.empty() ? (cpu ? "fp32" : "fp16") : precision;
  SAG_REQUIRE(opt.precision == "fp32" || opt.precision == "fp16" || opt.precision == "bf16", kConfig,
              "--precision: expected fp32, fp16 or bf16, got '{}'", opt.precision);
  SAG_REQUIRE(opt.precision == "fp32" || opt.device != "cpu", kConfig,
              "--precision={} needs --device=cuda (the fp16/bf16 torso is CUDA only)", opt.precision);
  opt.models = split(models.empty() ? (cpu ? "tiny" : "adm256_uncond,adm128_cond") : models);
  for (const std::string& b : split(batches.empty() ? (cpu ? "2" : "16") : batches)) {
    opt.batches.push_back(parse_positive("--batches", b));
  }
  for (const std::string& model : opt.models) {
    model_spec(model);  // unknown names fail here, before any run
  }
  return opt;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  try {
    options() = parse_options(argc, argv);
  } catch (const sagbench::Error& e) {
    std::cerr << "bench_sampling: " << e.what() << "\n";
    return 2;
  }
  const Options& opt = options();
  const char* machine = std::getenv("SAGBENCH_BENCH_MACHINE");
  benchmark::AddCustomContext("machine", machine != nullptr ? machine : "unspecified");
  benchmark::AddCustomContext("libtorch", sagbench::libtorch_version());
  benchmark::AddCustomContext("device", opt.device);
  benchmark::AddCustomContext("precision", opt.precision);
  benchmark::AddCustomContext("steps_per_sample", std::to_string(opt.steps));
  benchmark::AddCustomContext("weights", "random (timing only)");
  for (const std::string& model : opt.models) {
    for (const char* method : {"none", "blur", "sag", "cg", "sag_cg", "cfg", "sag_cfg"}) {
      auto* bench = benchmark::RegisterBenchmark(("sampling/" + model + "/" + method).c_str(),
                                                 BM_SamplingStep, model, std::string(method));
      for (std::int64_t batch : opt.batches) {
        bench->Arg(batch);
      }
      bench->ArgName("batch")
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1)
          ->Repetitions(opt.repetitions)
          ->ReportAggregatesOnly(opt.repetitions > 1);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
