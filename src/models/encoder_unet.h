// The ADM noisy classifier EncoderUNetModel (upstream guided_diffusion/unet.py):
// the UNet's input and middle blocks, then one of four heads: `adaptive`
// (GroupNorm-SiLU-global average-1x1 conv), `attention` (AttentionPool2d, new
// attention order), `spatial` / `spatial_v2` (MLP over the spatial means of
// every block's output). State-dict names match upstream's exactly.
// Tested by tests/models/encoder_unet_test.cpp and manifest_test.cpp.
#pragma once

#include <vector>

#include "models/attention.h"
#include "models/blocks.h"
#include "models/layers.h"
#include "models/torso.h"
#include "models/unet_config.h"

namespace sagbench::models {

class EncoderUNetModel : public torch::nn::Module {
 public:
  // Validates `config` (kConfig), builds float32 parameters on `device` (meta
  // allocates nothing), casts the torso per use_fp16 / use_bf16; eval mode.
  explicit EncoderUNetModel(const EncoderUNetConfig& config, at::Device device = at::kCPU);

  // x (B, in_channels, image_size, image_size) float32; timesteps (B,) as
  // given (classifier guidance passes original-scale timesteps). Returns
  // logits (B, out_channels), differentiable with respect to x.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& timesteps);

  // Casts the convolutions of input and middle blocks (upstream convert_to_fp16).
  void set_torso_dtype(at::ScalarType dtype);
  at::ScalarType torso_dtype() const { return torso_dtype_; }
  const EncoderUNetConfig& config() const { return config_; }

 private:
  enum class Pool { kAdaptive, kAttention, kSpatial, kSpatialV2 };

  at::Tensor head(const at::Tensor& h, const std::vector<at::Tensor>& spatial_means) const;

  EncoderUNetConfig config_;
  Pool pool_ = Pool::kAttention;
  at::ScalarType torso_dtype_ = at::kFloat;
  TimeEmbedding time_embed_;
  std::vector<std::shared_ptr<TimestepSequence>> input_blocks_;
  std::shared_ptr<TimestepSequence> middle_block_;
  // Head layers; which are set depends on the pool type.
  std::shared_ptr<GroupNorm32> out_norm_;
  std::shared_ptr<ConvLayer> out_conv_;
  std::shared_ptr<AttentionPool2d> out_attention_;
  std::shared_ptr<LinearLayer> out_hidden_;
  std::shared_ptr<GroupNorm32> out_hidden_norm_;
  std::shared_ptr<LinearLayer> out_linear_;
};

}  // namespace sagbench::models
