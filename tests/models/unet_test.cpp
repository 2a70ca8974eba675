// UNetModel against the upstream reference: the tiny unconditional ADM of
// ../shared/fixtures (adm_tiny_uncond.pt, flags in its .json) must reproduce
// the upstream forward output and the SAG repository's official attention map;
// the conditional tiny model must load strictly and run. Also input checks and
// the reduced-precision torsos.
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

// Reference and C++ both run float32 on the CPU; kernels differ in summation
// order (oneDNN/OpenBLAS vs ATen's), which moves a ~25-layer forward by about
// 1e-6 relative. 1e-4 of the output's magnitude leaves room for other CPUs
// while catching any wrong operation (those move outputs by O(1e-2) or more).
constexpr double kForwardTolerance = 1e-4;

std::shared_ptr<UNetModel> tiny_model(const std::string& name) {
  UNetConfig config = config_from_flags<UNetConfig>(fixture_json(name).at("flags"));
  config.checkpoint = sagbench::testing::fixture_path(name + ".pt");
  return build_unet(config);
}

struct ForwardFixture {
  at::Tensor x, t, out, attn_official;
};

ForwardFixture uncond_forward() {
  const io::TensorDict d = io::read_npz(sagbench::testing::fixture_path("adm_tiny_uncond_forward.npz"));
  return {d.at("x"), d.at("t"), d.at("out"), d.at("attn_official")};
}

TEST(UNetModel, TinyUncondForwardMatchesUpstream) {
  auto model = tiny_model("adm_tiny_uncond");
  const ForwardFixture f = uncond_forward();
  torch::NoGradGuard no_grad;
  const at::Tensor out = model->forward(f.x, f.t);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 6, 32, 32}));
  expect_close(out, f.out, kForwardTolerance, "eps and variance output");
}

TEST(UNetModel, TinyCondModelLoadsStrictlyAndRuns) {
  auto model = tiny_model("adm_tiny_cond");
  EXPECT_EQ(model->num_classes(), 1000);
  torch::NoGradGuard no_grad;
  const at::Tensor x = at::randn({2, 3, 32, 32});
  const at::Tensor t = at::tensor({999, 10}, at::kLong);
  const at::Tensor a = model->forward(x, t, at::tensor({3, 977}, at::kLong));
  const at::Tensor b = model->forward(x, t, at::tensor({4, 977}, at::kLong));
  EXPECT_TRUE(torch::isfinite(a).all().item<bool>());
  // The label changes sample 0 only.
  EXPECT_FALSE(torch::equal(a[0], b[0]));
  EXPECT_TRUE(torch::equal(a[1], b[1]));
}

TEST(UNetModel, CheckpointThatDoesNotFitIsRefusedWithTheMismatches) {
  UNetConfig config = config_from_flags<UNetConfig>(fixture_json("adm_tiny_uncond").at("flags"));
  config.checkpoint = sagbench::testing::fixture_path("adm_tiny_cond.pt");  // extra label_emb, other heads ok
  try {
    build_unet(config);
    FAIL() << "mismatched checkpoint accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kShape);
    EXPECT_NE(std::string(e.what()).find("label_emb.weight"), std::string::npos) << e.what();
  }
}

TEST(UNetModel, RejectsBadInputs) {
  auto model = tiny_model("adm_tiny_uncond");
  auto cond = tiny_model("adm_tiny_cond");
  torch::NoGradGuard no_grad;
  const at::Tensor x = at::zeros({2, 3, 32, 32});
  const at::Tensor t = at::zeros({2}, at::kLong);
  auto kind_of = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::kRuntime;  // no error: fails the expectations below
  };
  EXPECT_EQ(kind_of([&] { model->forward(at::zeros({2, 1, 32, 32}), t); }), ErrorKind::kShape);
  EXPECT_EQ(kind_of([&] { model->forward(at::zeros({2, 3, 30, 30}), t); }), ErrorKind::kShape);
  EXPECT_EQ(kind_of([&] { model->forward(x, at::zeros({3}, at::kLong)); }), ErrorKind::kShape);
  EXPECT_EQ(kind_of([&] { model->forward(x, t, at::zeros({2}, at::kLong)); }), ErrorKind::kConfig);
  EXPECT_EQ(kind_of([&] { cond->forward(x, t); }), ErrorKind::kConfig);
  EXPECT_EQ(kind_of([&] { cond->forward(x, t, at::tensor({0, 1000}, at::kLong)); }), ErrorKind::kConfig);
  EXPECT_EQ(kind_of([&] { cond->forward(x, t, at::tensor({-1, 0}, at::kLong)); }), ErrorKind::kConfig);
}

