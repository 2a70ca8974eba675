// DiffusionConfig / SamplerConfig: binding from YAML, the options they map to,
// respacing override, validation errors, and every preset in configs/models/
// (diffusion:) and configs/samplers/ (sampler:) binding cleanly.
#include "diffusion/diffusion_config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"
#include "core/error.h"

namespace sagbench::diffusion {
namespace {

std::filesystem::path configs_dir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "configs";
}

config::Document parse(const std::string& yaml) {
  return config::parse_document(yaml, "test.yaml");
}

TEST(DiffusionConfig, DefaultsAreUpstreamDiffusionDefaults) {
  const auto config = config::bind<DiffusionConfig>(parse("diffusion: {}"), "diffusion");
  EXPECT_EQ(config.diffusion_steps, 1000);
  EXPECT_EQ(config.noise_schedule, "linear");
  EXPECT_FALSE(config.learn_sigma);
  EXPECT_FALSE(config.rescale_timesteps);
  EXPECT_EQ(config.timestep_respacing, "");
  const ProcessOptions options = process_options(config);
  EXPECT_EQ(options.mean_type, ModelMeanType::kEpsilon);
  EXPECT_EQ(options.variance_type, ModelVarianceType::kFixedLarge);
}

TEST(DiffusionConfig, FlagsSelectVarianceAndMeanTypes) {
  DiffusionConfig config;
  config.sigma_small = true;
  EXPECT_EQ(process_options(config).variance_type, ModelVarianceType::kFixedSmall);
  config.sigma_small = false;
  config.learn_sigma = true;
  config.predict_xstart = true;
  config.rescale_timesteps = true;
  const ProcessOptions options = process_options(config);
  EXPECT_EQ(options.variance_type, ModelVarianceType::kLearnedRange);
  EXPECT_EQ(options.mean_type, ModelMeanType::kStartX);
  EXPECT_TRUE(options.rescale_timesteps);
}

TEST(DiffusionConfig, SamplerRespacingOverridesTheProcess) {
  const auto doc = parse(
      "diffusion: {diffusion_steps: 1000, timestep_respacing: '250'}\n"
      "sampler: {kind: ddim, timestep_respacing: ddim25}\n");
  const auto d = config::bind<DiffusionConfig>(doc, "diffusion");
  const auto s = config::bind<SamplerConfig>(doc, "sampler");
  EXPECT_EQ(effective_respacing(d, s), "ddim25");
  EXPECT_EQ(make_diffusion(d, effective_respacing(d, s)).num_steps(), 25);
  EXPECT_EQ(effective_respacing(d, SamplerConfig{}), "250");
  EXPECT_EQ(sampler_options(s).kind, SamplerKind::kDdim);
}

TEST(DiffusionConfig, BadValuesAreConfigErrorsNamingTheKey) {
  auto message_of = [](const std::string& yaml, auto tag) {
    using T = decltype(tag);
    try {
      config::bind<T>(parse(yaml), "s");
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig);
      return std::string(e.what());
    }
    ADD_FAILURE() << "no error for " << yaml;
    return std::string();
  };
  EXPECT_NE(message_of("s: {noise_schedule: sqrt}", DiffusionConfig{}).find("noise_schedule"),
            std::string::npos);
  EXPECT_NE(message_of("s: {diffusion_steps: 1}", DiffusionConfig{}).find("diffusion_steps"),
            std::string::npos);
  EXPECT_NE(message_of("s: {learn_sigma: true, sigma_small: true}", DiffusionConfig{}).find("sigma_small"),
            std::string::npos);
  EXPECT_NE(message_of("s: {kind: plms}", SamplerConfig{}).find("kind"), std::string::npos);
  EXPECT_NE(message_of("s: {kind: ddpm, eta: 0.5}", SamplerConfig{}).find("eta"), std::string::npos);
  EXPECT_NE(message_of("s: {kind: ddim, eta: -1}", SamplerConfig{}).find("eta"), std::string::npos);
  EXPECT_NE(message_of("s: {steps: 10}", SamplerConfig{}).find("steps"), std::string::npos);
  // An impossible respacing surfaces when the process is built.
  EXPECT_THROW(make_diffusion(DiffusionConfig{}, "ddim999"), Error);
}

TEST(DiffusionConfig, EveryModelPresetAndSamplerPresetBinds) {
  int models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(configs_dir() / "models")) {
    const auto doc = config::load_document(entry.path().string());
    if (!doc.has("diffusion")) {
      continue;  // classifier presets
    }
    const auto d = config::bind<DiffusionConfig>(doc, "diffusion");
    EXPECT_GE(make_diffusion(d, d.timestep_respacing).num_steps(), 2) << entry.path();
    ++models;
  }
  EXPECT_GT(models, 0);
  int samplers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(configs_dir() / "samplers")) {
    const auto s = config::bind<SamplerConfig>(config::load_document(entry.path().string()), "sampler");
    EXPECT_GE(make_diffusion(DiffusionConfig{}, effective_respacing(DiffusionConfig{}, s)).num_steps(), 2)
        << entry.path();
    ++samplers;
  }
  EXPECT_GE(samplers, 4);
}

}  // namespace
}  // namespace sagbench::diffusion
