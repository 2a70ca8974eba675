// Self-attention of the ADM networks (see attention.h), following upstream
// QKVAttentionLegacy / QKVAttention / AttentionBlock / AttentionPool2d and the
// SAG repository's attention_from_qkv, which the official probe map reproduces.
#include "models/attention.h"

#include <cmath>

#include "core/error.h"

namespace sagbench::models {
namespace {

struct SplitQkv {
  at::Tensor q, k, v;  // each (B*heads, ch, T)
};

SplitQkv split_qkv(const at::Tensor& qkv, int64_t heads, HeadLayout layout) {
  const int64_t batch = qkv.size(0);
  const int64_t width = qkv.size(1);
  const int64_t length = qkv.size(2);
  SAG_CHECK(width % (3 * heads) == 0, "qkv width {} not divisible by 3 x {} heads", width, heads);
  const int64_t ch = width / (3 * heads);
  if (layout == HeadLayout::kLegacy) {
    const auto parts = qkv.reshape({batch * heads, 3 * ch, length}).split(ch, 1);
    return {parts[0], parts[1], parts[2]};
  }
  const auto parts = qkv.chunk(3, 1);
  return {parts[0].reshape({batch * heads, ch, length}), parts[1].reshape({batch * heads, ch, length}),
          parts[2].reshape({batch * heads, ch, length})};
}

// softmax over keys of (q ch^-1/4)^T (k ch^-1/4), computed in float32.
at::Tensor softmax_weights(const SplitQkv& s) {
  const double scale = 1.0 / std::sqrt(std::sqrt(static_cast<double>(s.q.size(1))));
  const at::Tensor logits = at::bmm((s.q * scale).transpose(1, 2), s.k * scale);  // (B*h, T query, T key)
  return at::softmax(logits.to(at::kFloat), -1);
}

}  // namespace

at::Tensor qkv_attention_weights(const at::Tensor& qkv, int64_t heads, HeadLayout layout) {
  return softmax_weights(split_qkv(qkv, heads, layout));
}

at::Tensor qkv_attention(const at::Tensor& qkv, int64_t heads, HeadLayout layout, at::Tensor* weights_out) {
  const SplitQkv s = split_qkv(qkv, heads, layout);
  const at::Tensor weights = softmax_weights(s);
  if (weights_out != nullptr) {
    *weights_out = weights;
  }
  // a[b, c, t] = sum_s w[b, t, s] v[b, c, s], with w cast back to the torso dtype.
  const at::Tensor a = at::bmm(s.v, weights.to(qkv.scalar_type()).transpose(1, 2));
  return a.reshape({qkv.size(0), -1, qkv.size(2)});
}

AttentionBlock::AttentionBlock(int64_t channels, int64_t num_heads, int64_t num_head_channels,
                               bool use_new_attention_order, int64_t official_map_heads, at::Device device)
    : channels_(channels),
      layout_(use_new_attention_order ? HeadLayout::kNew : HeadLayout::kLegacy),
      official_map_heads_(official_map_heads) {
  if (num_head_channels == -1) {
    heads_ = num_heads;
  } else {
    SAG_CHECK(num_head_channels > 0 && channels % num_head_channels == 0,
              "attention channels {} not divisible by num_head_channels {}", channels, num_head_channels);
    heads_ = channels / num_head_channels;
  }
  SAG_CHECK(heads_ > 0 && channels % heads_ == 0, "attention channels {} not divisible by {} heads", channels,
            heads_);
  norm_ = register_module("norm", std::make_shared<GroupNorm32>(channels, device));
  qkv_ = register_module("qkv", std::make_shared<ConvLayer>(1, channels, 3 * channels, 1, 1, 0, device));
  proj_out_ = register_module(
      "proj_out", std::make_shared<ConvLayer>(1, channels, channels, 1, 1, 0, device, /*zero_init=*/true));
}

at::Tensor AttentionBlock::forward(const at::Tensor& x, const at::Tensor&, AttentionProbe* probe) {
  const int64_t batch = x.size(0);
  const at::Tensor flat = x.reshape({batch, channels_, -1});
  const at::Tensor qkv = qkv_->forward(norm_->forward(flat));
  at::Tensor weights;
  const bool want_exact = probe != nullptr && probe->map_kind == AttentionMapKind::kExact;
  const at::Tensor h = qkv_attention(qkv, heads_, layout_, want_exact ? &weights : nullptr);
  if (probe != nullptr) {
    if (want_exact) {
      probe->map = weights.detach();
      probe->heads = heads_;
    } else {
      // The SAG repository hooks the raw qkv input (detached, cast to float32)
      // and always splits it with the num_heads flag in the legacy layout.
      SAG_CHECK(channels_ % official_map_heads_ == 0, "official map: {} channels, {} heads", channels_,
                official_map_heads_);
      probe->map =
          qkv_attention_weights(qkv.detach().to(at::kFloat), official_map_heads_, HeadLayout::kLegacy);
      probe->heads = official_map_heads_;
    }
    probe->grid_height = x.size(2);
    probe->grid_width = x.size(3);
  }
  return (flat + proj_out_->forward(h)).reshape(x.sizes());
}

AttentionPool2d::AttentionPool2d(int64_t spatial_dim, int64_t embed_dim, int64_t num_head_channels,
                                 int64_t output_dim, at::Device device)
    : spatial_dim_(spatial_dim) {
  SAG_CHECK(num_head_channels > 0 && embed_dim % num_head_channels == 0,
            "AttentionPool2d: {} channels not divisible by num_head_channels {}", embed_dim,
            num_head_channels);
  heads_ = embed_dim / num_head_channels;
  positional_embedding_ = register_parameter(
      "positional_embedding",
      at::empty({embed_dim, spatial_dim * spatial_dim + 1}, at::TensorOptions(at::kFloat).device(device)));
  if (device.type() != c10::DeviceType::Meta) {
    torch::NoGradGuard no_grad;
    positional_embedding_.normal_(0.0, 1.0).div_(std::sqrt(static_cast<double>(embed_dim)));
  }
  qkv_proj_ =
      register_module("qkv_proj", std::make_shared<ConvLayer>(1, embed_dim, 3 * embed_dim, 1, 1, 0, device));
  c_proj_ = register_module("c_proj", std::make_shared<ConvLayer>(1, embed_dim, output_dim, 1, 1, 0, device));
}

at::Tensor AttentionPool2d::forward(const at::Tensor& x) const {
  const int64_t batch = x.size(0);
  const int64_t channels = x.size(1);
  SAG_REQUIRE(x.size(2) * x.size(3) == spatial_dim_ * spatial_dim_, kShape,
              "attention pooling expects a {}x{} feature map (image_size / downsampling), got {}x{}",
              spatial_dim_, spatial_dim_, x.size(2), x.size(3));
  at::Tensor h = x.reshape({batch, channels, -1});
  h = at::cat({h.mean(-1, /*keepdim=*/true), h}, -1);
  h = h + positional_embedding_.unsqueeze(0).to(h.scalar_type());
  h = qkv_attention(qkv_proj_->forward(h), heads_, HeadLayout::kNew);
  return c_proj_->forward(h).select(2, 0);
}

}  // namespace sagbench::models
