// ADM UNet building blocks (see blocks.h), following upstream
// guided_diffusion/unet.py ResBlock._forward, Upsample, Downsample and
// TimestepEmbedSequential.forward operation by operation.
#include "models/blocks.h"

#include "core/error.h"

namespace sagbench::models {

void TimestepSequence::append(std::shared_ptr<TimestepLayer> layer) {
  register_module(std::to_string(entries_.size()), layer);
  entries_.push_back({std::move(layer), nullptr});
}

void TimestepSequence::append(std::shared_ptr<ConvLayer> conv) {
  register_module(std::to_string(entries_.size()), conv);
  entries_.push_back({nullptr, std::move(conv)});
}

at::Tensor TimestepSequence::forward(const at::Tensor& x, const at::Tensor& emb, AttentionProbe* probe) {
  at::Tensor h = x;
  for (const auto& entry : entries_) {
    h = entry.layer ? entry.layer->forward(h, emb, probe) : entry.conv->forward(h);
  }
  return h;
}

at::Tensor resample_without_conv(const at::Tensor& x, Resample resample) {
  switch (resample) {
    case Resample::kUp:
      // F.interpolate(scale_factor=2, mode="nearest"): source index floor(dst / 2).
      return at::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2}, 2.0, 2.0);
    case Resample::kDown:
      return at::avg_pool2d(x, {2, 2}, {2, 2});
    case Resample::kNone:
      break;
  }
  return x;
}

Upsample::Upsample(int64_t channels, bool use_conv, int64_t out_channels, at::Device device) {
  if (use_conv) {
    conv_ = register_module("conv", std::make_shared<ConvLayer>(2, channels, out_channels, 3, 1, 1, device));
  } else {
    SAG_CHECK(channels == out_channels, "Upsample without conv keeps {} channels", channels);
  }
}

at::Tensor Upsample::forward(const at::Tensor& x, const at::Tensor&, AttentionProbe*) {
  const at::Tensor h = resample_without_conv(x, Resample::kUp);
  return conv_ ? conv_->forward(h) : h;
}

Downsample::Downsample(int64_t channels, bool use_conv, int64_t out_channels, at::Device device) {
  if (use_conv) {
    op_ = register_module("op", std::make_shared<ConvLayer>(2, channels, out_channels, 3, 2, 1, device));
  } else {
    SAG_CHECK(channels == out_channels, "Downsample without conv keeps {} channels", channels);
  }
}

at::Tensor Downsample::forward(const at::Tensor& x, const at::Tensor&, AttentionProbe*) {
  return op_ ? op_->forward(x) : resample_without_conv(x, Resample::kDown);
}

ResBlock::ResBlock(const ResBlockOptions& options, at::Device device)
    : use_scale_shift_norm_(options.use_scale_shift_norm),
      resample_(options.resample),
      dropout_(options.dropout) {
  const int64_t channels = options.channels;
  const int64_t out_channels = options.out_channels > 0 ? options.out_channels : channels;
  // Registration order = upstream state_dict order: in_layers, emb_layers, out_layers, skip.
  auto in_layers = add_group(*this, "in_layers");
  in_norm_ = in_layers->register_module("0", std::make_shared<GroupNorm32>(channels, device));
  in_conv_ = in_layers->register_module(
      "2", std::make_shared<ConvLayer>(2, channels, out_channels, 3, 1, 1, device));
  auto emb_layers = add_group(*this, "emb_layers");
  const int64_t emb_out = use_scale_shift_norm_ ? 2 * out_channels : out_channels;
  emb_linear_ =
      emb_layers->register_module("1", std::make_shared<LinearLayer>(options.emb_channels, emb_out, device));
  auto out_layers = add_group(*this, "out_layers");
  out_norm_ = out_layers->register_module("0", std::make_shared<GroupNorm32>(out_channels, device));
  out_conv_ = out_layers->register_module(
      "3", std::make_shared<ConvLayer>(2, out_channels, out_channels, 3, 1, 1, device, /*zero_init=*/true));
  if (out_channels != channels) {
    const int64_t kernel = options.use_conv_skip ? 3 : 1;
    skip_ = register_module("skip_connection", std::make_shared<ConvLayer>(2, channels, out_channels, kernel,
                                                                           1, kernel / 2, device));
  }
}

at::Tensor ResBlock::forward(const at::Tensor& x, const at::Tensor& emb, AttentionProbe*) {
  at::Tensor h = at::silu(in_norm_->forward(x));
  at::Tensor skip_input = x;
  if (resample_ != Resample::kNone) {
    h = resample_without_conv(h, resample_);
    skip_input = resample_without_conv(x, resample_);
  }
  h = in_conv_->forward(h);
  // The embedding projection stays in float32 and is cast to the torso dtype.
  const at::Tensor emb_out =
      emb_linear_->forward(at::silu(emb)).to(h.scalar_type()).unsqueeze(-1).unsqueeze(-1);
  if (use_scale_shift_norm_) {
    const auto scale_shift = emb_out.chunk(2, 1);
    h = out_norm_->forward(h) * (1 + scale_shift[0]) + scale_shift[1];
  } else {
    h = out_norm_->forward(h + emb_out);
  }
  h = at::dropout(at::silu(h), dropout_, is_training());
  h = out_conv_->forward(h);
  return (skip_ ? skip_->forward(skip_input) : skip_input) + h;
}

}  // namespace sagbench::models
