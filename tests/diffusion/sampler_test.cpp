// DDPM / DDIM sampling loops with a closed-form test double of the network:
// single steps against the DDPM/DDIM equations computed here in float64,
// timesteps the model sees, batch independence of counter noise, guidance
// hook order, non-finite detection and bad-output errors.
#include "diffusion/sampler.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "diffusion/beta_schedule.h"
#include "diffusion/respacing.h"

namespace sagbench::diffusion {
namespace {

const std::vector<std::int64_t> kShape = {3, 4, 4};

// eps = 0.3 x + 1e-3 t (+ 0.05 y); learned variance values tanh(x); optional
// NaN in row `nan_row` once the timestep drops to `nan_from_t`.
class AffineDenoiser : public Denoiser {
 public:
  explicit AffineDenoiser(bool learned_variance = false) : learned_variance_(learned_variance) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& y,
                     models::AttentionProbe* /*probe*/) override {
    seen_timesteps.push_back(timesteps.to(at::kDouble)[0].item<double>());
    at::Tensor eps = 0.3 * x + 1e-3 * timesteps.to(at::kFloat).reshape({-1, 1, 1, 1});
    if (y.defined()) {
      eps = eps + 0.05 * y.to(at::kFloat).reshape({-1, 1, 1, 1});
    }
    if (nan_row >= 0 && timesteps[0].item<double>() <= nan_from_t) {
      eps = eps.clone();
      eps[nan_row].fill_(std::nan(""));
    }
    return learned_variance_ ? at::cat({eps, at::tanh(x)}, 1) : eps;
  }
  std::vector<double> seen_timesteps;
  std::int64_t nan_row = -1;
  double nan_from_t = 0;

