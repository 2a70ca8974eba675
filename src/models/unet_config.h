// Configuration of the ADM networks: plain structs with defaults in code,
// bound from YAML by the config layer through visit(). Key names are the
// upstream flag names of guided_diffusion/script_util.py
// (model_and_diffusion_defaults / create_model, classifier_defaults /
// create_classifier; classifier keys drop the `classifier_` prefix because they
// live in a `classifier:` section). Defaults are upstream's script defaults.
// Tested by tests/models/unet_config_test.cpp and the preset manifest tests.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace sagbench::models {

// UNetModel (ADM; IDDPM checkpoints load with resblock_updown false).
struct UNetConfig {
  std::string checkpoint;  // weights file (.pt state dict); empty = random initialisation
  int image_size = 64;
  int in_channels = 3;
  int num_channels = 128;
  int num_res_blocks = 2;
  std::vector<int> channel_mult;                     // empty = upstream default for image_size
  std::vector<int> attention_resolutions = {16, 8};  // pixel resolutions (upstream "16,8")
  double dropout = 0.0;
  bool conv_resample = true;
  int dims = 2;
  bool class_cond = false;
  int num_classes = 1000;  // used when class_cond (upstream NUM_CLASSES)
  bool learn_sigma = false;
  bool use_checkpoint = false;
  bool use_fp16 = false;
  bool use_bf16 = false;
  int num_heads = 4;
  int num_head_channels = -1;
  int num_heads_upsample = -1;
  bool use_scale_shift_norm = true;
  bool resblock_updown = false;
  bool use_new_attention_order = false;

  template <class V>
  void visit(V& v) {
    v("checkpoint", checkpoint,
      "weights file (.pt state dict, e.g. 256x256_diffusion.pt); empty = random init");
    v("image_size", image_size, "image side in pixels (--image_size)");
    v("in_channels", in_channels, "image channels (3 upstream)");
    v("num_channels", num_channels, "base channel count (--num_channels)");
    v("num_res_blocks", num_res_blocks, "residual blocks per level (--num_res_blocks)");
    v("channel_mult", channel_mult,
      "channel multiplier per level, e.g. 1,1,2,2,4,4; empty = upstream default");
    v("attention_resolutions", attention_resolutions,
      "pixel resolutions with attention (--attention_resolutions)");
    v("dropout", dropout, "dropout rate, active only when training (--dropout)");
    v("conv_resample", conv_resample, "learned convolutions in Upsample/Downsample");
    v("dims", dims, "signal dimensions (only 2 is supported)");
    v("class_cond", class_cond, "class-conditional model with a label embedding (--class_cond)");
    v("num_classes", num_classes, "label count when class_cond (1000 upstream; +1 for a CFG null label)");
    v("learn_sigma", learn_sigma, "output 2x channels: eps and variance values (--learn_sigma)");
    v("use_checkpoint", use_checkpoint, "gradient checkpointing (accepted; no effect on results)");
    v("use_fp16", use_fp16,
      "float16 torso convolutions, GroupNorm/softmax in float32 (--use_fp16; CUDA only)");
    v("use_bf16", use_bf16, "bfloat16 torso convolutions, GroupNorm/softmax in float32");
    v("num_heads", num_heads, "attention heads; also the head count of the official SAG map (--num_heads)");
    v("num_head_channels", num_head_channels, "channels per head, overrides num_heads when != -1");
    v("num_heads_upsample", num_heads_upsample, "heads in the output blocks; -1 = num_heads");
    v("use_scale_shift_norm", use_scale_shift_norm,
      "FiLM-style timestep conditioning (--use_scale_shift_norm)");
    v("resblock_updown", resblock_updown, "residual blocks for up/downsampling (--resblock_updown)");
    v("use_new_attention_order", use_new_attention_order, "split qkv before heads (QKVAttention)");
  }
  // kConfig error naming the key for impossible architectures.
  void validate() const;
};

// EncoderUNetModel, the noisy classifier of classifier guidance.
struct EncoderUNetConfig {
  std::string checkpoint;
  int image_size = 64;
  int in_channels = 3;
  int width = 128;                // upstream --classifier_width (model_channels)
  int depth = 2;                  // upstream --classifier_depth (num_res_blocks)
  std::vector<int> channel_mult;  // empty = create_classifier's default for image_size
  std::vector<int> attention_resolutions = {32, 16, 8};
  int out_channels = 1000;
  double dropout = 0.0;
  bool conv_resample = true;
  int dims = 2;
  bool use_checkpoint = false;
  bool use_fp16 = false;
  bool use_bf16 = false;
  int num_heads = 1;
  int num_head_channels = 64;
  bool use_scale_shift_norm = true;
  bool resblock_updown = true;
  bool use_new_attention_order = false;
  std::string pool = "attention";

  template <class V>
  void visit(V& v) {
    v("checkpoint", checkpoint,
      "weights file (.pt state dict, e.g. 128x128_classifier.pt); empty = random init");
    v("image_size", image_size, "image side in pixels (--image_size)");
    v("in_channels", in_channels, "image channels (3 upstream)");
    v("width", width, "base channel count (--classifier_width)");
    v("depth", depth, "residual blocks per level (--classifier_depth)");
    v("channel_mult", channel_mult, "channel multiplier per level; empty = upstream default for image_size");
    v("attention_resolutions", attention_resolutions,
      "pixel resolutions with attention "
      "(--classifier_attention_resolutions)");
    v("out_channels", out_channels, "number of classes (1000 upstream)");
    v("dropout", dropout, "dropout rate, active only when training");
    v("conv_resample", conv_resample, "learned convolution in Downsample");
    v("dims", dims, "signal dimensions (only 2 is supported)");
    v("use_checkpoint", use_checkpoint, "gradient checkpointing (accepted; no effect on results)");
    v("use_fp16", use_fp16, "float16 torso convolutions (--classifier_use_fp16; CUDA only)");
    v("use_bf16", use_bf16, "bfloat16 torso convolutions");
    v("num_heads", num_heads, "attention heads when num_head_channels is -1");
    v("num_head_channels", num_head_channels, "channels per attention head (64 upstream)");
    v("use_scale_shift_norm", use_scale_shift_norm,
      "FiLM-style timestep conditioning "
      "(--classifier_use_scale_shift_norm)");
    v("resblock_updown", resblock_updown, "residual blocks for downsampling (--classifier_resblock_updown)");
    v("use_new_attention_order", use_new_attention_order, "split qkv before heads (QKVAttention)");
    v.choice("pool", pool, {"adaptive", "attention", "spatial", "spatial_v2"},
             "output head (--classifier_pool)");
  }
  void validate() const;
};

// The channel multipliers a config resolves to: the given list, or upstream's
// default for image_size (512: 0.5,1,1,2,2,4,4; 256: 1,1,2,2,4,4; 128: 1,1,2,3,4;
// 64: 1,2,3,4); kConfig for other sizes with an empty list.
std::vector<double> resolve_channel_mult(int image_size, const std::vector<int>& channel_mult);
// Pixel resolutions -> downsampling factors image_size / resolution (upstream
// create_model); kConfig when a resolution does not divide image_size.
std::vector<int> attention_downsample_factors(int image_size, const std::vector<int>& resolutions);
// float32, float16 or bfloat16 from use_fp16 / use_bf16.
at::ScalarType torso_dtype(bool use_fp16, bool use_bf16);

}  // namespace sagbench::models
