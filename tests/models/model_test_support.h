// Helpers shared by the model tests: where the presets live, loading a preset
// section through the config layer, and tensor comparison with a stated bound.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "config/config.h"

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

// Largest absolute difference and the reference's largest magnitude.
inline void expect_close(const at::Tensor& actual, const at::Tensor& expected, double tolerance,
                         const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double max_abs = (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
  const double scale = std::max(1.0, expected.abs().max().item<double>());
  EXPECT_LE(max_abs / scale, tolerance)
      << what << ": max |diff| " << max_abs << " (reference max " << scale << ")";
}

}  // namespace sagbench::models::testing
