// `sagbench sample` end to end through run_app with the tiny fixture model:
// file noise reproduces the reference's DDPM-10 sample in
// samples_2x32x32x3.npz (uint8 NHWC; at most 1 level off, since the trajectory
// tolerance of 1e-3 is 0.13 of a uint8 level), the run directory holds the
// resolved config, and bad configs fail with one line and a non-zero exit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "invoke.h"
#include "io/npz.h"
#include "support/fixtures.h"

namespace sagbench::cli {
namespace {
using ::testing::HasSubstr;

using testing::AppRun;
using testing::invoke;

// The tiny unconditional fixture model (flags of adm_tiny_uncond.json), DDPM 10 steps.
std::string write_config(const std::string& dir) {
  const std::string path = dir + "/run.yaml";
  std::ofstream(path)
      << "model: {checkpoint: '" << sagbench::testing::fixture_path("adm_tiny_uncond.pt")
      << "', image_size: 32, num_channels: 32, num_res_blocks: 1, channel_mult: [1, 2, 2], "
         "attention_resolutions: [16, 8], num_heads: 4, num_head_channels: 8, learn_sigma: true, "
         "use_scale_shift_norm: true, resblock_updown: true}\n"
         "diffusion: {learn_sigma: true}\n"
         "sampler: {kind: ddpm, timestep_respacing: '10'}\n"
         "sampling: {num_samples: 2, batch_size: 2}\n";
  return path;
}

TEST(SampleCommand, FileNoiseReproducesTheReferenceSample) {
  const std::string dir = sagbench::testing::make_temp_dir("sample_cmd");
  const std::string noise = sagbench::testing::fixture_path("adm_tiny_uncond_ddpm10.npz");
  const AppRun run = invoke({"sample", write_config(dir), "--x-T", noise, "--step-noise", noise,
                             "--output-dir", dir + "/runs", "--raw"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string run_dir = dir + "/runs/sample";
  EXPECT_THAT(run.out, HasSubstr(run_dir + "/samples_2x32x32x3.npz"));
  EXPECT_TRUE(std::filesystem::exists(run_dir + "/config.yaml"));
  EXPECT_TRUE(std::filesystem::exists(run_dir + "/provenance.json"));
  const io::TensorDict samples = io::read_npz(run_dir + "/samples_2x32x32x3.npz");
  EXPECT_EQ(samples.names(), std::vector<std::string>{"arr_0"});  // unconditional: no labels
  const at::Tensor reference = io::read_npz(noise).at("baseline")[9];
  const at::Tensor expected =
      ((reference + 1) * 127.5).clamp(0, 255).to(at::kByte).permute({0, 2, 3, 1}).to(at::kInt);
  EXPECT_LE((samples.at("arr_0").to(at::kInt) - expected).abs().max().item<int>(), 1);
  const at::Tensor raw = io::read_npz(run_dir + "/samples_raw_2x3x32x32.npz").at("arr_0");
  EXPECT_LE((raw - reference).abs().max().item<double>(), 1e-3);

  // A second run never overwrites the first: it gets its own directory.
  const AppRun again =
      invoke({"sample", write_config(dir), "sampling.seed=3", "--output-dir", dir + "/runs"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(std::filesystem::exists(dir + "/runs/sample-2/samples_2x32x32x3.npz"));
}

TEST(SampleCommand, BadConfigsFailWithOneLine) {
  const std::string dir = sagbench::testing::make_temp_dir("sample_cmd_errors");
  const std::string config = write_config(dir);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"evaluator.mode=adm"}, "unknown section 'evaluator'"},
      {{"sampler.timestep_respacing=ddim999"}, "cannot divide 1000 steps into 999 ddim steps"},
      {{"sampling.labels=fixed", "sampling.fixed_labels=[3]"}, "model is unconditional"},
      {{"model.learn_sigma=false"}, "learn_sigma"},
  };
  for (const auto& [overrides, message] : cases) {
    std::vector<std::string> args = {"sample", config, "--output-dir", dir + "/runs"};
    args.insert(args.end(), overrides.begin(), overrides.end());
    const AppRun run = invoke(args);
    EXPECT_NE(run.exit_code, 0) << message;
    EXPECT_THAT(run.err, HasSubstr(message));
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/runs/sample/samples_2x32x32x3.npz"));
}

}  // namespace
}  // namespace sagbench::cli
