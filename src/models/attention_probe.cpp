// Attention probe helpers (see attention_probe.h): names, parsing, the list of
// probe-able sites of a UNet and the validation whose error lists them.
#include "models/attention_probe.h"

#include <fmt/format.h>

#include "core/error.h"
#include "models/unet.h"

namespace sagbench::models {
namespace {

std::string list_sites(const std::vector<AttentionSite>& sites) {
  std::string text;
  for (const auto& site : sites) {
    text += (text.empty() ? "" : ", ") + site.describe();
  }
  return text;
}

}  // namespace

const char* attention_block_name(AttentionBlockKind kind) {
  switch (kind) {
    case AttentionBlockKind::kInput:
      return "input";
    case AttentionBlockKind::kMiddle:
      return "middle";
    case AttentionBlockKind::kOutput:
      return "output";
  }
  return "?";
}

const char* attention_map_name(AttentionMapKind kind) {
  return kind == AttentionMapKind::kOfficial ? "official" : "exact";
}

AttentionBlockKind parse_attention_block(const std::string& text, const std::string& key) {
  for (auto kind : {AttentionBlockKind::kInput, AttentionBlockKind::kMiddle, AttentionBlockKind::kOutput}) {
    if (text == attention_block_name(kind)) {
      return kind;
    }
  }
  SAG_FAIL(kConfig, "{}: '{}' is not one of input, middle, output", key, text);
}

AttentionMapKind parse_attention_map(const std::string& text, const std::string& key) {
  for (auto kind : {AttentionMapKind::kOfficial, AttentionMapKind::kExact}) {
    if (text == attention_map_name(kind)) {
      return kind;
    }
  }
  SAG_FAIL(kConfig, "{}: '{}' is not one of official, exact", key, text);
}

std::string AttentionSite::describe() const {
  const std::string where = block == AttentionBlockKind::kMiddle
                                ? std::string("middle")
                                : fmt::format("{} {}", attention_block_name(block), depth);
  return fmt::format("{} ({}x{}, {} ch, {} heads)", where, resolution, resolution, channels, heads);
}

std::vector<AttentionSite> attention_sites(const UNetModel& model) {
  return model.sites();
}

void validate_attention_probe(const UNetModel& model, const AttentionProbe& probe) {
  const std::vector<AttentionSite>& sites = model.sites();
  const AttentionSite* selected = nullptr;
  for (const auto& site : sites) {
    if (site.block == probe.block &&
        (site.block == AttentionBlockKind::kMiddle || site.depth == probe.depth)) {
      selected = &site;
    }
  }
  if (selected == nullptr) {
    const int64_t count =
        probe.block == AttentionBlockKind::kInput ? model.num_input_blocks() : model.num_output_blocks();
    const bool in_range = probe.depth >= 0 && probe.depth < count;
    SAG_FAIL(kConfig, "attention probe {} {}: {}; valid choices: {}", attention_block_name(probe.block),
             probe.depth,
             in_range ? "that block has no attention layer"
                      : fmt::format("depth out of range (the model has {} {} blocks)", count,
                                    attention_block_name(probe.block)),
             list_sites(sites));
  }
  if (probe.map_kind == AttentionMapKind::kOfficial) {
    const int64_t flag = model.config().num_heads;
    SAG_REQUIRE(
        selected->channels % flag == 0, kConfig,
        "attention probe {}: the official map splits {} channels into num_heads {} heads, which does not "
        "divide; use attention_map exact",
        selected->describe(), selected->channels, flag);
  }
}

}  // namespace sagbench::models