 private:
  bool learned_variance_;
};

GaussianDiffusion make_process(const std::string& respacing, ModelVarianceType variance,
                               ModelMeanType mean = ModelMeanType::kEpsilon, bool rescale = false) {
  return GaussianDiffusion(linear_beta_schedule(1000), space_timesteps(1000, respacing),
                           {mean, variance, rescale});
}

// Runs the sampler and returns x after step 0 (and the final sample in `final_x`).
at::Tensor first_step(const Sampler& sampler, Denoiser& model, const NoiseSource& noise, std::int64_t count,
                      StepGuidance* guidance = nullptr, at::Tensor* final_x = nullptr) {
  at::Tensor after_first;
  SampleBatch batch{0, count, {}};
  const at::Tensor out = sampler.sample(model, noise, guidance, batch, kShape, at::kCPU,
                                        [&](std::int64_t step, const at::Tensor& x) {
                                          if (step == 0) {
                                            after_first = x.clone();
                                          }
                                        });
  if (final_x != nullptr) {
    *final_x = out;
  }
  return after_first;
}

TEST(Sampler, DdpmStepIsDdpmEquation11PlusPosteriorNoise) {
  const GaussianDiffusion d = make_process("10", ModelVarianceType::kFixedSmall);
  const Sampler sampler(d, {SamplerKind::kDdpm, 0.0, false});
  AffineDenoiser model;
  const CounterNoise noise(3);
  const at::Tensor x1 = first_step(sampler, model, noise, 2);

  const DiffusionTables& tb = d.tables();
  const double beta = tb.betas[9];
  const double abar = tb.alphas_cumprod[9];
  const at::Tensor x = noise.initial_noise(0, 2, kShape).to(at::kDouble);
  const at::Tensor z = noise.step_noise(0, 0, 2, kShape).to(at::kDouble);
  const at::Tensor eps = 0.3 * x + 1e-3 * 999;
  const double posterior_variance = 1.0 / ((1.0 - beta) / beta + 1.0 / (1.0 - tb.alphas_cumprod[8]));
  const at::Tensor expected =
      (x - beta / std::sqrt(1.0 - abar) * eps) / std::sqrt(1.0 - beta) + std::sqrt(posterior_variance) * z;
  EXPECT_LT((x1.to(at::kDouble) - expected).abs().max().item<double>(), 1e-4);
}

TEST(Sampler, DdimEta0StepIsDeterministicEquation12) {
  const GaussianDiffusion d = make_process("ddim10", ModelVarianceType::kLearnedRange);
  const Sampler sampler(d, {SamplerKind::kDdim, 0.0, false});
  AffineDenoiser model(true);
  const CounterNoise noise(4);
  const at::Tensor x1 = first_step(sampler, model, noise, 2);

  const double abar = d.tables().alphas_cumprod[9];
  const double abar_prev = d.tables().alphas_cumprod[8];
  const at::Tensor x = noise.initial_noise(0, 2, kShape).to(at::kDouble);
  const at::Tensor eps = 0.3 * x + 1e-3 * 900;
  const at::Tensor x0 = (x - std::sqrt(1.0 - abar) * eps) / std::sqrt(abar);
  const at::Tensor expected = std::sqrt(abar_prev) * x0 + std::sqrt(1.0 - abar_prev) * eps;
  EXPECT_LT((x1.to(at::kDouble) - expected).abs().max().item<double>(), 1e-4);
}

TEST(Sampler, DdimEta1HasThePosteriorVariance) {
  // With eta = 1, sigma^2 = (1 - abar_prev) / (1 - abar) (1 - abar / abar_prev) = beta~_t.
  const GaussianDiffusion d = make_process("ddim10", ModelVarianceType::kFixedLarge);
  const Sampler sampler(d, {SamplerKind::kDdim, 1.0, false});
  AffineDenoiser model;
  const CounterNoise noise(5);
  const at::Tensor x1 = first_step(sampler, model, noise, 1);

  const DiffusionTables& tb = d.tables();
  const double abar = tb.alphas_cumprod[9];
  const double abar_prev = tb.alphas_cumprod[8];
  const double sigma_sq = tb.posterior_variance[9];
  const at::Tensor x = noise.initial_noise(0, 1, kShape).to(at::kDouble);
  const at::Tensor z = noise.step_noise(0, 0, 1, kShape).to(at::kDouble);
  const at::Tensor eps = 0.3 * x + 1e-3 * 900;
  const at::Tensor x0 = (x - std::sqrt(1.0 - abar) * eps) / std::sqrt(abar);
  const at::Tensor expected =
      std::sqrt(abar_prev) * x0 + std::sqrt(1.0 - abar_prev - sigma_sq) * eps + std::sqrt(sigma_sq) * z;
  EXPECT_LT((x1.to(at::kDouble) - expected).abs().max().item<double>(), 1e-4);
}

TEST(Sampler, StartXModelsUseTheirClippedX0) {
  // A model that predicts x0 = 3 everywhere: the clipped x0 is 1.
  class ConstantX0 : public Denoiser {
   public:
    at::Tensor forward(const at::Tensor& x, const at::Tensor&, const at::Tensor&,
                       models::AttentionProbe*) override {
      return at::full_like(x, 3.0);
    }
  } model;
  const GaussianDiffusion d = make_process("ddim10", ModelVarianceType::kFixedLarge, ModelMeanType::kStartX);
  const Sampler sampler(d, {SamplerKind::kDdim, 0.0, true});
  const CounterNoise noise(6);
  at::Tensor final_x;
  const at::Tensor x1 = first_step(sampler, model, noise, 1, nullptr, &final_x);
  const double abar = d.tables().alphas_cumprod[9];
  const double abar_prev = d.tables().alphas_cumprod[8];
  const at::Tensor x = noise.initial_noise(0, 1, kShape).to(at::kDouble);
  const at::Tensor eps = (x - std::sqrt(abar) * 1.0) / std::sqrt(1.0 - abar);
  const at::Tensor expected = std::sqrt(abar_prev) * 1.0 + std::sqrt(1.0 - abar_prev) * eps;
  EXPECT_LT((x1.to(at::kDouble) - expected).abs().max().item<double>(), 1e-4);
  EXPECT_LT((final_x - 1.0).abs().max().item<double>(), 1e-5);
}

TEST(Sampler, ModelSeesOriginalOrRescaledTimestepsInSamplingOrder) {
  AffineDenoiser model;
  const GaussianDiffusion d = make_process("10", ModelVarianceType::kFixedLarge);
  Sampler(d, {}).sample(model, CounterNoise(0), nullptr, {0, 1, {}}, kShape, at::kCPU);
  EXPECT_EQ(model.seen_timesteps, (std::vector<double>{999, 888, 777, 666, 555, 444, 333, 222, 111, 0}));

  AffineDenoiser rescaled_model;
  const GaussianDiffusion iddpm(linear_beta_schedule(4000), space_timesteps(4000, "ddim4"),
                                {ModelMeanType::kEpsilon, ModelVarianceType::kFixedLarge, true});
  Sampler(iddpm, {SamplerKind::kDdim, 0.0, true})
      .sample(rescaled_model, CounterNoise(0), nullptr, {0, 1, {}}, kShape, at::kCPU);
  EXPECT_EQ(rescaled_model.seen_timesteps, (std::vector<double>{750, 500, 250, 0}));
}

TEST(Sampler, SamplesDoNotDependOnBatchSizeOrPosition) {
  const GaussianDiffusion d = make_process("10", ModelVarianceType::kLearnedRange);
  const Sampler sampler(d, {});
  AffineDenoiser model(true);
  const CounterNoise noise(11);
  const at::Tensor labels = at::tensor({4, 1, 7, 2}, at::kLong);
  const at::Tensor four = sampler.sample(model, noise, nullptr, {10, 4, labels}, kShape, at::kCPU);
  const at::Tensor one =
      sampler.sample(model, noise, nullptr, {12, 1, labels.narrow(0, 2, 1)}, kShape, at::kCPU);
  const at::Tensor two =
      sampler.sample(model, noise, nullptr, {11, 2, labels.narrow(0, 1, 2)}, kShape, at::kCPU);
  EXPECT_TRUE(at::equal(four[2], one[0]));
  EXPECT_TRUE(at::equal(four[2], two[1]));
  EXPECT_FALSE(at::equal(four[2], four[3]));
}

class RecordingGuidance : public StepGuidance {
 public:
  Prediction predict(const StepContext& ctx, StepModel& model) override {
    ++predict_calls;
    windows.push_back(ctx.t);
    return plain_prediction(ctx, model);
  }
  void guide_mean(const StepContext& ctx, const VarianceTerms& variance, at::Tensor& mean) override {
    ++mean_calls;
    EXPECT_TRUE(variance.variance.defined());
    if (ctx.t == 0) {
      mean = mean + mean_shift;
    }
  }
  void guide_xstart(const StepContext& /*ctx*/, at::Tensor& /*xstart*/) override { ++xstart_calls; }
  int predict_calls = 0;
  int mean_calls = 0;
  int xstart_calls = 0;
  double mean_shift = 0.0;
  std::vector<std::int64_t> windows;
};

TEST(Sampler, CallsGuidanceHooksOfItsKind) {
  AffineDenoiser model;
  const GaussianDiffusion d = make_process("10", ModelVarianceType::kFixedLarge);
  RecordingGuidance ddpm_guidance;
  ddpm_guidance.mean_shift = 0.5;
  const at::Tensor guided =
      Sampler(d, {}).sample(model, CounterNoise(1), &ddpm_guidance, {0, 2, {}}, kShape, at::kCPU);
  const at::Tensor plain =
      Sampler(d, {}).sample(model, CounterNoise(1), nullptr, {0, 2, {}}, kShape, at::kCPU);
  EXPECT_EQ(ddpm_guidance.predict_calls, 10);
  EXPECT_EQ(ddpm_guidance.mean_calls, 10);
  EXPECT_EQ(ddpm_guidance.xstart_calls, 0);
  EXPECT_EQ(ddpm_guidance.windows.front(), 9);
  EXPECT_EQ(ddpm_guidance.windows.back(), 0);
  EXPECT_TRUE(at::allclose(guided, plain + 0.5));

  RecordingGuidance ddim_guidance;
  Sampler(d, {SamplerKind::kDdim, 0.0, true})
      .sample(model, CounterNoise(1), &ddim_guidance, {0, 2, {}}, kShape, at::kCPU);
  EXPECT_EQ(ddim_guidance.mean_calls, 0);
  EXPECT_EQ(ddim_guidance.xstart_calls, 10);
}

TEST(Sampler, NonFiniteValuesStopTheRunNamingStepAndSample) {
  AffineDenoiser model;
  model.nan_row = 1;
  model.nan_from_t = 555;  // the fifth step (index 4) of "10"
  const GaussianDiffusion d = make_process("10", ModelVarianceType::kFixedLarge);
  try {
    Sampler(d, {}).sample(model, CounterNoise(1), nullptr, {10, 3, {}}, kShape, at::kCPU);
    FAIL() << "expected a numeric error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNumeric);
    EXPECT_NE(std::string(e.what()).find("step 4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sample index 11"), std::string::npos) << e.what();
  }
}

TEST(Sampler, RejectsBadOptionsAndOutputs) {
  const GaussianDiffusion d = make_process("10", ModelVarianceType::kLearnedRange);
  EXPECT_THROW(Sampler(d, {SamplerKind::kDdim, -0.5, true}), Error);
  EXPECT_THROW(Sampler(d, {SamplerKind::kDdpm, 0.5, true}), Error);
  AffineDenoiser fixed_output;  // 3 channels where learned sigma needs 6
  try {
    Sampler(d, {}).sample(fixed_output, CounterNoise(0), nullptr, {0, 1, {}}, kShape, at::kCPU);
    FAIL() << "expected a shape error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kShape);
    EXPECT_NE(std::string(e.what()).find("learn_sigma"), std::string::npos);
  }
  EXPECT_THROW(Sampler(d, {}).sample(fixed_output, CounterNoise(0), nullptr, {0, 0, {}}, kShape, at::kCPU),
               Error);
}

}  // namespace
}  // namespace sagbench::diffusion
