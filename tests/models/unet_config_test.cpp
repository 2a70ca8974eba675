// Config structs of the ADM networks: binding from YAML (lists as "1,2,2"
// strings), upstream derived values (channel_mult defaults, resolution ->
// downsampling factor), and kConfig errors naming the key for impossible
// architectures.
#include "models/unet_config.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/error.h"

namespace sagbench::models {
namespace {

template <class Fn>
std::string config_error(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error raised";
  return "";
}

TEST(UNetConfig, BindsUpstreamFlagSpellings) {
  const auto doc = config::parse_document(
      "model:\n  image_size: 32\n  channel_mult: \"1,2,2\"\n  attention_resolutions: \"16,8\"\n"
      "  num_head_channels: 8\n  learn_sigma: true\n");
  const auto config = config::bind<UNetConfig>(doc, "model");
  EXPECT_EQ(config.channel_mult, (std::vector<int>{1, 2, 2}));
  EXPECT_EQ(config.attention_resolutions, (std::vector<int>{16, 8}));
  EXPECT_EQ(config.num_head_channels, 8);
  EXPECT_TRUE(config.learn_sigma);
}

TEST(UNetConfig, UnknownKeyIsAConfigError) {
  const auto doc = config::parse_document("model:\n  num_chanels: 32\n");
  EXPECT_NE(config_error([&] { config::bind<UNetConfig>(doc, "model"); }).find("num_chanels"),
            std::string::npos);
}

TEST(UNetConfig, ChannelMultDefaultsFollowUpstream) {
  EXPECT_EQ(resolve_channel_mult(256, {}), (std::vector<double>{1, 1, 2, 2, 4, 4}));
  EXPECT_EQ(resolve_channel_mult(128, {}), (std::vector<double>{1, 1, 2, 3, 4}));
  EXPECT_EQ(resolve_channel_mult(64, {}), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(resolve_channel_mult(512, {}), (std::vector<double>{0.5, 1, 1, 2, 2, 4, 4}));
  EXPECT_EQ(resolve_channel_mult(32, {1, 2, 2}), (std::vector<double>{1, 2, 2}));
  EXPECT_NE(config_error([] { resolve_channel_mult(32, {}); }).find("image_size 32"), std::string::npos);
}

TEST(UNetConfig, AttentionResolutionsBecomeDownsampleFactors) {
  EXPECT_EQ(attention_downsample_factors(256, {32, 16, 8}), (std::vector<int>{8, 16, 32}));
  EXPECT_NE(config_error([] { attention_downsample_factors(64, {24}); }).find("24"), std::string::npos);
}

TEST(UNetConfig, ImpossibleArchitecturesNameTheKey) {
  UNetConfig base;
  base.image_size = 32;
  base.num_channels = 32;
  base.channel_mult = {1, 2, 2};
  base.validate();

  UNetConfig c = base;
  c.num_head_channels = 48;
  EXPECT_NE(config_error([&] { c.validate(); }).find("num_head_channels 48"), std::string::npos);
  c = base;
  c.num_heads = 3;
  EXPECT_NE(config_error([&] { c.validate(); }).find("num_heads 3"), std::string::npos);
  c = base;
  c.num_heads_upsample = 5;
  EXPECT_NE(config_error([&] { c.validate(); }).find("num_heads_upsample 5"), std::string::npos);
  c = base;
  c.attention_resolutions = {2};  // 32 / 2 = 16x downsampling: deeper than the 3 levels
  EXPECT_NE(config_error([&] { c.validate(); }).find("matches no UNet level"), std::string::npos);
  c = base;
  c.num_channels = 40;  // GroupNorm(32) needs multiples of 32
  EXPECT_NE(config_error([&] { c.validate(); }).find("multiple of 32"), std::string::npos);
  c = base;
  c.image_size = 30;
  c.attention_resolutions = {};
  EXPECT_NE(config_error([&] { c.validate(); }).find("not divisible by 4"), std::string::npos);
  c = base;
  c.use_fp16 = c.use_bf16 = true;
  EXPECT_NE(config_error([&] { c.validate(); }).find("exclusive"), std::string::npos);
  c = base;
  c.dims = 3;
  EXPECT_NE(config_error([&] { c.validate(); }).find("dims 3"), std::string::npos);
  c = base;
  c.class_cond = true;
  c.num_classes = 0;
  EXPECT_NE(config_error([&] { c.validate(); }).find("num_classes"), std::string::npos);
}

TEST(EncoderUNetConfig, PoolIsAChoice) {
  const auto doc = config::parse_document("classifier:\n  pool: mean\n");
  const std::string message = config_error([&] { config::bind<EncoderUNetConfig>(doc, "classifier"); });
  EXPECT_NE(message.find("spatial_v2"), std::string::npos) << message;
}

TEST(EncoderUNetConfig, AttentionPoolNeedsHeadChannels) {
  EncoderUNetConfig c;
  c.num_head_channels = -1;
  EXPECT_NE(config_error([&] { c.validate(); }).find("num_head_channels"), std::string::npos);
  c.pool = "adaptive";
  c.validate();
}

TEST(UNetConfig, SchemaListsEveryUpstreamFlag) {
  std::vector<std::string> keys;
  for (const auto& entry : config::schema_entries<UNetConfig>()) {
    keys.push_back(entry.key_path);
  }
  for (const char* flag : {"image_size", "num_channels", "num_res_blocks", "channel_mult",
                           "attention_resolutions", "dropout", "class_cond", "learn_sigma", "use_fp16",
                           "num_heads", "num_head_channels", "num_heads_upsample", "use_scale_shift_norm",
                           "resblock_updown", "use_new_attention_order", "use_checkpoint", "checkpoint"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), flag), keys.end()) << flag;
  }
}

}  // namespace
}  // namespace sagbench::models
