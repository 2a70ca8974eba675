// SAG's degradation stage on hand-built inputs: Gaussian weights against the
// formula, the separable blur against a 2-D outer-product convolution (what
// torchvision computes), reflect padding, the mask's head mean / query sum /
// strict threshold / nearest upsampling, the masked mix and the re-noising.
#include "guidance/sag_degrade.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "guidance_test_support.h"

namespace sagbench::guidance {
namespace {

TEST(GaussianKernel, IsTheNormalisedGaussianOverTheCentredTaps) {
  const at::Tensor kernel = gaussian_kernel_1d(7, 1.5);
  ASSERT_EQ(kernel.numel(), 7);
  double total = 0.0;
  for (int x = -3; x <= 3; ++x) {
    total += std::exp(-0.5 * (x / 1.5) * (x / 1.5));
  }
  for (int x = -3; x <= 3; ++x) {
    EXPECT_NEAR(kernel[x + 3].item<float>(), std::exp(-0.5 * (x / 1.5) * (x / 1.5)) / total, 1e-7) << x;
  }
  EXPECT_EQ(gaussian_kernel_1d(1, 9.0).item<float>(), 1.0f);
}

TEST(GaussianKernel, RejectsEvenSizesAndBadSigmas) {
  for (auto [size, sigma] : std::vector<std::pair<std::int64_t, double>>{
           {4, 1.0}, {0, 1.0}, {-3, 1.0}, {5, 0.0}, {5, -1.0}, {5, std::nan("")}}) {
    try {
      gaussian_kernel_1d(size, sigma);
      ADD_FAILURE() << "accepted size " << size << " sigma " << sigma;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig);
      EXPECT_TRUE(std::string(e.what()).find(size % 2 == 1 && size > 0 ? "blur_sigma" : "blur_kernel_size") !=
                  std::string::npos)
          << e.what();
    }
  }
}

TEST(GaussianBlur, EqualsTheTwoDimensionalKernelOnTheReflectPaddedImage) {
  torch::manual_seed(5);
  const at::Tensor x = torch::randn({2, 3, 11, 13});
  const std::int64_t size = 9;
  const double sigma = 2.0;
  const at::Tensor k = gaussian_kernel_1d(size, sigma);
  const at::Tensor kernel_2d =
      at::outer(k, k).reshape({1, 1, size, size}).expand({3, 1, size, size}).contiguous();
  const at::Tensor padded = torch::nn::functional::pad(
      x, torch::nn::functional::PadFuncOptions({4, 4, 4, 4}).mode(torch::kReflect));
  const at::Tensor expected =
      torch::nn::functional::conv2d(padded, kernel_2d, torch::nn::functional::Conv2dFuncOptions().groups(3));
  const at::Tensor blurred = gaussian_blur(x, size, sigma);
  ASSERT_EQ(blurred.sizes(), x.sizes());
  EXPECT_LE((blurred - expected).abs().max().item<double>(), 1e-5);
}

TEST(GaussianBlur, KeepsConstantsSpreadsAnImpulseAndChecksTheImageSize) {
  const at::Tensor constant = at::full({1, 2, 8, 8}, 0.25f);
  EXPECT_LE((gaussian_blur(constant, 7, 3.0) - 0.25).abs().max().item<double>(), 1e-6);

  // An impulse far from the border becomes the outer product of the weights.
  at::Tensor impulse = at::zeros({1, 1, 15, 15});
  impulse[0][0][7][7] = 1.0;
  const at::Tensor k = gaussian_kernel_1d(5, 1.0);
  const at::Tensor response = gaussian_blur(impulse, 5, 1.0)[0][0].slice(0, 5, 10).slice(1, 5, 10);
  EXPECT_LE((response - at::outer(k, k)).abs().max().item<double>(), 1e-7);

  EXPECT_TRUE(at::equal(gaussian_blur(impulse, 1, 2.0), impulse));
  try {
    gaussian_blur(at::zeros({1, 3, 8, 16}), 9, 1.0);
    ADD_FAILURE() << "a 9-tap kernel on an 8-pixel-high image was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("blur_kernel_size 9"), std::string::npos) << e.what();
  }
}

// One image, 2 heads, a 2x2 grid (4 tokens); row = a query's weights over the
// keys. Dyadic weights keep every sum exact, so the threshold test is exact.
at::Tensor two_head_map() {
  const at::Tensor head0 = torch::tensor({{0.5f, 0.25f, 0.125f, 0.125f},
                                          {0.5f, 0.25f, 0.125f, 0.125f},
                                          {0.25f, 0.25f, 0.25f, 0.25f},
                                          {0.25f, 0.25f, 0.25f, 0.25f}});
  const at::Tensor head1 = torch::tensor({{0.125f, 0.25f, 0.5f, 0.125f},
                                          {0.125f, 0.25f, 0.5f, 0.125f},
                                          {0.25f, 0.25f, 0.25f, 0.25f},
                                          {0.25f, 0.25f, 0.25f, 0.25f}});
  return at::stack({head0, head1});
}

TEST(AttentionMask, AveragesHeadsSumsQueriesAndThresholdsStrictly) {
  // Key sums: head0 (1.5, 1, 0.75, 0.75), head1 (0.75, 1, 1.5, 0.75);
  // mean over heads: (1.125, 1, 1.125, 0.75).
  const at::Tensor mask = attention_mask(two_head_map(), 2, 2, 2, 1.0, 2, 2);
  ASSERT_EQ(mask.sizes(), (std::vector<std::int64_t>{1, 1, 2, 2}));
  EXPECT_TRUE(at::equal(mask.reshape({4}), torch::tensor({1.0f, 0.0f, 1.0f, 0.0f})));  // 1 is not > 1
  EXPECT_TRUE(at::equal(attention_mask(two_head_map(), 2, 2, 2, 0.999, 2, 2).reshape({4}),
                        torch::tensor({1.0f, 1.0f, 1.0f, 0.0f})));
  EXPECT_EQ(attention_mask(two_head_map(), 2, 2, 2, 1.125, 2, 2).sum().item<float>(), 0.0f);
  const double minus_inf = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(attention_mask(two_head_map(), 2, 2, 2, minus_inf, 2, 2).sum().item<float>(), 4.0f);
}

TEST(AttentionMask, ReadsTheGridRowMajorAndUpsamplesNearest) {
  // As one head on a 1x4 grid, the keys lie in a row; on 2x2, key 2 is row 1 col 0.
  const at::Tensor map = two_head_map()[0].unsqueeze(0);  // key sums (1.5, 1, 0.75, 0.75)
  const at::Tensor row = attention_mask(map, 1, 1, 4, 1.0, 2, 8);
  ASSERT_EQ(row.sizes(), (std::vector<std::int64_t>{1, 1, 2, 8}));
  EXPECT_EQ(row.sum().item<float>(), 4.0f);  // columns 0-1 of both rows
  EXPECT_EQ(row[0][0][1][1].item<float>(), 1.0f);
  EXPECT_EQ(row[0][0][1][2].item<float>(), 0.0f);

  const at::Tensor grid = attention_mask(two_head_map(), 2, 2, 2, 1.0, 6, 6)[0][0];
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) {
      EXPECT_EQ(grid[i][j].item<float>(), j < 3 ? 1.0f : 0.0f) << i << "," << j;
    }
  }
}

