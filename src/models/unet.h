// The ADM UNetModel (upstream guided_diffusion/unet.py UNetModel; IDDPM
// checkpoints load with resblock_updown false), in LibTorch. The module tree
// reproduces upstream state_dict names exactly (time_embed.0.weight,
// label_emb.weight, input_blocks.N.M..., middle_block..., output_blocks...,
// out.2.weight), so checkpoints load by name. Attention maps come out through
// an explicit AttentionProbe argument. Tested by tests/models/unet_test.cpp
// (fixture parity), attention_probe_test.cpp and manifest_test.cpp.
#pragma once

#include <vector>

#include "models/attention_probe.h"
#include "models/blocks.h"
#include "models/layers.h"
#include "models/torso.h"
#include "models/unet_config.h"

namespace sagbench::models {

class UNetModel : public torch::nn::Module {
 public:
  // Validates `config` (kConfig errors) and builds float32 parameters on
  // `device` ("meta" allocates nothing), then casts the torso's convolutions to
  // float16 / bfloat16 when use_fp16 / use_bf16 is set (upstream
  // convert_to_fp16). The model starts in eval mode (dropout off).
  explicit UNetModel(const UNetConfig& config, at::Device device = at::kCPU);

  // x (B, in_channels, H, W); timesteps (B,) as given (the caller passes
  // original-scale or rescaled values); y (B,) integer labels, required exactly
  // when the model is class-conditional. Returns (B, out_channels, H, W) in x's
  // dtype. A non-null probe is validated (kConfig) and receives the selected
  // block's attention map; the output does not depend on it.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& y = {},
                     AttentionProbe* probe = nullptr);

  // Casts the convolutions of input/middle/output blocks (kFloat, kHalf or
  // kBFloat16); time embedding, label embedding, GroupNorm and `out` stay float32.
  void set_torso_dtype(at::ScalarType dtype);
  at::ScalarType torso_dtype() const { return torso_dtype_; }

  const UNetConfig& config() const { return config_; }
  int64_t num_classes() const { return label_emb_ ? label_emb_->num_embeddings() : 0; }
  int64_t in_channels() const { return config_.in_channels; }
  int64_t out_channels() const { return out_channels_; }
  // Attention layers in forward order (see attention_sites()).
  const std::vector<AttentionSite>& sites() const { return sites_; }
  int64_t num_input_blocks() const { return static_cast<int64_t>(input_blocks_.size()); }
  int64_t num_output_blocks() const { return static_cast<int64_t>(output_blocks_.size()); }

 private:
  void check_inputs(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& y) const;

  UNetConfig config_;
  int64_t out_channels_ = 0;
  int64_t size_divisor_ = 1;  // H and W must be multiples of 2^(levels-1)
  at::ScalarType torso_dtype_ = at::kFloat;
  TimeEmbedding time_embed_;
  std::shared_ptr<EmbeddingLayer> label_emb_;
  std::vector<std::shared_ptr<TimestepSequence>> input_blocks_;
  std::shared_ptr<TimestepSequence> middle_block_;
  std::vector<std::shared_ptr<TimestepSequence>> output_blocks_;
  std::shared_ptr<GroupNorm32> out_norm_;
  std::shared_ptr<ConvLayer> out_conv_;
  std::vector<AttentionSite> sites_;
};

}  // namespace sagbench::models
