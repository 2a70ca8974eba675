// The attention probe of UNetModel::forward: the official map equals the SAG
// repository's `attn_official` fixture (the head-count quirk: 8 real heads read
// with the num_heads flag 4), the exact map is a per-head softmax whose rows sum
// to 1, probing never changes the output, and invalid selections are kConfig
// errors listing the valid sites.
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/npz.h"
#include "model_test_support.h"
#include "models/model_loading.h"

namespace sagbench::models {
namespace {

using testing::config_from_flags;
using testing::expect_close;
using testing::fixture_json;

std::shared_ptr<UNetModel> tiny_model(const std::string& name) {
  UNetConfig config = config_from_flags<UNetConfig>(fixture_json(name).at("flags"));
  config.checkpoint = sagbench::testing::fixture_path(name + ".pt");
  return build_unet(config);
}

AttentionProbe fixture_probe(const std::string& name, AttentionMapKind kind) {
  const auto flags = fixture_json(name).at("flags");
  AttentionProbe probe;
  probe.block = parse_attention_block(flags.at("sel_attn_block").get<std::string>());
  probe.depth = flags.at("sel_attn_depth").get<int>();
  probe.map_kind = kind;
  return probe;
}

class TinyUncondProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = tiny_model("adm_tiny_uncond");
    const io::TensorDict d = io::read_npz(sagbench::testing::fixture_path("adm_tiny_uncond_forward.npz"));
    x_ = d.at("x");
    t_ = d.at("t");
    attn_official_ = d.at("attn_official");
  }
  std::shared_ptr<UNetModel> model_;
  at::Tensor x_, t_, attn_official_;
  torch::NoGradGuard no_grad_;
};

TEST_F(TinyUncondProbe, OfficialMapMatchesTheSagRepository) {
  AttentionProbe probe = fixture_probe("adm_tiny_uncond", AttentionMapKind::kOfficial);
  model_->forward(x_, t_, {}, &probe);
  EXPECT_EQ(probe.heads, 4);  // the num_heads flag, not the block's 8 heads
  EXPECT_EQ(probe.grid_height, 8);
  EXPECT_EQ(probe.grid_width, 8);
  EXPECT_EQ(probe.map.scalar_type(), at::kFloat);
  // Softmax weights are <= 1; float32 reference vs float32 here, differing only
  // in summation order upstream of the block: 1e-4 absolute is ~100x that noise.
  expect_close(probe.map, attn_official_, 1e-4, "official attention map");
}

TEST_F(TinyUncondProbe, ExactMapIsThePerHeadSoftmax) {
  AttentionProbe probe = fixture_probe("adm_tiny_uncond", AttentionMapKind::kExact);
  model_->forward(x_, t_, {}, &probe);
  const int64_t real_heads =
      fixture_json("adm_tiny_uncond").at("block_heads_at_selected_layer").get<int64_t>();
  EXPECT_EQ(probe.heads, real_heads);
  ASSERT_EQ(probe.map.sizes(), (std::vector<int64_t>{2 * real_heads, 64, 64}));
  EXPECT_GE(probe.map.min().item<float>(), 0.0f);
  expect_close(probe.map.sum(-1), at::ones({2 * real_heads, 64}), 1e-5, "row sums");
  // With 8 real heads read as 4, the official map mixes q/k/v channels: it differs.
  EXPECT_NE(probe.map.size(0), attn_official_.size(0));
}

TEST_F(TinyUncondProbe, ProbingDoesNotChangeTheOutput) {
  const at::Tensor plain = model_->forward(x_, t_);
  for (auto kind : {AttentionMapKind::kOfficial, AttentionMapKind::kExact}) {
    for (const auto& site : attention_sites(*model_)) {
      AttentionProbe probe;
      probe.block = site.block;
      probe.depth = site.depth;
      probe.map_kind = kind;
      EXPECT_TRUE(torch::equal(model_->forward(x_, t_, {}, &probe), plain)) << site.describe();
      EXPECT_EQ(probe.grid_height, site.resolution) << site.describe();
      EXPECT_EQ(probe.map.size(1), site.resolution * site.resolution) << site.describe();
    }
  }
}

TEST_F(TinyUncondProbe, SitesListEveryAttentionLayer) {
  // 32 px, channel_mult 1,2,2, attention at 16 and 8 px, num_head_channels 8.
  std::vector<std::string> described;
  for (const auto& site : attention_sites(*model_)) {
    described.push_back(site.describe());
  }
  const std::vector<std::string> expected = {
      "input 3 (16x16, 64 ch, 8 heads)", "input 5 (8x8, 64 ch, 8 heads)",  "middle (8x8, 64 ch, 8 heads)",
      "output 0 (8x8, 64 ch, 8 heads)",  "output 1 (8x8, 64 ch, 8 heads)", "output 2 (16x16, 64 ch, 8 heads)",
      "output 3 (16x16, 64 ch, 8 heads)"};
  EXPECT_EQ(described, expected);
}

TEST_F(TinyUncondProbe, InvalidSelectionsListTheValidSites) {
  auto message_for = [&](AttentionBlockKind block, int depth) {
    AttentionProbe probe;
    probe.block = block;
    probe.depth = depth;
    try {
      model_->forward(x_, t_, {}, &probe);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string no_attention = message_for(AttentionBlockKind::kOutput, 4);  // 32 px: no attention
  EXPECT_NE(no_attention.find("no attention layer"), std::string::npos) << no_attention;
  EXPECT_NE(no_attention.find("output 1 (8x8, 64 ch, 8 heads)"), std::string::npos) << no_attention;
  const std::string out_of_range = message_for(AttentionBlockKind::kOutput, 9);
  EXPECT_NE(out_of_range.find("depth out of range"), std::string::npos) << out_of_range;
  EXPECT_NE(out_of_range.find("middle (8x8"), std::string::npos) << out_of_range;
  EXPECT_NE(message_for(AttentionBlockKind::kInput, 1).find("input 3 (16x16"), std::string::npos);
  EXPECT_NE(message_for(AttentionBlockKind::kInput, -1).find("depth out of range"), std::string::npos);
}

TEST(AttentionProbe, OfficialEqualsExactWhenTheFlagIsTheRealHeadCount) {
  // adm_tiny_cond: num_heads 4, num_head_channels -1, legacy order: the
  // official reconstruction is then the block's own attention.
  auto model = tiny_model("adm_tiny_cond");
  torch::NoGradGuard no_grad;
  const at::Tensor x = at::randn({2, 3, 32, 32});
  const at::Tensor t = at::tensor({500, 20}, at::kLong);
  const at::Tensor y = at::tensor({7, 42}, at::kLong);
  AttentionProbe official = fixture_probe("adm_tiny_cond", AttentionMapKind::kOfficial);
  AttentionProbe exact = fixture_probe("adm_tiny_cond", AttentionMapKind::kExact);
  model->forward(x, t, y, &official);
  model->forward(x, t, y, &exact);
  EXPECT_EQ(exact.heads, fixture_json("adm_tiny_cond").at("block_heads_at_selected_layer").get<int64_t>());
  EXPECT_EQ(official.heads, exact.heads);
  EXPECT_TRUE(torch::allclose(official.map, exact.map, 1e-6, 1e-7));
}

TEST(AttentionProbe, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(parse_attention_block("middle"), AttentionBlockKind::kMiddle);
  EXPECT_EQ(parse_attention_map("exact"), AttentionMapKind::kExact);
  try {
    parse_attention_map("oficial", "guidance.attention_map");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("guidance.attention_map"), std::string::npos);
  }
}

}  // namespace
}  // namespace sagbench::models
