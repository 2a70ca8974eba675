// Self-attention of the ADM networks (upstream guided_diffusion/unet.py):
// QKVAttentionLegacy (split heads, then q/k/v) and QKVAttention (split q/k/v,
// then heads), AttentionBlock, and the classifier's AttentionPool2d; plus the
// SAG repository's attention_from_qkv (the "official" probe map). Weights are
// softmax(q·k / sqrt(ch)) with q and k each scaled by ch^-1/4 first (the
// upstream fp16-friendly order); the softmax runs in float32 and is cast back.
// Tested by tests/models/unet_test.cpp and attention_probe_test.cpp.
#pragma once

#include "models/attention_probe.h"
#include "models/blocks.h"
#include "models/layers.h"

namespace sagbench::models {

enum class HeadLayout {
  kLegacy,  // qkv channels ordered (head, {q,k,v}, ch): QKVAttentionLegacy
  kNew,     // qkv channels ordered ({q,k,v}, head, ch): QKVAttention
};

// Attention weights (B*heads, T, T), indexed (query, key), in float32, from a
// qkv activation (B, 3*heads*ch, T).
at::Tensor qkv_attention_weights(const at::Tensor& qkv, int64_t heads, HeadLayout layout);
// Full attention: (B, heads*ch, T) output from qkv (B, 3*heads*ch, T). When
// `weights_out` is given it receives the float32 weights of qkv_attention_weights.
at::Tensor qkv_attention(const at::Tensor& qkv, int64_t heads, HeadLayout layout,
                         at::Tensor* weights_out = nullptr);

// Upstream AttentionBlock: x + proj_out(attention(qkv(norm(x)))) over the
// flattened spatial positions. `official_map_heads` is the network-wide
// num_heads flag, used only to build the official probe map.
class AttentionBlock : public TimestepLayer {
 public:
  AttentionBlock(int64_t channels, int64_t num_heads, int64_t num_head_channels, bool use_new_attention_order,
                 int64_t official_map_heads, at::Device device);
  // Fills `probe` (when non-null) with this block's map; the output is unchanged.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& emb, AttentionProbe* probe) override;
  int64_t heads() const { return heads_; }
  int64_t channels() const { return channels_; }

 private:
  int64_t channels_;
  int64_t heads_;
  HeadLayout layout_;
  int64_t official_map_heads_;
  std::shared_ptr<GroupNorm32> norm_;
  std::shared_ptr<ConvLayer> qkv_;
  std::shared_ptr<ConvLayer> proj_out_;
};

// Upstream AttentionPool2d (from CLIP): prepend the spatial mean as a token, add
// a learned positional embedding, attend with QKVAttention (new order) and
// return the projected mean token: (B, C, H, W) -> (B, output_dim).
class AttentionPool2d : public torch::nn::Module {
 public:
  AttentionPool2d(int64_t spatial_dim, int64_t embed_dim, int64_t num_head_channels, int64_t output_dim,
                  at::Device device);
  at::Tensor forward(const at::Tensor& x) const;

 private:
  int64_t spatial_dim_;
  int64_t heads_;
  at::Tensor positional_embedding_;
  std::shared_ptr<ConvLayer> qkv_proj_;
  std::shared_ptr<ConvLayer> c_proj_;
};

}  // namespace sagbench::models
