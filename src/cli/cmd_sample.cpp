// `sagbench sample CONFIG [key=value ...]`: samples a model preset +
// checkpoint (+ sampler preset + guidance) into a fresh run directory:
// samples_NxHxWxC.npz (arr_0 uint8 NHWC, arr_1 labels when labelled; the
// format of upstream image_sample.py / classifier_sample.py), optionally the
// raw float samples, plus config.yaml, overrides.txt and provenance.json.
// Keys and their upstream flags: configs/README.md. Tested by
// tests/cli/sample_test.cpp (tiny fixture model end to end).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "config/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/run_dir.h"
#include "diffusion/sample_writer.h"
#include "guidance/guided_sampling.h"

namespace sagbench::cli {
namespace {

struct SampleOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string x_T_file;
  std::string step_noise_file;
  std::string output_dir;
  bool raw = false;
};

void run_sample(const SampleOptions& options) {
  std::vector<std::string> overrides = options.overrides;
  if (!options.x_T_file.empty()) {
    overrides.push_back("sampling.x_T_file=" + options.x_T_file);
  }
  if (!options.step_noise_file.empty()) {
    overrides.push_back("sampling.step_noise_file=" + options.step_noise_file);
  }
  if (!options.output_dir.empty()) {
    overrides.push_back("sampling.output_dir=" + options.output_dir);
  }
  if (options.raw) {
    overrides.push_back("sampling.save_raw=true");
  }
  const config::Document doc = config::load_document(options.config_path, overrides);
  guidance::check_sampling_sections(doc);
  const diffusion::SamplingSetup setup = diffusion::SamplingSetup::from_document(doc);
  const at::Device device = diffusion::resolve_device(setup.sampling.device);
  const auto job = guidance::build_sampling_job(doc, device);
  SAG_LOG_INFO("sampling {} images on {}: {}", setup.sampling.num_samples, device.str(), job->describe());

  RunDirRequest request;
  request.parent = setup.sampling.output_dir;
  request.name = setup.sampling.run_name;
  request.config_yaml = config::to_yaml_string(guidance::resolved_sampling_config(doc));
  request.overrides = overrides;
  request.allow_resume = false;
  const RunDir run = open_run_dir(request);

  const std::int64_t total = setup.sampling.num_samples;
  diffusion::SampleFileWriter writer(run.path, total, job->sample_shape(), job->has_labels(),
                                     setup.sampling.save_raw);
  ProgressOptions progress_options;
  progress_options.unit = "img";
  Progress progress("sample", total, progress_options);
  const auto start = std::chrono::steady_clock::now();
  job->sample(0, total, setup.sampling.batch_size, [&](const diffusion::SampledBatch& batch) {
    writer.append(batch);
    progress.advance(batch.samples.size(0));
  });
  writer.finish();
  progress.finish();
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s\n", writer.path().c_str());
  if (!writer.raw_path().empty()) {
    std::printf("%s\n", writer.raw_path().c_str());
  }
  SAG_LOG_INFO("{} samples x {} steps in {} ({:.3g} img/s)", total, job->diffusion().num_steps(),
               format_duration(elapsed_s), static_cast<double>(total) / elapsed_s);
}

}  // namespace

void register_sample(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "sample", "Sample a model preset + checkpoint (+ sampler preset, guidance) into samples_NxHxWxC.npz");
  cmd->footer(
      "Example: sagbench sample configs/models/adm_imagenet128_cond.yaml "
      "model.checkpoint=128x128_diffusion.pt "
      "sampler.timestep_respacing=ddim25 sampler.kind=ddim sampling.num_samples=64\n"
      "Config keys and their upstream flags: configs/README.md");
  auto options = std::make_shared<SampleOptions>();
  cmd->add_option("config", options->config_path, "YAML config (includes model/sampler presets)")->required();
  cmd->add_option("overrides", options->overrides, "key=value overrides, e.g. sampling.num_samples=64");
  cmd->add_option("--x-T", options->x_T_file, "npz with x_T (N, C, H, W): initial noise (sampling.x_T_file)");
  cmd->add_option("--step-noise", options->step_noise_file,
                  "npz with step_noise (steps, N, C, H, W) (sampling.step_noise_file)");
  cmd->add_option("--output-dir", options->output_dir, "folder for the run directory (sampling.output_dir)");
  cmd->add_flag("--raw", options->raw, "also write the float32 samples (sampling.save_raw)");
  cmd->callback([options] { run_sample(*options); });
}

}  // namespace sagbench::cli