TEST(UNetModel, OptionsWithoutFixtureBuildAndRun) {
  // IDDPM-style resampling (avg pool / nearest without conv), additive
  // timestep conditioning, new attention order, separate upsampling heads.
  UNetConfig config = config_from_flags<UNetConfig>(fixture_json("adm_tiny_uncond").at("flags"));
  config.num_head_channels = -1;
  config.num_heads = 4;
  config.num_heads_upsample = 2;
  config.resblock_updown = false;
  config.conv_resample = false;
  config.use_scale_shift_norm = false;
  config.use_new_attention_order = true;
  config.learn_sigma = false;
  UNetModel model(config);
  for (const auto& item : model.named_parameters()) {
    EXPECT_EQ(item.key().find(".op."), std::string::npos) << item.key();
    EXPECT_EQ(item.key().find(".conv."), std::string::npos) << item.key();
  }
  for (const auto& site : model.sites()) {
    EXPECT_EQ(site.heads, site.block == AttentionBlockKind::kOutput ? 2 : 4) << site.describe();
  }
  torch::NoGradGuard no_grad;
  AttentionProbe probe;
  probe.depth = 2;
  probe.map_kind = AttentionMapKind::kExact;
  const at::Tensor out = model.forward(at::randn({2, 3, 32, 32}), at::tensor({3.5, 700.0}), {}, &probe);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 3, 32, 32}));
  EXPECT_EQ(probe.map.sizes(), (std::vector<int64_t>{4, 256, 256}));
}

TEST(UNetModel, TimestepEmbeddingIsTheSinusoidOfUpstream) {
  const at::Tensor t = at::tensor({0.0, 3.5, 999.0}, at::kDouble);
  const int64_t dim = 7;  // odd: one zero column at the end
  const at::Tensor emb = timestep_embedding(t, dim);
  ASSERT_EQ(emb.sizes(), (std::vector<int64_t>{3, 7}));
  for (int64_t b = 0; b < 3; ++b) {
    for (int64_t i = 0; i < 3; ++i) {
      const double arg = t[b].item<double>() * std::exp(-std::log(10000.0) * static_cast<double>(i) / 3.0);
      EXPECT_NEAR(emb[b][i].item<double>(), std::cos(arg), 2e-4 * std::max(1.0, std::abs(arg)));
      EXPECT_NEAR(emb[b][3 + i].item<double>(), std::sin(arg), 2e-4 * std::max(1.0, std::abs(arg)));
    }
    EXPECT_EQ(emb[b][6].item<double>(), 0.0);
  }
}

TEST(UNetModel, Bfloat16TorsoStaysCloseToFloat32) {
  auto model = tiny_model("adm_tiny_uncond");
  const ForwardFixture f = uncond_forward();
  torch::NoGradGuard no_grad;
  model->set_torso_dtype(at::kBFloat16);
  EXPECT_EQ(model->torso_dtype(), at::kBFloat16);
  const at::Tensor out = model->forward(f.x, f.t);
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  // bfloat16 keeps 8 significant bits (relative rounding 2^-9 ~ 2e-3 per op);
  // through ~25 layers the output drifts by about 1e-2 of its magnitude.
  expect_close(out, f.out, 5e-2, "bf16 torso output");
}

TEST(UNetModel, Float16TorsoIsRefusedOnTheCpu) {
  UNetConfig config = config_from_flags<UNetConfig>(fixture_json("adm_tiny_uncond").at("flags"));
  config.use_fp16 = true;
  UNetModel model(config);
  EXPECT_EQ(model.torso_dtype(), at::kHalf);
  try {
    model.forward(at::zeros({1, 3, 32, 32}), at::zeros({1}, at::kLong));
    FAIL() << "fp16 on CPU accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("use_fp16"), std::string::npos);
  }
}

TEST(UNetModel, Float16TorsoOnCudaStaysCloseToFloat32) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no CUDA device";
  }
  auto model = tiny_model("adm_tiny_uncond");
  model->to(at::kCUDA);
  model->set_torso_dtype(at::kHalf);
  const ForwardFixture f = uncond_forward();
  torch::NoGradGuard no_grad;
  const at::Tensor out = model->forward(f.x.cuda(), f.t.cuda()).cpu();
  // float16 keeps 11 significant bits; GroupNorm and softmax run in float32.
  expect_close(out, f.out, 1e-2, "fp16 torso output");
}

}  // namespace
}  // namespace sagbench::models
