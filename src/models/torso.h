// What UNetModel and EncoderUNetModel share: the torso settings taken from
// their configs, upstream's time_embed MLP, and the encoder half: upstream's
// input_blocks (stem conv, ResBlocks with optional attention, downsampling per
// level) and middle_block (ResBlock, attention, ResBlock), built with the same
// registration order and names as upstream guided_diffusion/unet.py.
// Tested through tests/models/manifest_test.cpp and the parity tests.
#pragma once

#include <vector>

#include "models/attention.h"
#include "models/blocks.h"
#include "models/layers.h"
#include "models/unet_config.h"

namespace sagbench::models {

struct TorsoSpec {
  int64_t image_size = 0;
  int64_t in_channels = 3;
  int64_t model_channels = 0;
  int64_t num_res_blocks = 0;
  std::vector<double> channel_mult;
  std::vector<int> attention_factors;  // downsampling factors with attention
  double dropout = 0.0;
  bool conv_resample = true;
  int64_t num_heads = 1;
  int64_t num_head_channels = -1;
  bool use_scale_shift_norm = false;
  bool resblock_updown = false;
  bool use_new_attention_order = false;
  int64_t official_map_heads = 1;  // the num_heads flag (SAG's official map)
};

// The fields both configs name alike; the width and depth are named
// num_channels / num_res_blocks in UNetConfig and width / depth in EncoderUNetConfig.
template <class Config>
TorsoSpec torso_spec(const Config& config, int64_t model_channels, int64_t num_res_blocks) {
  TorsoSpec spec;
  spec.image_size = config.image_size;
  spec.in_channels = config.in_channels;
  spec.model_channels = model_channels;
  spec.num_res_blocks = num_res_blocks;
  spec.channel_mult = resolve_channel_mult(config.image_size, config.channel_mult);
  spec.attention_factors = attention_downsample_factors(config.image_size, config.attention_resolutions);
  spec.dropout = config.dropout;
  spec.conv_resample = config.conv_resample;
  spec.num_heads = config.num_heads;
  spec.num_head_channels = config.num_head_channels;
  spec.use_scale_shift_norm = config.use_scale_shift_norm;
  spec.resblock_updown = config.resblock_updown;
  spec.use_new_attention_order = config.use_new_attention_order;
  spec.official_map_heads = config.num_heads;
  return spec;
}

// Upstream's time_embed: the sinusoidal embedding of the timesteps (width
// model_channels), Linear "0", SiLU, Linear "2", both 4 x model_channels wide.
struct TimeEmbedding {
  int64_t model_channels = 0;
  std::shared_ptr<LinearLayer> in;
  std::shared_ptr<LinearLayer> out;

  int64_t dim() const { return 4 * model_channels; }
  at::Tensor forward(const at::Tensor& timesteps) const;
};

// Registers "time_embed" on `owner`.
TimeEmbedding add_time_embedding(torch::nn::Module& owner, int64_t model_channels, at::Device device);

struct EncoderHalf {
  std::vector<std::shared_ptr<TimestepSequence>> input_blocks;
  std::shared_ptr<TimestepSequence> middle_block;
  std::vector<int64_t> input_block_channels;  // skip-connection widths, in order
  int64_t channels = 0;                       // width after the middle block
  int64_t downsample_factor = 1;              // at the middle block
  int64_t feature_size = 0;                   // upstream _feature_size after the middle block
  std::vector<AttentionSite> sites;           // input and middle attention layers
};

int64_t level_channels(const TorsoSpec& spec, size_t level);
bool has_attention(const TorsoSpec& spec, int64_t downsample_factor);
std::shared_ptr<ResBlock> make_res_block(const TorsoSpec& spec, int64_t channels, int64_t out_channels,
                                         Resample resample, at::Device device);
std::shared_ptr<AttentionBlock> make_attention(const TorsoSpec& spec, int64_t channels, int64_t num_heads,
                                               at::Device device);

// Registers "input_blocks" and "middle_block" on `owner`.
EncoderHalf build_encoder_half(torch::nn::Module& owner, const TorsoSpec& spec, at::Device device);

}  // namespace sagbench::models
