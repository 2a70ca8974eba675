// Validation and derived values of the ADM network configs (see
// unet_config.h): upstream create_model / create_classifier's channel_mult
// defaults and resolution -> downsampling conversion, plus the checks that turn
// an impossible architecture into one kConfig error naming the key.
#include "models/unet_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace sagbench::models {
namespace {

// The keys both networks share, as the checks need them.
struct ArchitectureKeys {
  int image_size;
  int in_channels;
  int channels;
  const char* channels_key;
  int res_blocks;
  const char* res_blocks_key;
  const std::vector<int>& channel_mult;
  const std::vector<int>& attention_resolutions;
  int num_heads;
  int num_head_channels;
  int dims;
  double dropout;
  bool use_fp16;
  bool use_bf16;
};

// Checks that attention with the given head settings fits `channels`.
void check_heads(int64_t channels, int resolution, int num_heads, int num_head_channels,
                 const char* heads_key) {
  if (num_head_channels != -1) {
    SAG_REQUIRE(channels % num_head_channels == 0, kConfig,
                "num_head_channels {} does not divide the {} channels of the attention at resolution {}",
                num_head_channels, channels, resolution);
  } else {
    SAG_REQUIRE(channels % num_heads == 0, kConfig,
                "{} {} does not divide the {} channels of the attention at resolution {}", heads_key,
                num_heads, channels, resolution);
  }
}

void validate_architecture(const ArchitectureKeys& k) {
  SAG_REQUIRE(k.dims == 2, kConfig, "dims {} is not supported (only 2-D images)", k.dims);
  SAG_REQUIRE(k.image_size > 0, kConfig, "image_size must be positive, got {}", k.image_size);
  SAG_REQUIRE(k.in_channels > 0, kConfig, "in_channels must be positive, got {}", k.in_channels);
  SAG_REQUIRE(k.channels > 0, kConfig, "{} must be positive, got {}", k.channels_key, k.channels);
  SAG_REQUIRE(k.res_blocks >= 0, kConfig, "{} must be >= 0, got {}", k.res_blocks_key, k.res_blocks);
  SAG_REQUIRE(k.dropout >= 0.0 && k.dropout < 1.0, kConfig, "dropout must be in [0, 1), got {}", k.dropout);
  SAG_REQUIRE(!(k.use_fp16 && k.use_bf16), kConfig, "use_fp16 and use_bf16 are exclusive");
  SAG_REQUIRE(k.num_head_channels == -1 || k.num_head_channels > 0, kConfig,
              "num_head_channels must be -1 or positive, got {}", k.num_head_channels);
  SAG_REQUIRE(k.num_heads > 0, kConfig, "num_heads must be positive, got {}", k.num_heads);
  const std::vector<double> mult = resolve_channel_mult(k.image_size, k.channel_mult);
  const int levels = static_cast<int>(mult.size());
  const int64_t max_factor = int64_t{1} << (levels - 1);
  SAG_REQUIRE(k.image_size % max_factor == 0, kConfig,
              "image_size {} is not divisible by {} (2^(levels-1) for {} channel_mult levels)", k.image_size,
              max_factor, levels);
  for (int level = 0; level < levels; ++level) {
    const auto ch = static_cast<int64_t>(mult[level] * k.channels);
    SAG_REQUIRE(ch > 0 && ch % 32 == 0, kConfig,
                "channel_mult[{}] x {} = {} channels; GroupNorm needs a positive multiple of 32", level,
                k.channels_key, ch);
  }
  const std::vector<int> factors = attention_downsample_factors(k.image_size, k.attention_resolutions);
  for (size_t i = 0; i < factors.size(); ++i) {
    int level = 0;
    while (level < levels && (int64_t{1} << level) != factors[i]) {
      ++level;
    }
    SAG_REQUIRE(level < levels, kConfig,
                "attention_resolutions entry {} matches no UNet level (levels run from {} down to {} px)",
                k.attention_resolutions[i], k.image_size, k.image_size / max_factor);
    check_heads(static_cast<int64_t>(mult[level] * k.channels), k.attention_resolutions[i], k.num_heads,
                k.num_head_channels, "num_heads");
  }
  // The middle block always has attention at the deepest level.
  check_heads(static_cast<int64_t>(mult.back() * k.channels), static_cast<int>(k.image_size / max_factor),
              k.num_heads, k.num_head_channels, "num_heads");
}

}  // namespace

