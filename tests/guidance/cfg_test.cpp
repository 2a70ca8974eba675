// Classifier-free guidance on the tiny conditional fixture network, its label
// 999 standing in for a null label (the formulas do not care what the label
// was trained as): w = 1 is conditional sampling, w = 0 is sampling with the
// null label; one step against eps_u + w (eps_c - eps_u) from separate passes;
// CFG + SAG against diffusers' eps_u + w (eps_c - eps_u) + s (eps_u - eps~)
// with the unconditional map and x0; config errors for models without a null
// label. The term's passes are the same computations as the separate calls
// here; only the float32 rounding of the combination (eps_u + w (eps_c - eps_u)
// is not eps_c bit for bit at w = 1) separates them, hence 1e-5 relative.
#include "guidance/cfg.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/error.h"
#include "diffusion/noise.h"
#include "diffusion/sampler.h"
#include "guidance/sag.h"
#include "guidance/sag_degrade.h"
#include "guidance_test_support.h"

namespace sagbench::guidance {
namespace {

constexpr std::int64_t kNullLabel = 999;
constexpr double kRoundingTolerance = 1e-5;

class CfgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    network_ = testing::tiny_unet("adm_tiny_cond");
    labels_ = torch::tensor({3, 977}, at::kLong);
  }

  at::Tensor sample(GuidanceChain* chain, const at::Tensor& labels,
                    diffusion::SamplerKind kind = diffusion::SamplerKind::kDdpm) {
    testing::RecordingDenoiser model(network_);
    const diffusion::CounterNoise noise(23);
    diffusion::SampleBatch batch;
    batch.count = 2;
    batch.labels = labels;
    const diffusion::Sampler sampler(process_, {kind});
    const at::Tensor out = sampler.sample(model, noise, chain, batch, {3, 32, 32}, at::kCPU);
    passes_ = model.inputs.size();
    return out;
  }

  static GuidanceChain cfg_chain(double w, const SagSettings* sag = nullptr) {
    CfgSettings settings;
    settings.scale = w;
    settings.null_label = kNullLabel;
    std::vector<std::unique_ptr<GuidanceTerm>> terms;
    terms.push_back(std::make_unique<ClassifierFreeGuidance>(settings));
    if (sag != nullptr) {
      terms.push_back(std::make_unique<SelfAttentionGuidance>(*sag));
    }
    return GuidanceChain(std::move(terms));
  }

  // A step context at respaced index t with random x_t and the test labels.
  diffusion::StepContext context(std::int64_t t) {
    torch::manual_seed(8);
    diffusion::StepContext ctx;
    ctx.diffusion = &process_;
    ctx.t = t;
    ctx.x_t = torch::randn({2, 3, 32, 32});
    ctx.model_timesteps = process_.model_timesteps(t, 2, at::kCPU);
    ctx.y = ctx.labels = labels_;
    return ctx;
  }

  // eps and variance values of one separate pass.
  std::pair<at::Tensor, at::Tensor> pass(const diffusion::StepContext& ctx, const at::Tensor& x,
                                         const at::Tensor& y, models::AttentionProbe* probe = nullptr) {
    const at::Tensor out = network_->forward(x, ctx.model_timesteps, y, probe);
    return {out.narrow(1, 0, 3), out.narrow(1, 3, 3)};
  }

  diffusion::GaussianDiffusion process_ = testing::tiny_process("adm_tiny_cond", "10");
  std::shared_ptr<models::UNetModel> network_;
  at::Tensor labels_;
  std::size_t passes_ = 0;
};

TEST_F(CfgTest, WeightOneIsConditionalSamplingAndZeroIsNullLabelSampling) {
  torch::NoGradGuard no_grad;
  GuidanceChain one = cfg_chain(1.0);
  const at::Tensor conditional = sample(&one, labels_);
  EXPECT_EQ(passes_, 20u);  // conditional and unconditional pass per step
  EXPECT_LE(testing::relative_l2(conditional, sample(nullptr, labels_)), kRoundingTolerance);
  // w = 0 is null-label sampling under DDIM; DDPM would differ by design, its
  // learned variance coming from the conditional pass.
  GuidanceChain zero = cfg_chain(0.0);
  const auto ddim = diffusion::SamplerKind::kDdim;
  const at::Tensor guided = sample(&zero, labels_, ddim);
  EXPECT_LE(testing::relative_l2(guided, sample(nullptr, at::full({2}, kNullLabel, at::kLong), ddim)),
            kRoundingTolerance);
  EXPECT_GT(testing::relative_l2(guided, sample(nullptr, labels_, ddim)), 100 * kRoundingTolerance);
}

