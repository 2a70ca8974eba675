// Every public checkpoint's preset, built with random weights on the meta
// device (no memory), must reproduce the upstream state_dict exactly: the
// names, their order and their shapes listed in
// ../shared/fixtures/manifests/*.json (written by the upstream classes with
// the upstream flags), and the preset values of the flags the manifest records.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "model_test_support.h"
#include "models/encoder_unet.h"
#include "models/unet.h"
#include "support/fixtures.h"

namespace sagbench::models {
namespace {

using testing::load_preset_section;
using testing::preset_path;

nlohmann::json read_manifest(const std::string& name) {
  std::ifstream in(sagbench::testing::fixture_path("manifests/" + name + ".json"));
  return nlohmann::json::parse(in);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (int64_t d : shape) {
    text += (text.empty() ? "" : ", ") + std::to_string(d);
  }
  return "[" + text + "]";
}

// "name [d0, d1]" lines, in order, from the module and from the manifest.
std::vector<std::string> module_listing(const torch::nn::Module& module) {
  std::vector<std::string> lines;
  for (const auto& item : module.named_parameters()) {
    lines.push_back(item.key() + " " + shape_text(item.value().sizes().vec()));
  }
  return lines;
}

std::vector<std::string> manifest_listing(const nlohmann::json& manifest) {
  std::vector<std::string> lines;
  for (const auto& entry : manifest.at("keys")) {
    lines.push_back(entry.at(0).get<std::string>() + " " +
                    shape_text(entry.at(1).get<std::vector<int64_t>>()));
  }
  return lines;
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t count = 0;
  for (const auto& p : module.parameters()) {
    count += p.numel();
  }
  return count;
}

// A YAML scalar or flow list as the manifest writes it ("32,16,8", "true", "64").
std::string flag_text(const YAML::Node& node) {
  if (node.IsSequence()) {
    std::string text;
    for (const auto& item : node) {
      text += (text.empty() ? "" : ",") + item.as<std::string>();
    }
    return text;
  }
  return node.as<std::string>();
}

std::string json_text(const nlohmann::json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_number_float()) {
    return c10::str(value.get<double>());
  }
  return value.dump();
}

std::string normalised(std::string text) {
  // YAML doubles emit as "0.1"/"0", the manifest as "0.1"/"0.0".
  if (text.find('.') != std::string::npos) {
    return c10::str(std::stod(text));
  }
  return text;
}

void expect_same_state_dict(const torch::nn::Module& module, const nlohmann::json& manifest) {
  const std::vector<std::string> actual = module_listing(module);
  const std::vector<std::string> expected = manifest_listing(manifest);
  ASSERT_EQ(actual.size(), expected.size()) << "tensor count";
  ASSERT_EQ(actual.size(), manifest.at("tensors").get<size_t>());
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i], expected[i]) << "state_dict entry " << i;
  }
  EXPECT_EQ(parameter_count(module), manifest.at("params").get<int64_t>());
}

struct UNetCase {
  std::string preset;
  std::string manifest;
};

void PrintTo(const UNetCase& c, std::ostream* os) {
  *os << c.preset << " vs manifest " << c.manifest;
}

class UNetPresetTest : public ::testing::TestWithParam<UNetCase> {};

TEST_P(UNetPresetTest, StateDictMatchesManifest) {
  const UNetCase& c = GetParam();
  const nlohmann::json manifest = read_manifest(c.manifest);
  const UNetConfig config = load_preset_section<UNetConfig>(c.preset, "model");
  UNetModel model(config, at::Device(at::kMeta));
  expect_same_state_dict(model, manifest);

  const YAML::Node model_keys = config::to_yaml(config);
  const config::Document doc = config::load_document(preset_path(c.preset));
  for (const auto& [flag, value] : manifest.at("flags").items()) {
    std::string preset_value;
    if (flag == "diffusion_steps" || flag == "noise_schedule") {
      const config::Node* node = doc.find("diffusion." + flag);
      ASSERT_NE(node, nullptr) << c.preset << " lacks diffusion." << flag;
      preset_value = node->scalar;
    } else {
      ASSERT_TRUE(model_keys[flag]) << "no model key " << flag;
      preset_value = flag_text(model_keys[flag]);
    }
    EXPECT_EQ(normalised(preset_value), normalised(json_text(value))) << c.preset << ": flag " << flag;
  }
}

INSTANTIATE_TEST_SUITE_P(Presets, UNetPresetTest,
                         ::testing::Values(UNetCase{"adm_imagenet256_uncond", "adm_imagenet256_uncond"},
                                           UNetCase{"adm_imagenet256_cond", "adm_imagenet256_cond"},
                                           UNetCase{"adm_imagenet128_cond", "adm_imagenet128_cond"},
                                           UNetCase{"adm_imagenet64_cond", "adm_imagenet64_cond"},
                                           UNetCase{"iddpm_imagenet64_uncond", "iddpm_imagenet64_uncond"},
                                           // LSUN models share the ImageNet-256 unconditional architecture.
                                           UNetCase{"adm_lsun_cat", "adm_imagenet256_uncond"},
                                           UNetCase{"adm_lsun_horse", "adm_imagenet256_uncond"}),
                         [](const auto& info) { return info.param.preset; });

class ClassifierPresetTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ClassifierPresetTest, StateDictMatchesManifest) {
  const nlohmann::json manifest = read_manifest(GetParam());
  const EncoderUNetConfig config = load_preset_section<EncoderUNetConfig>(GetParam(), "classifier");
  EncoderUNetModel model(config, at::Device(at::kMeta));
  expect_same_state_dict(model, manifest);

  const YAML::Node keys = config::to_yaml(config);
  for (const auto& [flag, value] : manifest.at("flags").items()) {
    std::string key = flag.rfind("classifier_", 0) == 0 ? flag.substr(11) : flag;
    ASSERT_TRUE(keys[key]) << "no classifier key for flag " << flag;
    EXPECT_EQ(normalised(flag_text(keys[key])), normalised(json_text(value)))
        << GetParam() << ": flag " << flag;
  }
}

INSTANTIATE_TEST_SUITE_P(Presets, ClassifierPresetTest,
                         ::testing::Values("adm_classifier64", "adm_classifier128", "adm_classifier256"));

}  // namespace
}  // namespace sagbench::models