std::vector<double> resolve_channel_mult(int image_size, const std::vector<int>& channel_mult) {
  if (!channel_mult.empty()) {
    for (size_t i = 0; i < channel_mult.size(); ++i) {
      SAG_REQUIRE(channel_mult[i] > 0, kConfig, "channel_mult[{}] must be positive, got {}", i,
                  channel_mult[i]);
    }
    return {channel_mult.begin(), channel_mult.end()};
  }
  switch (image_size) {
    case 512:
      return {0.5, 1, 1, 2, 2, 4, 4};
    case 256:
      return {1, 1, 2, 2, 4, 4};
    case 128:
      return {1, 1, 2, 3, 4};
    case 64:
      return {1, 2, 3, 4};
    default:
      SAG_FAIL(kConfig, "channel_mult is empty and image_size {} has no upstream default (64, 128, 256, 512)",
               image_size);
  }
}

std::vector<int> attention_downsample_factors(int image_size, const std::vector<int>& resolutions) {
  std::vector<int> factors;
  for (int resolution : resolutions) {
    SAG_REQUIRE(resolution > 0 && image_size % resolution == 0, kConfig,
                "attention_resolutions entry {} does not divide image_size {}", resolution, image_size);
    factors.push_back(image_size / resolution);
  }
  return factors;
}

at::ScalarType torso_dtype(bool use_fp16, bool use_bf16) {
  SAG_REQUIRE(!(use_fp16 && use_bf16), kConfig, "use_fp16 and use_bf16 are exclusive");
  return use_fp16 ? at::kHalf : (use_bf16 ? at::kBFloat16 : at::kFloat);
}

void UNetConfig::validate() const {
  validate_architecture({image_size, in_channels, num_channels, "num_channels", num_res_blocks,
                         "num_res_blocks", channel_mult, attention_resolutions, num_heads, num_head_channels,
                         dims, dropout, use_fp16, use_bf16});
  SAG_REQUIRE(!class_cond || num_classes > 0, kConfig,
              "num_classes must be positive for a class_cond model, got {}", num_classes);
  SAG_REQUIRE(num_heads_upsample == -1 || num_heads_upsample > 0, kConfig,
              "num_heads_upsample must be -1 or positive, got {}", num_heads_upsample);
  if (num_heads_upsample > 0 && num_head_channels == -1) {
    const std::vector<double> mult = resolve_channel_mult(image_size, channel_mult);
    const std::vector<int> factors = attention_downsample_factors(image_size, attention_resolutions);
    for (size_t i = 0; i < factors.size(); ++i) {
      size_t level = 0;
      while ((1 << level) != factors[i]) {
        ++level;
      }
      check_heads(static_cast<int64_t>(mult[level] * num_channels), attention_resolutions[i],
                  num_heads_upsample, num_head_channels, "num_heads_upsample");
    }
  }
}

void EncoderUNetConfig::validate() const {
  validate_architecture({image_size, in_channels, width, "width", depth, "depth", channel_mult,
                         attention_resolutions, num_heads, num_head_channels, dims, dropout, use_fp16,
                         use_bf16});
  SAG_REQUIRE(out_channels > 0, kConfig, "out_channels must be positive, got {}", out_channels);
  SAG_REQUIRE(pool == "adaptive" || pool == "attention" || pool == "spatial" || pool == "spatial_v2", kConfig,
              "pool '{}' is not one of adaptive, attention, spatial, spatial_v2", pool);
  if (pool == "attention") {
    SAG_REQUIRE(num_head_channels != -1, kConfig, "pool attention needs num_head_channels (not -1)");
    const std::vector<double> mult = resolve_channel_mult(image_size, channel_mult);
    const auto ch = static_cast<int64_t>(mult.back() * width);
    SAG_REQUIRE(ch % num_head_channels == 0, kConfig,
                "num_head_channels {} does not divide the {} channels of the attention pool",
                num_head_channels, ch);
  }
}

}  // namespace sagbench::models