TEST(AttentionMask, SoftmaxMapsReceiveOneOnAverage) {
  // Rows of a softmax sum to 1, so the received attention averages to 1 over
  // keys: psi = 1 (the default) selects the above-average positions.
  torch::manual_seed(3);
  const at::Tensor map = at::softmax(torch::randn({2 * 4, 16, 16}) * 3, -1);
  const at::Tensor received = map.reshape({2, 4, 16, 16}).mean(1).sum(1);
  EXPECT_LE((received.mean(1) - 1.0).abs().max().item<double>(), 1e-6);
  const at::Tensor mask = attention_mask(map, 4, 4, 4, 1.0, 4, 4);
  EXPECT_TRUE(at::equal(mask.reshape({2, 16}), at::gt(received, 1.0).to(at::kFloat)));
  EXPECT_GT(mask.sum().item<float>(), 0.0f);
  EXPECT_LT(mask.sum().item<float>(), 32.0f);
}

TEST(AttentionMask, RejectsMapsThatDoNotFitHeadsAndGrid) {
  EXPECT_THROW(attention_mask(two_head_map(), 3, 2, 2, 1.0, 4, 4), Error);
  EXPECT_THROW(attention_mask(two_head_map(), 2, 3, 3, 1.0, 4, 4), Error);
  EXPECT_THROW(attention_mask(at::zeros({2, 4}), 2, 2, 2, 1.0, 4, 4), Error);
}

TEST(MaskedMix, BlursOnlyWhereTheMaskIsOne) {
  const at::Tensor x0 = at::full({1, 3, 2, 2}, 1.0f);
  const at::Tensor blurred = at::full({1, 3, 2, 2}, 5.0f);
  const at::Tensor mask = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f}).reshape({1, 1, 2, 2});
  const at::Tensor mixed = masked_mix(x0, blurred, mask);
  for (int c = 0; c < 3; ++c) {
    EXPECT_TRUE(at::equal(mixed[0][c], torch::tensor({5.0f, 1.0f, 1.0f, 5.0f}).reshape({2, 2})));
  }
  EXPECT_TRUE(at::equal(masked_mix(x0, blurred, {}), blurred));
}

TEST(DegradedInput, RenoisesTheMixWithThePredictedEps) {
  const diffusion::GaussianDiffusion process = testing::tiny_process("adm_tiny_uncond", "10");
  torch::manual_seed(9);
  const at::Tensor x0 = torch::rand({2, 3, 8, 8}) * 2 - 1;
  const at::Tensor eps = torch::randn({2, 3, 8, 8});
  const at::Tensor mask = (torch::rand({2, 1, 8, 8}) > 0.5).to(at::kFloat);
  const std::int64_t t = 6;
  const at::Tensor degraded = degraded_input(process, t, x0, eps, mask, 5, 1.0);
  const double abar = process.tables().alphas_cumprod[t];
  const at::Tensor mixed = mask * gaussian_blur(x0, 5, 1.0) + (1 - mask) * x0;
  const at::Tensor expected =
      std::sqrt(abar) * mixed.to(at::kDouble) + std::sqrt(1 - abar) * eps.to(at::kDouble);
  EXPECT_LE((degraded.to(at::kDouble) - expected).abs().max().item<double>(), 1e-6);
}

}  // namespace
}  // namespace sagbench::guidance
