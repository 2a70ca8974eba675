// Helpers shared by the model tests: where the presets live, loading a preset
// section through the config layer, and tensor comparison with a stated bound.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "models/unet_config.h"
#include "support/fixtures.h"

namespace sagbench::models::testing {

// configs/models/<name>.yaml in this source tree (located from this file's path).
inline std::string preset_path(const std::string& name) {
  const std::filesystem::path root =
      std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  return (root / "configs" / "models" / (name + ".yaml")).string();
}

// The struct bound from one section ("model" / "classifier") of a preset.
template <class Config>
Config load_preset_section(const std::string& preset, const std::string& section) {
  return config::bind<Config>(config::load_document(preset_path(preset)), section);
}

// A fixture's JSON metadata (../shared/fixtures/<name>.json).
inline nlohmann::json fixture_json(const std::string& name) {
  std::ifstream in(sagbench::testing::fixture_path(name + ".json"));
  return nlohmann::json::parse(in);
}

// The fixture classifier: adm_tiny_cond.json's classifier_flags (EncoderUNetModel
// constructor arguments, whose attention_resolutions are downsampling factors)
// with the checkpoint adm_tiny_cond_classifier.pt.
inline EncoderUNetConfig tiny_classifier_config() {
  const auto flags = fixture_json("adm_tiny_cond").at("classifier_flags");
  EncoderUNetConfig c;
  c.image_size = flags.at("image_size").get<int>();
  c.in_channels = flags.at("in_channels").get<int>();
  c.width = flags.at("model_channels").get<int>();
  c.out_channels = flags.at("out_channels").get<int>();
  c.depth = flags.at("num_res_blocks").get<int>();
  c.attention_resolutions.clear();
  for (int factor : flags.at("attention_resolutions").get<std::vector<int>>()) {
    c.attention_resolutions.push_back(c.image_size / factor);
  }
  c.channel_mult = flags.at("channel_mult").get<std::vector<int>>();
  c.use_fp16 = flags.at("use_fp16").get<bool>();
  c.num_head_channels = flags.at("num_head_channels").get<int>();
  c.use_scale_shift_norm = flags.at("use_scale_shift_norm").get<bool>();
  c.resblock_updown = flags.at("resblock_updown").get<bool>();
  c.pool = flags.at("pool").get<std::string>();
  c.checkpoint = sagbench::testing::fixture_path("adm_tiny_cond_classifier.pt");
  return c;
}

// The struct whose keys are given by the upstream flags in `flags` (a JSON
// object); flags that are not keys of Config (diffusion, SAG) are skipped.
template <class Config>
Config config_from_flags(const nlohmann::json& flags) {
  const YAML::Node known = config::to_yaml(Config{});
  std::string yaml;
  for (const auto& [key, value] : flags.items()) {
    if (known[key]) {
      yaml += key + ": " + value.dump() + "\n";
    }
  }
  return config::bind<Config>(config::parse_document(yaml, "fixture flags"));
}

// max |actual - expected| <= tolerance * max(floor, max |expected|).
inline void expect_close(const at::Tensor& actual, const at::Tensor& expected, double tolerance,
                         const std::string& what, double floor = 1.0) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double max_abs = (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
  const double scale = std::max(floor, expected.abs().max().item<double>());
  EXPECT_LE(max_abs / scale, tolerance)
      << what << ": max |diff| " << max_abs << " (reference max " << scale << ")";
}

}  // namespace sagbench::models::testing
