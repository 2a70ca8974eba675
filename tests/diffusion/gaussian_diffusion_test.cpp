// The respaced process: tables against numpy values of upstream's formulas and
// against independent closed forms (DDPM eq. 7 and 11), tensor formulas as
// inverses of each other, variance types, timestep mapping and rescaling.
#include "diffusion/gaussian_diffusion.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "diffusion/beta_schedule.h"
#include "diffusion/respacing.h"

namespace sagbench::diffusion {
namespace {

GaussianDiffusion make_process(const std::string& respacing, ProcessOptions options = {}) {
  return GaussianDiffusion(linear_beta_schedule(1000), space_timesteps(1000, respacing), options);
}

TEST(GaussianDiffusion, RespacedTablesMatchUpstreamValues) {
  const GaussianDiffusion d = make_process("10");
  const DiffusionTables& tb = d.tables();
  ASSERT_EQ(d.num_steps(), 10);
  EXPECT_EQ(d.original_num_steps(), 1000);
  EXPECT_EQ(d.timestep_map(), (std::vector<std::int64_t>{0, 111, 222, 333, 444, 555, 666, 777, 888, 999}));
  // numpy, upstream SpacedDiffusion.__init__ + GaussianDiffusion.__init__.
  EXPECT_DOUBLE_EQ(tb.betas[0], 9.999999999998899e-05);
  EXPECT_DOUBLE_EQ(tb.betas[1], 0.12630763785293664);
  EXPECT_DOUBLE_EQ(tb.betas[9], 0.8797882303918187);
  EXPECT_DOUBLE_EQ(tb.alphas_cumprod[5], 0.04325006930112191);
  EXPECT_DOUBLE_EQ(tb.alphas_cumprod[9], 4.0358297653756754e-05);
  EXPECT_DOUBLE_EQ(tb.posterior_log_variance_clipped[0], -9.211031850608943);
  EXPECT_DOUBLE_EQ(tb.posterior_log_variance_clipped[1], -9.211031850608943);
  EXPECT_DOUBLE_EQ(tb.posterior_log_variance_clipped[9], -0.12836947168341922);
}

TEST(GaussianDiffusion, RespacedAlphaBarEqualsBaseAlphaBarAtKeptSteps) {
  const GaussianDiffusion full = make_process("");
  const GaussianDiffusion spaced = make_process("ddim25");
  for (std::int64_t k = 0; k < spaced.num_steps(); ++k) {
    const auto base_t = static_cast<std::size_t>(spaced.timestep_map()[static_cast<std::size_t>(k)]);
    EXPECT_NEAR(
        spaced.tables().alphas_cumprod[static_cast<std::size_t>(k)] / full.tables().alphas_cumprod[base_t],
        1.0, 1e-12);
  }
}

TEST(GaussianDiffusion, PosteriorTablesMatchClosedForms) {
  const GaussianDiffusion d = make_process("50");
  const DiffusionTables& tb = d.tables();
  for (std::size_t t = 1; t < tb.betas.size(); ++t) {
    const double beta = tb.betas[t];
    const double alpha = 1.0 - beta;
    // Posterior variance as a product of Gaussians: 1 / (alpha / beta + 1 / (1 - abar_prev)).
    const double variance = 1.0 / (alpha / beta + 1.0 / (1.0 - tb.alphas_cumprod[t - 1]));
    EXPECT_NEAR(tb.posterior_variance[t] / variance, 1.0, 1e-12) << t;
    EXPECT_NEAR(tb.posterior_log_variance_clipped[t], std::log(variance), 1e-10) << t;
    EXPECT_DOUBLE_EQ(tb.fixed_large_variance[t], beta);
  }
  EXPECT_EQ(tb.posterior_variance[0], 0.0);
  EXPECT_EQ(tb.fixed_large_variance[0], tb.posterior_variance[1]);
}

TEST(GaussianDiffusion, PosteriorMeanOfPredictedX0IsDdpmEquation11) {
  const GaussianDiffusion d = make_process("");
  const DiffusionTables& tb = d.tables();
  at::manual_seed(7);
  const at::Tensor x_t = at::randn({2, 3, 4, 4}, at::kDouble).to(at::kFloat);
  const at::Tensor eps = at::randn({2, 3, 4, 4}, at::kDouble).to(at::kFloat);
  for (std::int64_t t : {1, 10, 500, 999}) {
    const auto ts = static_cast<std::size_t>(t);
    const at::Tensor mean = d.q_posterior_mean(d.predict_xstart_from_eps(x_t, t, eps), x_t, t);
    // mu = (x_t - beta / sqrt(1 - abar) eps) / sqrt(alpha), computed in float64.
    const double beta = tb.betas[ts];
    const at::Tensor expected =
        (x_t.to(at::kDouble) - beta / std::sqrt(1.0 - tb.alphas_cumprod[ts]) * eps.to(at::kDouble)) /
        std::sqrt(1.0 - beta);
    // float32 formulas with coefficients up to ~1/sqrt(abar) ~ 160: a few 1e-5 absolute.
    EXPECT_LT((mean.to(at::kDouble) - expected).abs().max().item<double>(), 2e-4) << "t=" << t;
  }
}

TEST(GaussianDiffusion, XstartAndEpsFormulasAreInverses) {
  const GaussianDiffusion d = make_process("ddim10");
  at::manual_seed(8);
  const at::Tensor x0 = at::rand({3, 3, 8, 8}) * 2 - 1;
  const at::Tensor eps = at::randn({3, 3, 8, 8});
  for (std::int64_t t = 0; t < d.num_steps(); ++t) {
    const at::Tensor x_t = d.q_sample(x0, t, eps);
    EXPECT_TRUE(at::allclose(d.predict_xstart_from_eps(x_t, t, eps), x0, 1e-4, 1e-3)) << t;
    EXPECT_TRUE(at::allclose(d.predict_eps_from_xstart(x_t, t, x0), eps, 1e-3, 1e-3)) << t;
  }
}

TEST(GaussianDiffusion, ExtractCastsTheFloat64EntryToFloat32) {
  const GaussianDiffusion d = make_process("10");
  const at::Tensor like = at::zeros({4, 3, 2, 2});
  const at::Tensor v = d.extract(d.tables().alphas_cumprod, 9, like);
  EXPECT_EQ(v.sizes(), (std::vector<std::int64_t>{4, 1, 1, 1}));
  EXPECT_EQ(v.scalar_type(), at::kFloat);
  EXPECT_EQ(v[2].item<float>(), static_cast<float>(d.tables().alphas_cumprod[9]));
}

TEST(GaussianDiffusion, LearnedRangeInterpolatesLogVariance) {
  const GaussianDiffusion d =
      make_process("10", {ModelMeanType::kEpsilon, ModelVarianceType::kLearnedRange, false});
  const DiffusionTables& tb = d.tables();
  const at::Tensor like = at::zeros({1, 1, 1, 3});
  const at::Tensor v = at::tensor({-1.0f, 0.0f, 1.0f}).reshape({1, 1, 1, 3});
  const std::int64_t t = 4;
  const VarianceTerms terms = d.model_variance(t, v, like);
  const double min_log = tb.posterior_log_variance_clipped[4];
  const double max_log = std::log(tb.betas[4]);
  EXPECT_NEAR(terms.log_variance[0][0][0][0].item<double>(), min_log, 1e-5);
  EXPECT_NEAR(terms.log_variance[0][0][0][1].item<double>(), 0.5 * (min_log + max_log), 1e-5);
  EXPECT_NEAR(terms.log_variance[0][0][0][2].item<double>(), max_log, 1e-5);
  EXPECT_TRUE(at::allclose(terms.variance, at::exp(terms.log_variance)));
}

TEST(GaussianDiffusion, FixedVariancesComeFromTheTables) {
  const at::Tensor like = at::zeros({2, 3, 2, 2});
  const GaussianDiffusion large =
      make_process("10", {ModelMeanType::kEpsilon, ModelVarianceType::kFixedLarge, false});
  const GaussianDiffusion small =
      make_process("10", {ModelMeanType::kEpsilon, ModelVarianceType::kFixedSmall, false});
  EXPECT_FLOAT_EQ(large.model_variance(3, {}, like).variance[1][2][1][0].item<float>(),
                  static_cast<float>(large.tables().betas[3]));
  EXPECT_FLOAT_EQ(large.model_variance(0, {}, like).variance[0][0][0][0].item<float>(),
                  static_cast<float>(large.tables().posterior_variance[1]));
  EXPECT_FLOAT_EQ(small.model_variance(3, {}, like).variance[1][2][1][0].item<float>(),
                  static_cast<float>(small.tables().posterior_variance[3]));
  EXPECT_EQ(large.model_output_channels(3), 3);
}

TEST(GaussianDiffusion, ModelTimestepsAreOriginalScaleOrRescaled) {
  const GaussianDiffusion plain = make_process("ddim10");
  const at::Tensor ts = plain.model_timesteps(9, 3, at::kCPU);
  EXPECT_EQ(ts.scalar_type(), at::kLong);
  EXPECT_EQ(ts.sizes(), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(ts[2].item<std::int64_t>(), 900);

  // IDDPM: 4000 base steps, rescaled to t * 1000 / 4000 in float32.
  const GaussianDiffusion iddpm(linear_beta_schedule(4000), space_timesteps(4000, "250"),
                                {ModelMeanType::kEpsilon, ModelVarianceType::kLearnedRange, true});
  const at::Tensor rescaled = iddpm.model_timesteps(1, 2, at::kCPU);
  EXPECT_EQ(rescaled.scalar_type(), at::kFloat);
  EXPECT_FLOAT_EQ(rescaled[0].item<float>(), 16.0f * 0.25f);
  EXPECT_FLOAT_EQ(iddpm.model_timesteps(249, 1, at::kCPU)[0].item<float>(), 3999.0f * 0.25f);
}

TEST(GaussianDiffusion, RejectsProcessesWithFewerThanTwoSteps) {
  EXPECT_THROW(make_process("1"), Error);
  EXPECT_THROW(GaussianDiffusion(linear_beta_schedule(10), {}, {}), Error);
}

}  // namespace
}  // namespace sagbench::diffusion
