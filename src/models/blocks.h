// Building blocks of the ADM UNet, following upstream guided_diffusion/unet.py:
// TimestepEmbedSequential, ResBlock (scale-shift norm, up/down variants),
// Upsample and Downsample. Module paths reproduce upstream state_dict names
// (in_layers.0/2, emb_layers.1, out_layers.0/3, skip_connection, op, conv).
// Dropout acts only in training mode (the networks are built in eval mode);
// use_checkpoint (gradient checkpointing) does not change results and is not
// implemented.
// Tested through tests/models/unet_test.cpp.
#pragma once

#include <vector>

#include "models/attention_probe.h"
#include "models/layers.h"

namespace sagbench::models {

// A layer that takes the timestep embedding (upstream TimestepBlock). The probe
// pointer is non-null only for the block the caller selected.
class TimestepLayer : public torch::nn::Module {
 public:
  virtual at::Tensor forward(const at::Tensor& x, const at::Tensor& emb, AttentionProbe* probe) = 0;
};

// Upstream TimestepEmbedSequential: children named "0", "1", ...
class TimestepSequence : public torch::nn::Module {
 public:
  void append(std::shared_ptr<TimestepLayer> layer);
  void append(std::shared_ptr<ConvLayer> conv);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& emb, AttentionProbe* probe = nullptr);
  // The first child of type Layer, or nullptr.
  template <class Layer>
  std::shared_ptr<Layer> find() const {
    for (const auto& entry : entries_) {
      if (auto layer = std::dynamic_pointer_cast<Layer>(entry.layer)) {
        return layer;
      }
    }
    return nullptr;
  }

 private:
  struct Entry {
    std::shared_ptr<TimestepLayer> layer;  // exactly one of layer / conv is set
    std::shared_ptr<ConvLayer> conv;
  };
  std::vector<Entry> entries_;
};

enum class Resample { kNone, kUp, kDown };

// Nearest-neighbour 2x upsampling, then a 3x3 conv when `use_conv`.
class Upsample : public TimestepLayer {
 public:
  Upsample(int64_t channels, bool use_conv, int64_t out_channels, at::Device device);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& emb, AttentionProbe* probe) override;

 private:
  std::shared_ptr<ConvLayer> conv_;  // "conv"; null without use_conv
};

// Stride-2 3x3 conv ("op") when `use_conv`, else 2x2 average pooling.
class Downsample : public TimestepLayer {
 public:
  Downsample(int64_t channels, bool use_conv, int64_t out_channels, at::Device device);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& emb, AttentionProbe* probe) override;

 private:
  std::shared_ptr<ConvLayer> op_;  // null without use_conv
};

struct ResBlockOptions {
  int64_t channels = 0;
  int64_t emb_channels = 0;
  int64_t out_channels = 0;  // 0 = channels
  double dropout = 0.0;
  bool use_conv_skip = false;
  bool use_scale_shift_norm = false;
  Resample resample = Resample::kNone;
};

// Upstream ResBlock: GroupNorm-SiLU-conv, timestep embedding added (or FiLM
// scale/shift after the second norm), GroupNorm-SiLU-(dropout)-conv, plus a
// skip connection (identity, 1x1 or 3x3 conv).
class ResBlock : public TimestepLayer {
 public:
  ResBlock(const ResBlockOptions& options, at::Device device);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& emb, AttentionProbe* probe) override;

 private:
  bool use_scale_shift_norm_;
  Resample resample_;
  double dropout_;
  std::shared_ptr<GroupNorm32> in_norm_;
  std::shared_ptr<ConvLayer> in_conv_;
  std::shared_ptr<LinearLayer> emb_linear_;
  std::shared_ptr<GroupNorm32> out_norm_;
  std::shared_ptr<ConvLayer> out_conv_;
  std::shared_ptr<ConvLayer> skip_;  // null for the identity skip
};

// x resampled without a convolution (ResBlock's h_upd / x_upd).
at::Tensor resample_without_conv(const at::Tensor& x, Resample resample);

}  // namespace sagbench::models
