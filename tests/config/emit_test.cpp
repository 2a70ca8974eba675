// Tests for writing configs (config/config.h): struct -> YAML -> struct round
// trips exactly (floats, tricky strings, optionals, nested lists), lists of
// scalars are written in flow style, and describe_schema lists every key with
// its type, default, help and choices.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "config/test_configs.h"

namespace sagbench::config {
namespace {
using ::testing::HasSubstr;
using testing::ModelConfig;
using testing::RunConfig;
using testing::StageConfig;

RunConfig unusual_config() {
  RunConfig run;
  run.name = "null";  // a string that YAML would read as null unless quoted
  ModelConfig& m = run.model;
  m.image_size = -7;
  m.num_samples = 9007199254740993LL;
  m.dropout = 0.1 + 0.2;  // not representable in few digits
  m.class_cond = true;
  m.noise_schedule = "cosine";
  m.checkpoint = "";
  m.channel_mult = {};
  m.seeds = {-3, 1LL << 40};
  m.scales = {1e-300, 3.0, -0.0, std::numeric_limits<double>::infinity()};
  m.tags = {"true", "a: b", "1,2", "~"};
  m.num_heads_channels = 0;
  m.threshold.reset();
  m.label = "";
  m.blur.sigma = 1.0 / 3.0;
  m.stages = {StageConfig{"x y", 1e10}, StageConfig{"", 0.5}};
  return run;
}

TEST(Emit, RoundTripStructYamlStructIsExact) {
  const RunConfig original = unusual_config();
  const std::string text = to_yaml_string(original);
  RunConfig back = bind<RunConfig>(parse_document(text, "roundtrip.yaml"));
  EXPECT_EQ(to_yaml_string(back), text);
  const ModelConfig& a = original.model;
  const ModelConfig& b = back.model;
  EXPECT_EQ(back.name, "null");
  EXPECT_EQ(b.image_size, a.image_size);
  EXPECT_EQ(b.num_samples, a.num_samples);
  EXPECT_EQ(b.dropout, a.dropout);  // bit-exact: shortest round-trip formatting
  EXPECT_EQ(b.class_cond, a.class_cond);
  EXPECT_EQ(b.noise_schedule, a.noise_schedule);
  EXPECT_EQ(b.checkpoint, a.checkpoint);
  EXPECT_EQ(b.channel_mult, a.channel_mult);
  EXPECT_EQ(b.seeds, a.seeds);
  EXPECT_EQ(b.scales, a.scales);
  EXPECT_TRUE(std::signbit(b.scales[2]));
  EXPECT_EQ(b.tags, a.tags);
  EXPECT_EQ(b.num_heads_channels, a.num_heads_channels);
  EXPECT_EQ(b.threshold, a.threshold);
  EXPECT_EQ(b.label, a.label);
  EXPECT_EQ(b.blur.sigma, a.blur.sigma);
  ASSERT_EQ(b.stages.size(), 2u);
  EXPECT_EQ(b.stages[0].name, "x y");
  EXPECT_EQ(b.stages[0].scale, 1e10);
  EXPECT_EQ(b.stages[1].name, "");
}

TEST(Emit, DefaultsRoundTripAndWholeNumberFloatsKeepAPoint) {
  const RunConfig defaults;
  const std::string text = to_yaml_string(defaults);
  EXPECT_THAT(text, HasSubstr("channel_mult: [1, 2, 3, 4]"));
  EXPECT_THAT(text, HasSubstr("sigma: 1.0"));
  EXPECT_THAT(text, HasSubstr("num_heads_channels: ~"));
  RunConfig back = bind<RunConfig>(parse_document(text, "defaults.yaml"));
  EXPECT_EQ(to_yaml_string(back), text);
}

TEST(Emit, ToYamlGivesAMapInVisitOrder) {
  YAML::Node node = to_yaml(ModelConfig());
  ASSERT_TRUE(node.IsMap());
  EXPECT_EQ(node.begin()->first.as<std::string>(), "image_size");
  EXPECT_EQ(node["noise_schedule"].as<std::string>(), "linear");
  EXPECT_TRUE(node["blur"].IsMap());
  EXPECT_EQ(node["channel_mult"].size(), 4u);
}

TEST(Emit, DescribeSchemaListsKeysTypesDefaultsHelpAndChoices) {
  const std::vector<SchemaEntry> entries = schema_entries<RunConfig>();
  auto find = [&](const std::string& key) -> const SchemaEntry* {
    for (const SchemaEntry& entry : entries) {
      if (entry.key_path == key) {
        return &entry;
      }
    }
    return nullptr;
  };
  const SchemaEntry* mult = find("model.channel_mult");
  ASSERT_NE(mult, nullptr);
  EXPECT_EQ(mult->type_name, "list[int]");
  EXPECT_EQ(mult->default_text, "[1, 2, 3, 4]");
  EXPECT_EQ(mult->help, "channel multiplier per resolution");
  const SchemaEntry* schedule = find("model.noise_schedule");
  ASSERT_NE(schedule, nullptr);
  EXPECT_EQ(schedule->choices, (std::vector<std::string>{"linear", "cosine"}));
  ASSERT_NE(find("model.blur.kernel_size"), nullptr);
  EXPECT_EQ(find("model.threshold")->type_name, "float|null");
  EXPECT_EQ(find("model.label")->default_text, "null");
  ASSERT_NE(find("model.stages.N.scale"), nullptr);

  const std::string text = describe_schema<RunConfig>();
  EXPECT_THAT(text, HasSubstr("model.noise_schedule"));
  EXPECT_THAT(text, HasSubstr("(one of: linear, cosine)"));
  const std::string markdown = describe_schema<RunConfig>(SchemaFormat::kMarkdown);
  EXPECT_THAT(markdown, HasSubstr("| `model.image_size` | int | `64` | image side in pixels |"));
  EXPECT_THAT(markdown, HasSubstr("float\\|null"));
}

}  // namespace
}  // namespace sagbench::config
