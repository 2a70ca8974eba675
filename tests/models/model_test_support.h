// Helpers shared by the model tests: where the presets live, loading a preset
// section through the config layer, and tensor comparison with a stated bound.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
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
