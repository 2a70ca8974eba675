// The parts shared by UNetModel and EncoderUNetModel (see torso.h): the time
// embedding and the input_blocks / middle_block loops of upstream UNetModel.__init__.
#include "models/torso.h"

#include <algorithm>

namespace sagbench::models {

at::Tensor TimeEmbedding::forward(const at::Tensor& timesteps) const {
  return out->forward(at::silu(in->forward(timestep_embedding(timesteps, model_channels))));
}

TimeEmbedding add_time_embedding(torch::nn::Module& owner, int64_t model_channels, at::Device device) {
  TimeEmbedding embedding;
  embedding.model_channels = model_channels;
  auto group = add_group(owner, "time_embed");
  embedding.in =
      group->register_module("0", std::make_shared<LinearLayer>(model_channels, embedding.dim(), device));
  embedding.out =
      group->register_module("2", std::make_shared<LinearLayer>(embedding.dim(), embedding.dim(), device));
  return embedding;
}

int64_t level_channels(const TorsoSpec& spec, size_t level) {
  return static_cast<int64_t>(spec.channel_mult[level] * static_cast<double>(spec.model_channels));
}

bool has_attention(const TorsoSpec& spec, int64_t downsample_factor) {
  return std::find(spec.attention_factors.begin(), spec.attention_factors.end(), downsample_factor) !=
         spec.attention_factors.end();
}

std::shared_ptr<ResBlock> make_res_block(const TorsoSpec& spec, int64_t channels, int64_t out_channels,
                                         Resample resample, at::Device device) {
  ResBlockOptions options;
  options.channels = channels;
  options.emb_channels = 4 * spec.model_channels;
  options.out_channels = out_channels;
  options.dropout = spec.dropout;
  options.use_scale_shift_norm = spec.use_scale_shift_norm;
  options.resample = resample;
  return std::make_shared<ResBlock>(options, device);
}

std::shared_ptr<AttentionBlock> make_attention(const TorsoSpec& spec, int64_t channels, int64_t num_heads,
                                               at::Device device) {
  return std::make_shared<AttentionBlock>(channels, num_heads, spec.num_head_channels,
                                          spec.use_new_attention_order, spec.official_map_heads, device);
}

EncoderHalf build_encoder_half(torch::nn::Module& owner, const TorsoSpec& spec, at::Device device) {
  EncoderHalf half;
  auto list = add_group(owner, "input_blocks");
  auto append_block = [&]() {
    auto block =
        list->register_module(std::to_string(half.input_blocks.size()), std::make_shared<TimestepSequence>());
    half.input_blocks.push_back(block);
    return block;
  };
  int64_t ch = level_channels(spec, 0);
  append_block()->append(std::make_shared<ConvLayer>(2, spec.in_channels, ch, 3, 1, 1, device));
  half.feature_size = ch;
  half.input_block_channels.push_back(ch);
  int64_t ds = 1;
  const size_t levels = spec.channel_mult.size();
  for (size_t level = 0; level < levels; ++level) {
    for (int64_t r = 0; r < spec.num_res_blocks; ++r) {
      auto block = append_block();
      const int64_t out_ch = level_channels(spec, level);
      block->append(make_res_block(spec, ch, out_ch, Resample::kNone, device));
      ch = out_ch;
      if (has_attention(spec, ds)) {
        auto attention = make_attention(spec, ch, spec.num_heads, device);
        block->append(attention);
        half.sites.push_back({AttentionBlockKind::kInput, static_cast<int>(half.input_blocks.size() - 1),
                              spec.image_size / ds, ch, attention->heads()});
      }
      half.feature_size += ch;
      half.input_block_channels.push_back(ch);
    }
    if (level + 1 != levels) {
      auto block = append_block();
      if (spec.resblock_updown) {
        block->append(make_res_block(spec, ch, ch, Resample::kDown, device));
      } else {
        block->append(std::make_shared<Downsample>(ch, spec.conv_resample, ch, device));
      }
      half.input_block_channels.push_back(ch);
      ds *= 2;
      half.feature_size += ch;
    }
  }
  half.middle_block = owner.register_module("middle_block", std::make_shared<TimestepSequence>());
  half.middle_block->append(make_res_block(spec, ch, ch, Resample::kNone, device));
  auto attention = make_attention(spec, ch, spec.num_heads, device);
  half.middle_block->append(attention);
  half.middle_block->append(make_res_block(spec, ch, ch, Resample::kNone, device));
  half.sites.push_back({AttentionBlockKind::kMiddle, 0, spec.image_size / ds, ch, attention->heads()});
  half.feature_size += ch;
  half.channels = ch;
  half.downsample_factor = ds;
  return half;
}

}  // namespace sagbench::models