TEST_F(CfgTest, OneStepIsTheGuidedCombinationWithTheConditionalVariance) {
  torch::NoGradGuard no_grad;
  const diffusion::StepContext ctx = context(5);
  testing::RecordingDenoiser model(network_);
  diffusion::StepModel step_model(process_, model, ctx.t, ctx.model_timesteps);
  GuidanceChain chain = cfg_chain(3.0);
  const diffusion::Prediction prediction = chain.predict(ctx, step_model);
  const auto [eps_c, var_c] = pass(ctx, ctx.x_t, labels_);
  const auto [eps_u, var_u] = pass(ctx, ctx.x_t, at::full({2}, kNullLabel, at::kLong));
  EXPECT_LE(testing::relative_l2(prediction.eps, eps_u + 3.0 * (eps_c - eps_u)), kRoundingTolerance);
  EXPECT_TRUE(at::equal(prediction.main.var_values, var_c));
  EXPECT_TRUE(at::equal(prediction.reference.eps, eps_u));
  EXPECT_TRUE(at::equal(prediction.reference_y, at::full({2}, kNullLabel, at::kLong)));
  EXPECT_TRUE(prediction.eps_guided);
}

TEST_F(CfgTest, WithSagItIsTheDiffusersFormulation) {
  torch::NoGradGuard no_grad;
  const diffusion::StepContext ctx = context(6);
  SagSettings sag;
  sag.s = 0.75;
  sag.blur_sigma = 1.5;
  sag.blur_kernel_size = 9;
  sag.layer.depth = 0;  // output 0: 8x8, 4 heads
  testing::RecordingDenoiser model(network_);
  diffusion::StepModel step_model(process_, model, ctx.t, ctx.model_timesteps);
  GuidanceChain chain = cfg_chain(2.0, &sag);
  const diffusion::Prediction prediction = chain.predict(ctx, step_model);
  EXPECT_EQ(step_model.passes(), 3);  // unconditional (probed), conditional, degraded

  const at::Tensor y_null = at::full({2}, kNullLabel, at::kLong);
  models::AttentionProbe probe = sag.probe();
  const auto [eps_u, var_u] = pass(ctx, ctx.x_t, y_null, &probe);
  const auto [eps_c, var_c] = pass(ctx, ctx.x_t, labels_);
  const at::Tensor x0_u = process_.predict_xstart_from_eps(ctx.x_t, ctx.t, eps_u).clamp(-1, 1);
  const at::Tensor mask =
      attention_mask(probe.map, probe.heads, probe.grid_height, probe.grid_width, 1.0, 32, 32);
  const at::Tensor degraded = degraded_input(process_, ctx.t, x0_u, eps_u, mask, 9, 1.5);
  EXPECT_TRUE(at::equal(model.inputs.at(2), degraded));
  const auto [eps_degraded, var_degraded] = pass(ctx, degraded, y_null);
  const at::Tensor expected = eps_u + 2.0 * (eps_c - eps_u) + 0.75 * (eps_u - eps_degraded);
  EXPECT_LE(testing::relative_l2(prediction.eps, expected), kRoundingTolerance);
  // Not the official single-condition form on the conditional pass.
  EXPECT_GT(testing::relative_l2(prediction.eps, eps_u + 2.0 * (eps_c - eps_u)), 100 * kRoundingTolerance);
}

// The factory's result for `guidance.cfg` = `yaml` on `model`.
std::unique_ptr<GuidanceTerm> make_cfg(const std::string& yaml, const models::UNetModel* model) {
  const config::Document doc = config::parse_document("guidance:\n  cfg: " + yaml + "\n", "test.yaml");
  GuidanceEnvironment env;
  env.document = &doc;
  env.section = "guidance.cfg";
  env.model = model;
  return make_classifier_free_guidance(env);
}

void expect_config_error(const std::string& yaml, const models::UNetModel* model,
                         const std::vector<std::string>& needles) {
  try {
    make_cfg(yaml, model);
    ADD_FAILURE() << "accepted " << yaml;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig) << e.what();
    for (const auto& needle : needles) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << "'" << needle << "' not in: " << e.what();
    }
  }
}

TEST_F(CfgTest, ModelsWithoutANullLabelAreRefused) {
  const auto unconditional = testing::tiny_unet("adm_tiny_uncond");
  expect_config_error("{scale: 3, null_label: 0}", unconditional.get(), {"guidance.cfg", "unconditional"});
  expect_config_error("{scale: 3}", network_.get(), {"guidance.cfg.null_label", "not set"});
  expect_config_error("{scale: 3, null_label: 1000}", network_.get(),
                      {"null_label = 1000", "last label 999"});
  expect_config_error("{scale: 3, null_label: 0}", network_.get(), {"null_label = 0", "last label 999"});
  expect_config_error("{scale: -1, null_label: 999}", network_.get(), {"scale", ">= 0"});
  expect_config_error("{null_label: -2}", network_.get(), {"null_label", ">= 0"});
  const auto term = make_cfg("{scale: 4, null_label: 999}", network_.get());
  ASSERT_NE(term, nullptr);
  EXPECT_EQ(term->describe(), "cfg w=4 null_label=999");
  EXPECT_EQ(term->label_classes(), 999);  // sample labels come from the real classes only
}

TEST_F(CfgTest, ASampleLabelEqualToTheNullLabelIsRefused) {
  GuidanceChain chain = cfg_chain(3.0);
  try {
    sample(&chain, torch::tensor({std::int64_t{3}, kNullLabel}));
    ADD_FAILURE() << "sampled the null label as a class";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("null_label 999"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sagbench::guidance
