// Tests for binding documents to config structs (config/config.h): every field
// type, defaults for missing keys, comma lists, optionals, nested structs and
// lists of them, validate(), and the errors for unknown keys, wrong types,
// choices and unknown override keys (each naming file:line or the override).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/test_configs.h"

namespace sagbench::config {
namespace {
using ::testing::AllOf;
using testing::BlurConfig;
using ::testing::HasSubstr;
using testing::ModelConfig;
using testing::RunConfig;

template <class Fn>
std::string config_error(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

struct BadDefault {
  BlurConfig blur{2.0, 8};
  template <class V>
  void visit(V& v) {
    v("blur", blur);
  }
};

RunConfig bind_text(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return bind<RunConfig>(parse_document(text, "run.yaml", overrides));
}

TEST(Bind, EveryFieldType) {
  RunConfig run = bind_text(
      "name: sag\n"
      "model:\n"
      "  image_size: 256\n"
      "  num_samples: 10000000000\n"
      "  dropout: 0.25\n"
      "  class_cond: True\n"
      "  noise_schedule: cosine\n"
      "  checkpoint: ckpt/256x256_diffusion.pt\n"
      "  channel_mult: [1, 1, 2, 2, 4, 4]\n"
      "  seeds: [-1, 9007199254740993]\n"
      "  scales: [1e-3, -2.5, .inf]\n"
      "  tags: [x, 'y z']\n"
      "  num_heads_channels: 64\n"
      "  threshold: null\n"
      "  label: cat\n"
      "  blur: {sigma: 3, kernel_size: 5}\n"
      "  stages: [{name: a, scale: 0.1}, {scale: 2}]\n");
  const ModelConfig& m = run.model;
  EXPECT_EQ(run.name, "sag");
  EXPECT_EQ(m.image_size, 256);
  EXPECT_EQ(m.num_samples, 10000000000LL);
  EXPECT_DOUBLE_EQ(m.dropout, 0.25);
  EXPECT_TRUE(m.class_cond);
  EXPECT_EQ(m.noise_schedule, "cosine");
  EXPECT_EQ(m.checkpoint, "ckpt/256x256_diffusion.pt");
  EXPECT_EQ(m.channel_mult, (std::vector<int>{1, 1, 2, 2, 4, 4}));
  EXPECT_EQ(m.seeds, (std::vector<int64_t>{-1, 9007199254740993LL}));
  ASSERT_EQ(m.scales.size(), 3u);
  EXPECT_DOUBLE_EQ(m.scales[0], 1e-3);
  EXPECT_DOUBLE_EQ(m.scales[1], -2.5);
  EXPECT_TRUE(std::isinf(m.scales[2]));
  EXPECT_EQ(m.tags, (std::vector<std::string>{"x", "y z"}));
  EXPECT_EQ(m.num_heads_channels, std::optional<int>(64));
  EXPECT_FALSE(m.threshold.has_value());
  EXPECT_EQ(m.label, std::optional<std::string>("cat"));
  EXPECT_DOUBLE_EQ(m.blur.sigma, 3.0);
  EXPECT_EQ(m.blur.kernel_size, 5);
  ASSERT_EQ(m.stages.size(), 2u);
  EXPECT_EQ(m.stages[0].name, "a");
  EXPECT_DOUBLE_EQ(m.stages[0].scale, 0.1);
  EXPECT_EQ(m.stages[1].name, "stage");  // default of a key missing in a list item
  EXPECT_DOUBLE_EQ(m.stages[1].scale, 2.0);
}

TEST(Bind, MissingKeysKeepCodeDefaults) {
  const RunConfig defaults;
  RunConfig run = bind_text("model:\n  image_size: 32\n");
  EXPECT_EQ(run.model.image_size, 32);
  EXPECT_EQ(run.name, defaults.name);
  EXPECT_EQ(run.model.channel_mult, defaults.model.channel_mult);
  EXPECT_EQ(run.model.threshold, defaults.model.threshold);
  EXPECT_EQ(run.model.blur.kernel_size, defaults.model.blur.kernel_size);
  RunConfig empty = bind_text("model:\n");  // an empty map is all defaults
  EXPECT_EQ(empty.model.image_size, defaults.model.image_size);
}

TEST(Bind, CommaSeparatedListsAndEmptyString) {
  RunConfig run = bind_text(
      "model:\n  channel_mult: \"1,2,2\"\n  seeds: 7\n  scales: '0.5, 1.5'\n  tags: ''\n  stages:\n");
  EXPECT_EQ(run.model.channel_mult, (std::vector<int>{1, 2, 2}));
  EXPECT_EQ(run.model.seeds, (std::vector<int64_t>{7}));
  EXPECT_EQ(run.model.scales, (std::vector<double>{0.5, 1.5}));
  EXPECT_TRUE(run.model.tags.empty());
  EXPECT_TRUE(run.model.stages.empty());
  RunConfig from_override = bind_text("{}", {"model.channel_mult=32,16,8", "model.tags="});
  EXPECT_EQ(from_override.model.channel_mult, (std::vector<int>{32, 16, 8}));
  EXPECT_TRUE(from_override.model.tags.empty());
  EXPECT_THAT(config_error([] { bind_text("model:\n  channel_mult: 1,x,2\n"); }),
              AllOf(HasSubstr("run.yaml:2:17"), HasSubstr("model.channel_mult.1"), HasSubstr("'x'")));
}

TEST(Bind, UnknownKeyNamesFileLineValidKeysAndSuggestion) {
  const std::string message =
      config_error([] { bind_text("name: a\nmodel:\n  image_size: 64\n  imagesize: 3\n"); });
  EXPECT_THAT(message, AllOf(HasSubstr("run.yaml:4:3"), HasSubstr("unknown key 'model.imagesize'"),
                             HasSubstr("did you mean 'image_size'?"), HasSubstr("channel_mult"),
                             HasSubstr("noise_schedule"), HasSubstr("valid keys of 'model'")));
  const std::string top = config_error([] { bind_text("nmae: a\n"); });
  EXPECT_THAT(top, AllOf(HasSubstr("run.yaml:1:1"), HasSubstr("did you mean 'name'?"), HasSubstr("model")));
  const std::string far = config_error([] { bind_text("model:\n  blur: {completely_different: 1}\n"); });
  EXPECT_THAT(far, AllOf(HasSubstr("model.blur.completely_different"), HasSubstr("kernel_size, sigma")));
  EXPECT_THAT(far, ::testing::Not(HasSubstr("did you mean")));
  EXPECT_THAT(config_error([] { bind_text("model:\n  stages: [{name: a}, {nme: b}]\n"); }),
              AllOf(HasSubstr("model.stages.1.nme"), HasSubstr("did you mean 'name'")));
}

TEST(Bind, UnknownOverrideKeyNamesTheOverride) {
  EXPECT_THAT(
      config_error([] {
        bind_text("model: {}\n", {"model.image_size=32", "model.num_chanels=3"});
      }),
      AllOf(HasSubstr("override 'model.num_chanels=3'"), HasSubstr("unknown key 'model.num_chanels'")));
  EXPECT_THAT(config_error([] { bind_text("{}", {"modle.image_size=32"}); }),
              AllOf(HasSubstr("override 'modle.image_size=32'"), HasSubstr("did you mean 'model'")));
}

TEST(Bind, WrongTypesNameFileLineKeyExpectedTypeAndValue) {
  EXPECT_THAT(config_error([] { bind_text("model:\n  image_size: 64px\n"); }),
              AllOf(HasSubstr("run.yaml:2:15"), HasSubstr("'model.image_size'"), HasSubstr("an int"),
                    HasSubstr("'64px'")));
  EXPECT_THAT(config_error([] { bind_text("model:\n  image_size: 3000000000\n"); }), HasSubstr("32-bit"));
  EXPECT_THAT(config_error([] { bind_text("model:\n  image_size: 1.5\n"); }), HasSubstr("an int"));
  EXPECT_THAT(config_error([] { bind_text("model:\n  class_cond: yes\n"); }),
              AllOf(HasSubstr("a bool"), HasSubstr("'yes'")));
  EXPECT_THAT(config_error([] { bind_text("model:\n  dropout: high\n"); }),
              AllOf(HasSubstr("a float"), HasSubstr("'high'")));
  EXPECT_THAT(config_error([] { bind_text("model:\n  checkpoint: [a, b]\n"); }),
              AllOf(HasSubstr("a string"), HasSubstr("a list")));
  EXPECT_THAT(config_error([] { bind_text("model:\n  checkpoint:\n"); }),
              AllOf(HasSubstr("run.yaml:2:3"), HasSubstr("a string"), HasSubstr("null")));
  EXPECT_THAT(config_error([] { bind_text("model:\n  channel_mult: {a: 1}\n"); }),
              AllOf(HasSubstr("list of ints"), HasSubstr("a map")));
  EXPECT_THAT(config_error([] { bind_text("model: 3\n"); }),
              AllOf(HasSubstr("a map of keys"), HasSubstr("'3'")));
  EXPECT_THAT(config_error([] { bind_text("model:\n  stages: {a: 1}\n"); }), HasSubstr("a list of maps"));
  EXPECT_THAT(config_error([] { bind_text("model:\n  num_heads_channels: x\n"); }), HasSubstr("an int"));
  EXPECT_THAT(config_error([] { bind_text("{}", {"model.image_size=abc"}); }),
              AllOf(HasSubstr("override 'model.image_size=abc'"), HasSubstr("an int")));
}

TEST(Bind, ChoiceListsRejectOtherValues) {
  EXPECT_EQ(bind_text("model: {noise_schedule: linear}\n").model.noise_schedule, "linear");
  EXPECT_THAT(config_error([] { bind_text("model:\n  noise_schedule: cosin\n"); }),
              AllOf(HasSubstr("run.yaml:2:19"), HasSubstr("must be one of linear, cosine"),
                    HasSubstr("'cosin'"), HasSubstr("did you mean 'cosine'")));
  EXPECT_THAT(config_error([] { bind_text("model:\n  noise_schedule: [linear]\n"); }), HasSubstr("a string"));
}

TEST(Bind, ValidateRunsOnBoundAndDefaultStructs) {
  EXPECT_THAT(config_error([] { bind_text("model:\n  blur:\n    kernel_size: 4\n"); }),
              AllOf(HasSubstr("invalid 'model.blur'"), HasSubstr("kernel_size must be odd, got 4")));
  EXPECT_THAT(config_error([] { bind_text("name: ''\n"); }), HasSubstr("name must not be empty"));
  // A nested struct absent from the document is validated with its defaults too.
  EXPECT_THAT(config_error([] { bind<BadDefault>(Document()); }),
              HasSubstr("kernel_size must be odd, got 8"));
}

TEST(Bind, SubtreeAndLayeredBinding) {
  Document doc = parse_document("model:\n  image_size: 32\nother: {anything: 1}\n", "run.yaml");
  ModelConfig model = bind<ModelConfig>(doc, "model");
  EXPECT_EQ(model.image_size, 32);
  BlurConfig missing = bind<BlurConfig>(doc, "model.blur");
  EXPECT_EQ(missing.kernel_size, BlurConfig().kernel_size);

  ModelConfig preset;
  preset.image_size = 128;
  preset.dropout = 0.3;
  bind_into(parse_document("dropout: 0.0\n", "exp.yaml"), "", preset);
  EXPECT_EQ(preset.image_size, 128);  // untouched by the second document
  EXPECT_DOUBLE_EQ(preset.dropout, 0.0);
}

}  // namespace
}  // namespace sagbench::config
