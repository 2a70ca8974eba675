// The ADM UNetModel (see unet.h), following upstream UNetModel.__init__ and
// forward: sinusoidal timestep embedding -> time_embed MLP (+ label embedding),
// input blocks with skip activations, middle block, output blocks that
// concatenate the skips, then GroupNorm-SiLU-conv.
#include "models/unet.h"

#include "core/error.h"

namespace sagbench::models {

UNetModel::UNetModel(const UNetConfig& config, at::Device device) : config_(config) {
  config_.validate();
  const TorsoSpec spec = torso_spec(config, config.num_channels, config.num_res_blocks);
  const int64_t heads_upsample =
      config.num_heads_upsample == -1 ? config.num_heads : config.num_heads_upsample;
  out_channels_ = config.learn_sigma ? 2 * config.in_channels : config.in_channels;
  size_divisor_ = int64_t{1} << (spec.channel_mult.size() - 1);

  time_embed_ = add_time_embedding(*this, spec.model_channels, device);
  if (config.class_cond) {
    label_emb_ = register_module(
        "label_emb", std::make_shared<EmbeddingLayer>(config.num_classes, time_embed_.dim(), device));
  }

  EncoderHalf half = build_encoder_half(*this, spec, device);
  input_blocks_ = half.input_blocks;
  middle_block_ = half.middle_block;
  sites_ = half.sites;
  std::vector<int64_t> skip_channels = half.input_block_channels;
  int64_t ch = half.channels;
  int64_t ds = half.downsample_factor;

  auto output_list = add_group(*this, "output_blocks");
  for (size_t level = spec.channel_mult.size(); level-- > 0;) {
    for (int64_t i = 0; i <= spec.num_res_blocks; ++i) {
      const int64_t skip_ch = skip_channels.back();
      skip_channels.pop_back();
      auto block = output_list->register_module(std::to_string(output_blocks_.size()),
                                                std::make_shared<TimestepSequence>());
      const int64_t out_ch = level_channels(spec, level);
      block->append(make_res_block(spec, ch + skip_ch, out_ch, Resample::kNone, device));
      ch = out_ch;
      if (has_attention(spec, ds)) {
        auto attention = make_attention(spec, ch, heads_upsample, device);
        block->append(attention);
        sites_.push_back({AttentionBlockKind::kOutput, static_cast<int>(output_blocks_.size()),
                          spec.image_size / ds, ch, attention->heads()});
      }
      if (level > 0 && i == spec.num_res_blocks) {
        if (spec.resblock_updown) {
          block->append(make_res_block(spec, ch, ch, Resample::kUp, device));
        } else {
          block->append(std::make_shared<Upsample>(ch, spec.conv_resample, ch, device));
        }
        ds /= 2;
      }
      output_blocks_.push_back(block);
    }
  }

  auto out = add_group(*this, "out");
  out_norm_ = out->register_module("0", std::make_shared<GroupNorm32>(ch, device));
  out_conv_ = out->register_module("2", std::make_shared<ConvLayer>(2, level_channels(spec, 0), out_channels_,
                                                                    3, 1, 1, device, /*zero_init=*/true));
  eval();
  set_torso_dtype(models::torso_dtype(config.use_fp16, config.use_bf16));
}

void UNetModel::set_torso_dtype(at::ScalarType dtype) {
  SAG_CHECK(dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16, "torso dtype {}",
            c10::toString(dtype));
  for (const auto& block : input_blocks_) {
    cast_convolutions(*block, dtype);
  }
  cast_convolutions(*middle_block_, dtype);
  for (const auto& block : output_blocks_) {
    cast_convolutions(*block, dtype);
  }
  torso_dtype_ = dtype;
}

void UNetModel::check_inputs(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& y) const {
  SAG_REQUIRE(x.defined() && x.dim() == 4 && x.size(1) == config_.in_channels, kShape,
              "UNet input must be (B, {}, H, W), got {}", config_.in_channels, describe_shape(x));
  SAG_REQUIRE(x.size(2) % size_divisor_ == 0 && x.size(3) % size_divisor_ == 0, kShape,
              "UNet input height and width must be multiples of {}, got {}x{}", size_divisor_, x.size(2),
              x.size(3));
  SAG_REQUIRE(x.scalar_type() == at::kFloat, kShape, "UNet input must be float32, got {}",
              c10::toString(x.scalar_type()));
  SAG_REQUIRE(timesteps.defined() && timesteps.dim() == 1 && timesteps.size(0) == x.size(0), kShape,
              "timesteps must be (B,) with B = {}, got {}", x.size(0), describe_shape(timesteps));
  SAG_REQUIRE(!(torso_dtype_ == at::kHalf && x.is_cpu()), kConfig,
              "use_fp16 needs a CUDA device (LibTorch's CPU convolutions have no float16 kernels); "
              "use use_bf16 or float32 on the CPU");
  if (!label_emb_) {
    SAG_REQUIRE(!y.defined(), kConfig, "labels were given to an unconditional model (class_cond false)");
    return;
  }
  SAG_REQUIRE(y.defined(), kConfig,
              "the model is class-conditional (class_cond true): labels y are required");
  SAG_REQUIRE(
      y.dim() == 1 && y.size(0) == x.size(0) && at::isIntegralType(y.scalar_type(), /*includeBool=*/false),
      kShape, "labels y must be (B,) integers with B = {}, got {} {}", x.size(0), describe_shape(y),
      c10::toString(y.scalar_type()));
  // Range check only where it costs no device synchronisation.
  if (y.is_cpu() && y.numel() > 0) {
    const int64_t lo = y.min().item<int64_t>();
    const int64_t hi = y.max().item<int64_t>();
    SAG_REQUIRE(lo >= 0 && hi < num_classes(), kConfig,
                "class labels must be in [0, {}), got values in [{}, {}]", num_classes(), lo, hi);
  }
}

at::Tensor UNetModel::forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& y,
                              AttentionProbe* probe) {
  check_inputs(x, timesteps, y);
  auto probe_for = [probe](AttentionBlockKind kind, size_t depth) -> AttentionProbe* {
    if (probe == nullptr || probe->block != kind) {
      return nullptr;
    }
    return (kind == AttentionBlockKind::kMiddle || static_cast<size_t>(probe->depth) == depth) ? probe
                                                                                               : nullptr;
  };
  if (probe != nullptr) {
    validate_attention_probe(*this, *probe);
    probe->map = at::Tensor();
  }
  at::Tensor emb = time_embed_.forward(timesteps);
  if (label_emb_) {
    emb = emb + label_emb_->forward(y);
  }
  std::vector<at::Tensor> skips;
  skips.reserve(input_blocks_.size());
  at::Tensor h = x.to(torso_dtype_);
  for (size_t i = 0; i < input_blocks_.size(); ++i) {
    h = input_blocks_[i]->forward(h, emb, probe_for(AttentionBlockKind::kInput, i));
    skips.push_back(h);
  }
  h = middle_block_->forward(h, emb, probe_for(AttentionBlockKind::kMiddle, 0));
  for (size_t i = 0; i < output_blocks_.size(); ++i) {
    h = at::cat({h, skips.back()}, 1);
    skips.pop_back();
    h = output_blocks_[i]->forward(h, emb, probe_for(AttentionBlockKind::kOutput, i));
  }
  SAG_CHECK(probe == nullptr || probe->map.defined(), "validated probe received no map");
  h = h.to(x.scalar_type());
  return out_conv_->forward(at::silu(out_norm_->forward(h)));
}

}  // namespace sagbench::models
