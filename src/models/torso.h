// The encoder half shared by UNetModel and EncoderUNetModel: upstream's
// input_blocks (stem conv, ResBlocks with optional attention, downsampling per
// level) and middle_block (ResBlock, attention, ResBlock), built with the same
// registration order and names as upstream guided_diffusion/unet.py.
// Tested through tests/models/manifest_test.cpp and the parity tests.
#pragma once

#include <vector>

#include "models/attention.h"
#include "models/blocks.h"

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
