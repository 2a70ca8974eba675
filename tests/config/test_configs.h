// Config structs shared by the config tests: every supported field type, a
// nested struct with validate(), a choice key and a list of structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace sagbench::config::testing {

struct BlurConfig {
  double sigma = 1.0;
  int kernel_size = 9;
  template <class V>
  void visit(V& v) {
    v("sigma", sigma, "Gaussian blur sigma in pixels");
    v("kernel_size", kernel_size, "blur kernel side (odd)");
  }
  void validate() const {
    SAG_REQUIRE(kernel_size % 2 == 1, kConfig, "kernel_size must be odd, got {}", kernel_size);
  }
};

struct StageConfig {
  std::string name = "stage";
  double scale = 0.5;
  template <class V>
  void visit(V& v) {
    v("name", name, "stage name");
    v("scale", scale, "stage scale");
  }
};

struct ModelConfig {
  int image_size = 64;
  int64_t num_samples = 50000;
  double dropout = 0.1;
  bool class_cond = false;
  std::string noise_schedule = "linear";
  std::string checkpoint = "";
  std::vector<int> channel_mult = {1, 2, 3, 4};
  std::vector<int64_t> seeds = {};
  std::vector<double> scales = {0.5, 1.0};
  std::vector<std::string> tags = {"a"};
  std::optional<int> num_heads_channels;
  std::optional<double> threshold = 1.0;
  std::optional<std::string> label;
  BlurConfig blur;
  std::vector<StageConfig> stages;

  template <class V>
  void visit(V& v) {
    v("image_size", image_size, "image side in pixels");
    v("num_samples", num_samples, "samples to draw");
    v("dropout", dropout, "dropout probability");
    v("class_cond", class_cond, "class-conditional model");
    v.choice("noise_schedule", noise_schedule, {"linear", "cosine"}, "beta schedule");
    v("checkpoint", checkpoint, "checkpoint file");
    v("channel_mult", channel_mult, "channel multiplier per resolution");
    v("seeds", seeds, "run seeds");
    v("scales", scales, "guidance scales");
    v("tags", tags, "free-form tags");
    v("num_heads_channels", num_heads_channels, "channels per head (null = use num_heads)");
    v("threshold", threshold, "mask threshold");
    v("label", label, "optional label");
    v("blur", blur, "blur settings");
    v("stages", stages, "stages, in order");
  }
};

struct RunConfig {
  std::string name = "run";
  ModelConfig model;
  template <class V>
  void visit(V& v) {
    v("name", name, "run name");
    v("model", model, "the model");
  }
  void validate() const { SAG_REQUIRE(!name.empty(), kConfig, "name must not be empty"); }
};

}  // namespace sagbench::config::testing
