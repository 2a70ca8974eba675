// The attention probe: an explicit argument of UNetModel::forward that selects
// one attention block and receives its self-attention map (no global hooks).
// `official` rebuilds the map from the block's raw qkv input with the
// network-wide num_heads flag in the legacy head layout, as the SAG repository's
// unet.py does (attention_from_qkv; REFERENCE.md §1 "head-count quirk");
// `exact` is the block's own per-head softmax. Tested by
// tests/models/attention_probe_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sagbench::models {

class UNetModel;

// Which part of the UNet holds the probed block; depth indexes
// input_blocks / output_blocks (the middle block has one attention layer).
enum class AttentionBlockKind { kInput, kMiddle, kOutput };

enum class AttentionMapKind {
  kOfficial,  // softmax rebuilt from raw qkv with the num_heads flag, legacy layout
  kExact,     // the block's true per-head attention weights
};

const char* attention_block_name(AttentionBlockKind kind);
const char* attention_map_name(AttentionMapKind kind);
// "input" | "middle" | "output"; anything else is a kConfig error naming `key`.
AttentionBlockKind parse_attention_block(const std::string& text, const std::string& key = "block");
// "official" | "exact"; anything else is a kConfig error naming `key`.
AttentionMapKind parse_attention_map(const std::string& text, const std::string& key = "attention_map");

// Passed to UNetModel::forward. The caller sets the selection; forward fills the
// results. Only the selected block materialises a map, and the model output is
// the same with or without a probe.
struct AttentionProbe {
  AttentionBlockKind block = AttentionBlockKind::kOutput;
  int depth = 0;  // ignored for the middle block
  AttentionMapKind map_kind = AttentionMapKind::kOfficial;

  // Filled by forward: float32 (B*heads, T, T) weights indexed (query, key),
  // detached from autograd; T = grid_height * grid_width. With a float16 /
  // bfloat16 torso the exact map is the float32 softmax before its cast back.
  at::Tensor map;
  int64_t heads = 0;  // official: the num_heads flag; exact: the block's real head count
  int64_t grid_height = 0;
  int64_t grid_width = 0;
};

// One attention layer of a UNet that a probe may select.
struct AttentionSite {
  AttentionBlockKind block = AttentionBlockKind::kOutput;
  int depth = 0;
  int64_t resolution = 0;  // grid side at the configured image_size
  int64_t channels = 0;
  int64_t heads = 0;  // real head count of the block
  // "output 2 (8x8, 1024 ch, 16 heads)"
  std::string describe() const;
};

// Every probe-able attention layer of the model, in forward order.
std::vector<AttentionSite> attention_sites(const UNetModel& model);

// Throws kConfig when the probe selects a block without attention, a depth out
// of range, or an official map the num_heads flag cannot split; the message
// lists the valid choices with their resolution and real head count.
void validate_attention_probe(const UNetModel& model, const AttentionProbe& probe);

}  // namespace sagbench::models
