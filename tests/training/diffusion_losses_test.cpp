// Tests of the diffusion training losses (src/training/diffusion_losses.h):
// normal_kl against closed forms, the discretized likelihood summing to one
// over the 256 pixel bins, per-sample q_sample against GaussianDiffusion's
// scalar-t q_sample, and the VLB vanishing when the model matches the true
// posterior (and being the decoder NLL at t = 0).
#include "training/diffusion_losses.h"

#include <gtest/gtest.h>

#include <cmath>

#include "diffusion/beta_schedule.h"
#include "diffusion/gaussian_diffusion.h"

namespace sagbench::training {
namespace {

TEST(DiffusionLossesTest, NormalKlMatchesClosedForm) {
  const at::Tensor zero = at::zeros({1});
  EXPECT_NEAR(normal_kl(zero, zero, zero, zero).item<double>(), 0.0, 1e-7);
  // KL(N(0,1) || N(1,1)) = 1/2; KL(N(0,1) || N(0,e^2)) in closed form
  // 0.5 * (lv2 - lv1 + exp(lv1 - lv2) - 1) with lv2 = 2.
  EXPECT_NEAR(normal_kl(zero, zero, zero + 1, zero).item<double>(), 0.5, 1e-6);
  EXPECT_NEAR(normal_kl(zero, zero, zero, zero + 2).item<double>(), 0.5 * (2 + std::exp(-2.0) - 1), 1e-6);
}

TEST(DiffusionLossesTest, DiscretizedLikelihoodSumsToOneOverBins) {
  const at::Tensor bins = at::arange(256, at::kFloat).div(127.5).sub(1.0);
  for (double mean : {-0.9, 0.0, 0.37}) {
    for (double log_scale : {-4.0, -1.5, 0.0}) {
      const at::Tensor means = at::full({256}, mean);
      const at::Tensor scales = at::full({256}, log_scale);
      const double total =
          discretized_gaussian_log_likelihood(bins, means, scales).exp().sum().item<double>();
      // The bins telescope: the CDF differences sum to exactly one up to
      // float32 rounding of the shared bin edges and the 1e-12 clamps.
      EXPECT_NEAR(total, 1.0, 1e-4) << "mean " << mean << " log_scale " << log_scale;
    }
  }
}

TEST(DiffusionLossesTest, QSampleMatchesScalarProcess) {
  const std::vector<double> betas = diffusion::named_beta_schedule("linear", 100);
  const DiffusionTrainingProcess process(betas);
  std::vector<std::int64_t> all(100);
  for (std::int64_t i = 0; i < 100; ++i) {
    all[static_cast<std::size_t>(i)] = i;
  }
  const diffusion::GaussianDiffusion reference(betas, all, {});
  at::manual_seed(3);
  const at::Tensor x0 = at::rand({3, 1, 4, 4}) * 2 - 1;
  const at::Tensor noise = at::randn({3, 1, 4, 4});
  const at::Tensor t = at::tensor(std::vector<std::int64_t>{0, 41, 99});
  const at::Tensor x_t = process.q_sample(x0, t, noise);
  for (std::int64_t i = 0; i < 3; ++i) {
    const at::Tensor expected =
        reference.q_sample(x0.narrow(0, i, 1), t[i].item<std::int64_t>(), noise.narrow(0, i, 1));
    EXPECT_TRUE(at::allclose(x_t.narrow(0, i, 1), expected, 1e-6, 1e-6)) << "t index " << i;
  }
}

TEST(DiffusionLossesTest, VlbVanishesForTheTruePosteriorAndIsDecoderNllAtZero) {
  const DiffusionTrainingProcess process(diffusion::named_beta_schedule("linear", 1000));
  at::manual_seed(5);
  const at::Tensor x0 = (at::randint(256, {4, 1, 4, 4}).to(at::kFloat) / 127.5 - 1);
  const at::Tensor noise = at::randn({4, 1, 4, 4});
  const at::Tensor t = at::tensor(std::vector<std::int64_t>{0, 10, 500, 999});
  const at::Tensor x_t = process.q_sample(x0, t, noise);
  // var_values = -1 selects the clipped posterior variance; eps = the true noise.
  const at::Tensor var_values = at::full_like(x0, -1.0);
  const at::Tensor vb = process.vb_terms_bpd(x0, x_t, t, noise, var_values);
  ASSERT_EQ(vb.sizes(), (std::vector<std::int64_t>{4}));
  // float32 x_t reconstruction error grows with 1/sqrt(abar): loose tolerance at t = 999.
  EXPECT_NEAR(vb[1].item<double>(), 0.0, 1e-3);
  EXPECT_NEAR(vb[2].item<double>(), 0.0, 1e-3);
  EXPECT_NEAR(vb[3].item<double>(), 0.0, 1e-2);
  // At t = 0 the term is the decoder NLL in bits/dim: positive, and small when the mean is exact.
  EXPECT_GT(vb[0].item<double>(), 0.0);
  EXPECT_LT(vb[0].item<double>(), 3.0);  // sigma ~ 0.007 vs bin half-width 1/255: ~1.3 bits inside
  // A wrong eps raises the KL terms.
  const at::Tensor worse = process.vb_terms_bpd(x0, x_t, t, noise + 2.0, var_values);
  EXPECT_GT(worse[2].item<double>(), vb[2].item<double>() + 1e-3);
  // The hybrid loss is MSE + VLB per sample.
  at::Tensor mse;
  at::Tensor vb_part;
  const at::Tensor loss = process.training_losses(x0, x_t, t, noise, noise + 2.0, var_values, &mse, &vb_part);
  EXPECT_TRUE(at::allclose(mse, at::full({4}, 4.0), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(loss, mse + worse, 1e-5, 1e-6));
}

}  // namespace
}  // namespace sagbench::training
