// Properties of SAG and blur guidance where no fixture exists, on the tiny
// unconditional fixture network: s = 0 is the unguided sampler bit for bit;
// outside the guide_start / guide_stop window a step is the unguided step bit
// for bit; blur guidance equals SAG with psi = -inf bit for bit; one guided
// step is eps~ + g (eps - eps~) assembled here from separate model calls; and
// an active step costs exactly two forward passes.
#include "guidance/sag.h"

#include <gtest/gtest.h>

#include <limits>

#include "config/config.h"
#include "diffusion/noise.h"
#include "diffusion/sampler.h"
#include "guidance/sag_degrade.h"
#include "guidance_test_support.h"

namespace sagbench::guidance {
namespace {

class SagProperties : public ::testing::Test {
 protected:
  void SetUp() override {
    network_ = testing::tiny_unet("adm_tiny_uncond");
    settings_.guide_scale = 1.5;
    settings_.blur_sigma = 2.0;
    settings_.layer.depth = 1;  // output 1: 8x8, 8 real heads
  }

  // The whole trajectory (x after every step) of a 2-sample DDPM or DDIM run.
  std::vector<at::Tensor> run(GuidanceChain* chain,
                              diffusion::SamplerKind kind = diffusion::SamplerKind::kDdpm) {
    testing::RecordingDenoiser model(network_);
    const diffusion::CounterNoise noise(17);
    diffusion::SampleBatch batch;
    batch.count = 2;
    const diffusion::Sampler sampler(process_, {kind});
    std::vector<at::Tensor> trajectory;
    sampler.sample(model, noise, chain, batch, {3, 32, 32}, at::kCPU,
                   [&](std::int64_t, const at::Tensor& x) { trajectory.push_back(x.clone()); });
    passes_ = model.inputs.size();
    return trajectory;
  }

  static GuidanceChain chain_of(const SagSettings& settings) {
    std::vector<std::unique_ptr<GuidanceTerm>> terms;
    terms.push_back(std::make_unique<SelfAttentionGuidance>(settings));
    return GuidanceChain(std::move(terms));
  }

  diffusion::GaussianDiffusion process_ = testing::tiny_process("adm_tiny_uncond", "10");
  std::shared_ptr<models::UNetModel> network_;
  SagSettings settings_;
  std::size_t passes_ = 0;
};

TEST_F(SagProperties, ZeroScaleIsTheUnguidedSamplerBitForBit) {
  const std::vector<at::Tensor> plain = run(nullptr);
  for (const char* yaml : {"{s: 0, layer: {depth: 1}}", "{guide_scale: 1.0, mode: blur}"}) {
    const config::Document doc = config::parse_document(std::string("guidance:\n  sag: ") + yaml + "\n");
    GuidanceEnvironment env;
    env.document = &doc;
    env.model = network_.get();
    GuidanceChain chain = build_guidance_chain(env);
    EXPECT_TRUE(chain.empty()) << yaml;
    const std::vector<at::Tensor> guided = run(&chain);
    EXPECT_TRUE(at::equal(guided.back(), plain.back())) << yaml;
    EXPECT_EQ(passes_, 10u);
  }
}

TEST_F(SagProperties, StepsOutsideTheWindowAreUnguidedBitForBit) {
  const std::vector<at::Tensor> plain = run(nullptr);
  settings_.guide_start = 7;  // active at t = 6, 5, 4 (steps 3, 4, 5)
  settings_.guide_stop = 4;
  GuidanceChain chain = chain_of(settings_);
  const std::vector<at::Tensor> guided = run(&chain);
  EXPECT_EQ(passes_, 13u);  // 10 plain passes + 3 degraded ones
  for (std::size_t step = 0; step < 3; ++step) {
    EXPECT_TRUE(at::equal(guided[step], plain[step])) << step;
  }
  EXPECT_FALSE(at::allclose(guided[3], plain[3], 1e-5, 1e-5));
  EXPECT_FALSE(at::allclose(guided.back(), plain.back(), 1e-5, 1e-5));
}

TEST_F(SagProperties, BlurEqualsSagWithMinusInfinityThreshold) {
  SagSettings blur = settings_;
  blur.mode = "blur";
  SagSettings everywhere = settings_;
  everywhere.threshold = -std::numeric_limits<double>::infinity();
  GuidanceChain blur_chain = chain_of(blur);
  GuidanceChain sag_chain = chain_of(everywhere);
  const at::Tensor a = run(&blur_chain, diffusion::SamplerKind::kDdim).back();
  EXPECT_TRUE(at::equal(a, run(&sag_chain, diffusion::SamplerKind::kDdim).back()));
  // The default threshold masks only part of the image: a different sample.
  GuidanceChain default_chain = chain_of(settings_);
  EXPECT_FALSE(at::allclose(run(&default_chain, diffusion::SamplerKind::kDdim).back(), a, 1e-4, 1e-4));
}

TEST_F(SagProperties, OneStepIsTheOfficialCombinationOfTwoPasses) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(4);
  const std::int64_t t = 7;
  diffusion::StepContext ctx;
  ctx.diffusion = &process_;
  ctx.t = t;
  ctx.x_t = torch::randn({2, 3, 32, 32});
  ctx.model_timesteps = process_.model_timesteps(t, 2, at::kCPU);
  testing::RecordingDenoiser model(network_);
  diffusion::StepModel step_model(process_, model, t, ctx.model_timesteps);
  GuidanceChain chain = chain_of(settings_);
  const diffusion::Prediction prediction = chain.predict(ctx, step_model);
  EXPECT_EQ(step_model.passes(), 2);
  EXPECT_TRUE(prediction.eps_guided);

  // The same from separate calls: pass 1 with the probe, mask, degraded input, pass 2.
  models::AttentionProbe probe = settings_.probe();
  const at::Tensor eps = network_->forward(ctx.x_t, ctx.model_timesteps, {}, &probe).narrow(1, 0, 3);
  const at::Tensor x0 = process_.predict_xstart_from_eps(ctx.x_t, t, eps).clamp(-1, 1);
  const at::Tensor mask =
      attention_mask(probe.map, probe.heads, probe.grid_height, probe.grid_width, 1.0, 32, 32);
  EXPECT_GT(mask.sum().item<float>(), 0.0f);
  EXPECT_LT(mask.sum().item<float>(), mask.numel());
  const at::Tensor degraded = degraded_input(process_, t, x0, eps, mask, 31, 2.0);
  EXPECT_TRUE(at::equal(model.inputs.at(1), degraded));
  const at::Tensor eps_degraded = network_->forward(degraded, ctx.model_timesteps).narrow(1, 0, 3);
  const at::Tensor expected = eps_degraded + 1.5 * (eps - eps_degraded);
  EXPECT_LE(testing::relative_l2(prediction.eps, expected), 1e-6);
  EXPECT_TRUE(at::equal(prediction.main.var_values, prediction.reference.var_values));
}

}  // namespace
}  // namespace sagbench::guidance
