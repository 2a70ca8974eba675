// The ADM noisy classifier (see encoder_unet.h), following upstream
// EncoderUNetModel.__init__ and forward.
#include "models/encoder_unet.h"

#include "core/error.h"

namespace sagbench::models {

EncoderUNetModel::EncoderUNetModel(const EncoderUNetConfig& config, at::Device device) : config_(config) {
  config_.validate();
  const TorsoSpec spec = torso_spec(config, config.width, config.depth);

  time_embed_ = add_time_embedding(*this, spec.model_channels, device);
  EncoderHalf half = build_encoder_half(*this, spec, device);
  input_blocks_ = half.input_blocks;
  middle_block_ = half.middle_block;
  const int64_t ch = half.channels;

  auto out = add_group(*this, "out");
  constexpr int64_t kHiddenWidth = 2048;  // upstream's spatial head width
  if (config.pool == "adaptive") {
    pool_ = Pool::kAdaptive;
    out_norm_ = out->register_module("0", std::make_shared<GroupNorm32>(ch, device));
    out_conv_ = out->register_module(
        "3", std::make_shared<ConvLayer>(2, ch, config.out_channels, 1, 1, 0, device, /*zero_init=*/true));
  } else if (config.pool == "attention") {
    pool_ = Pool::kAttention;
    out_norm_ = out->register_module("0", std::make_shared<GroupNorm32>(ch, device));
    out_attention_ = out->register_module(
        "2", std::make_shared<AttentionPool2d>(config.image_size / half.downsample_factor, ch,
                                               config.num_head_channels, config.out_channels, device));
  } else if (config.pool == "spatial") {
    pool_ = Pool::kSpatial;
    out_hidden_ =
        out->register_module("0", std::make_shared<LinearLayer>(half.feature_size, kHiddenWidth, device));
    out_linear_ =
        out->register_module("2", std::make_shared<LinearLayer>(kHiddenWidth, config.out_channels, device));
  } else {
    pool_ = Pool::kSpatialV2;
    out_hidden_ =
        out->register_module("0", std::make_shared<LinearLayer>(half.feature_size, kHiddenWidth, device));
    out_hidden_norm_ = out->register_module("1", std::make_shared<GroupNorm32>(kHiddenWidth, device));
    out_linear_ =
        out->register_module("3", std::make_shared<LinearLayer>(kHiddenWidth, config.out_channels, device));
  }
  eval();
  set_torso_dtype(models::torso_dtype(config.use_fp16, config.use_bf16));
}

void EncoderUNetModel::set_torso_dtype(at::ScalarType dtype) {
  SAG_CHECK(dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16, "torso dtype {}",
            c10::toString(dtype));
  for (const auto& block : input_blocks_) {
    cast_convolutions(*block, dtype);
  }
  cast_convolutions(*middle_block_, dtype);
  torso_dtype_ = dtype;
}

at::Tensor EncoderUNetModel::forward(const at::Tensor& x, const at::Tensor& timesteps) {
  SAG_REQUIRE(x.defined() && x.dim() == 4 && x.size(1) == config_.in_channels &&
                  x.size(2) == config_.image_size && x.size(3) == config_.image_size,
              kShape, "classifier input must be (B, {}, {}, {}), got {}", config_.in_channels,
              config_.image_size, config_.image_size, describe_shape(x));
  SAG_REQUIRE(x.scalar_type() == at::kFloat, kShape, "classifier input must be float32, got {}",
              c10::toString(x.scalar_type()));
  SAG_REQUIRE(timesteps.defined() && timesteps.dim() == 1 && timesteps.size(0) == x.size(0), kShape,
              "timesteps must be (B,) with B = {}, got {}", x.size(0), describe_shape(timesteps));
  SAG_REQUIRE(!(torso_dtype_ == at::kHalf && x.is_cpu()), kConfig,
              "use_fp16 needs a CUDA device (LibTorch's CPU convolutions have no float16 kernels); "
              "use use_bf16 or float32 on the CPU");
  const at::Tensor emb = time_embed_.forward(timesteps);
  const bool spatial = pool_ == Pool::kSpatial || pool_ == Pool::kSpatialV2;
  std::vector<at::Tensor> spatial_means;
  at::Tensor h = x.to(torso_dtype_);
  for (const auto& block : input_blocks_) {
    h = block->forward(h, emb);
    if (spatial) {
      spatial_means.push_back(h.to(x.scalar_type()).mean({2, 3}));
    }
  }
  h = middle_block_->forward(h, emb);
  if (spatial) {
    spatial_means.push_back(h.to(x.scalar_type()).mean({2, 3}));
  }
  return head(h.to(x.scalar_type()), spatial_means);
}

at::Tensor EncoderUNetModel::head(const at::Tensor& h, const std::vector<at::Tensor>& spatial_means) const {
  switch (pool_) {
    case Pool::kAdaptive:
      return out_conv_->forward(at::adaptive_avg_pool2d(at::silu(out_norm_->forward(h)), {1, 1})).flatten(1);
    case Pool::kAttention:
      return out_attention_->forward(at::silu(out_norm_->forward(h)));
    case Pool::kSpatial:
      return out_linear_->forward(at::relu(out_hidden_->forward(at::cat(spatial_means, -1))));
    case Pool::kSpatialV2:
      return out_linear_->forward(
          at::silu(out_hidden_norm_->forward(out_hidden_->forward(at::cat(spatial_means, -1)))));
  }
  SAG_CHECK(false, "unknown pool");
  return {};
}

}  // namespace sagbench::models
