// kernels/sag_degrade: the CPU reference against the project's LibTorch path
// (guidance::gaussian_blur / masked_mix / degraded_input) and against an
// independent composition written here (reflection_pad2d + one 2-D conv with
// the outer-product kernel, upsample_nearest2d, mix, re-noise), over odd
// shapes; argument errors; and, on a CUDA device, the kernel against the
// reference with its achieved bandwidth.
#include "guidance/sag_degrade.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "diffusion/diffusion_config.h"
#include "diffusion/gaussian_diffusion.h"
#include "kernel_test_support.h"
#include "kernels/sag_degrade.h"

namespace sagbench::kernels {
namespace {

using testing::max_abs_difference;

// Sums of up to 31 x 31 float32 products of values in [-1, 1] with weights
// summing to 1, taken in another order (separable vs. 2-D, oneDNN's conv vs.
// plain loops): the results differ by a few float32 ulps of values <= ~3, i.e.
// ~1e-6; 1e-5 leaves margin while a wrong tap, padding index or mask pixel
// changes x~_t by >= 1e-3.
constexpr double kBlurTolerance = 1e-5;

struct DegradeCase {
  std::int64_t batch;
  std::int64_t channels;
  std::int64_t height;
  std::int64_t width;
  std::int64_t grid;
  std::int64_t kernel_size;
};

std::string describe(const DegradeCase& c) {
  return fmt::format("B={} C={} {}x{} grid={} K={}", c.batch, c.channels, c.height, c.width, c.grid,
                     c.kernel_size);
}

// Every combination of the odd shapes with valid reflect padding (pad < side).
std::vector<DegradeCase> odd_cases() {
  std::vector<DegradeCase> cases;
  const std::vector<std::pair<std::int64_t, std::int64_t>> images = {{7, 7}, {32, 32}, {33, 33}, {33, 7}};
  for (std::int64_t batch : {1, 3}) {
    for (std::int64_t channels : {1, 3, 4}) {
      for (const auto& [height, width] : images) {
        for (std::int64_t grid : {2, 4, 8}) {
          for (std::int64_t kernel_size : {3, 9, 31}) {
            if ((kernel_size - 1) / 2 < std::min(height, width)) {
              cases.push_back({batch, channels, height, width, grid, kernel_size});
            }
          }
        }
      }
    }
  }
  return cases;
}

struct DegradeInputs {
  at::Tensor x0;  // clipped prediction in [-1, 1]
  at::Tensor eps;
  at::Tensor grid_mask;  // (B, grid, grid) {0, 1}
  at::Tensor kernel;     // (K,)
};

DegradeInputs make_inputs(const DegradeCase& c, std::uint64_t seed) {
  const at::Generator gen = at::detail::createCPUGenerator(seed);
  DegradeInputs in;
  in.x0 = at::clamp(1.5 * at::randn({c.batch, c.channels, c.height, c.width}, gen), -1, 1);
  in.eps = at::randn({c.batch, c.channels, c.height, c.width}, gen);
  in.grid_mask = at::gt(at::rand({c.batch, c.grid, c.grid}, gen), 0.5).to(at::kFloat);
  in.kernel = guidance::gaussian_kernel_1d(c.kernel_size, 0.4 * static_cast<double>(c.kernel_size));
  return in;
}

// Independent composition: 2-D outer-product kernel on the reflect-padded image.
at::Tensor composed_degrade(const DegradeInputs& in, float sqrt_alpha_bar, float sqrt_one_minus_alpha_bar) {
  const std::int64_t size = in.kernel.size(0);
  const std::int64_t pad = (size - 1) / 2;
  const std::int64_t channels = in.x0.size(1);
  const at::Tensor kernel_2d = at::outer(in.kernel, in.kernel).expand({channels, 1, size, size}).contiguous();
  const at::Tensor padded = at::reflection_pad2d(in.x0, {pad, pad, pad, pad});
  const std::vector<std::int64_t> unit = {1, 1};
  const std::vector<std::int64_t> none = {0, 0};
  const at::Tensor blurred = at::conv2d(padded, kernel_2d, {}, unit, none, unit, channels);
  const std::vector<std::int64_t> image = {in.x0.size(2), in.x0.size(3)};
  const at::Tensor mask = at::upsample_nearest2d(in.grid_mask.unsqueeze(1), image);
  const at::Tensor mixed = blurred * mask + in.x0 * (1 - mask);
  return sqrt_alpha_bar * mixed + sqrt_one_minus_alpha_bar * in.eps;
}

TEST(SagDegradeReference, MatchesIndependentCompositionOverOddShapes) {
  const RenoiseCoefficients renoise{0.8f, 0.6f};
  std::uint64_t seed = 1;
  for (const DegradeCase& c : odd_cases()) {
    SCOPED_TRACE(describe(c));
    const DegradeInputs in = make_inputs(c, seed++);
    const at::Tensor ours = sag_degrade(in.x0, in.eps, in.grid_mask, in.kernel, renoise.sqrt_alpha_bar,
                                        renoise.sqrt_one_minus_alpha_bar);
    const at::Tensor expected =
        composed_degrade(in, renoise.sqrt_alpha_bar, renoise.sqrt_one_minus_alpha_bar);
    ASSERT_EQ(ours.sizes(), expected.sizes());
    EXPECT_LE(max_abs_difference(ours, expected), kBlurTolerance);
  }
}

// The project's own SAG stage, where it accepts the kernel (size <= side):
// mask upsampled from the grid, guidance::gaussian_blur, masked_mix and the
// process's q_sample at a respaced step.
TEST(SagDegradeReference, MatchesGuidanceDegradedInput) {
  const diffusion::GaussianDiffusion process = diffusion::make_diffusion(diffusion::DiffusionConfig{}, "10");
  const std::int64_t t = 6;
  const double sqrt_alpha_bar = process.tables().sqrt_alphas_cumprod[t];
  const double sqrt_one_minus = process.tables().sqrt_one_minus_alphas_cumprod[t];
  std::uint64_t seed = 100;
  int compared = 0;
  for (const DegradeCase& c : odd_cases()) {
    if (c.kernel_size > std::min(c.height, c.width)) {
      continue;
    }
    SCOPED_TRACE(describe(c));
    const DegradeInputs in = make_inputs(c, seed++);
    const std::vector<std::int64_t> image = {c.height, c.width};
    const at::Tensor mask = at::upsample_nearest2d(in.grid_mask.unsqueeze(1), image);
    const double sigma = 0.4 * static_cast<double>(c.kernel_size);
    const at::Tensor expected =
        guidance::degraded_input(process, t, in.x0, in.eps, mask, c.kernel_size, sigma);
    const at::Tensor ours =
        sag_degrade(in.x0, in.eps, in.grid_mask, in.kernel, sqrt_alpha_bar, sqrt_one_minus);
    EXPECT_LE(max_abs_difference(ours, expected), kBlurTolerance);
    // Blur guidance: no mask = blurred everywhere.
    const at::Tensor blur_only = sag_degrade(in.x0, in.eps, at::Tensor(), in.kernel, 1.0, 0.0);
    EXPECT_LE(max_abs_difference(blur_only, guidance::gaussian_blur(in.x0, c.kernel_size, sigma)),
              kBlurTolerance);
    ++compared;
  }
  EXPECT_GT(compared, 100);
}

TEST(SagDegradeReference, NearestIndexMatchesATen) {
  for (std::int64_t input : {1, 2, 3, 4, 8, 16}) {
    for (std::int64_t output : {1, 5, 7, 8, 16, 32, 33, 256}) {
      const at::Tensor source = at::arange(input, at::kFloat).reshape({1, 1, 1, input});
      const std::vector<std::int64_t> size = {1, output};
      const at::Tensor upsampled = at::upsample_nearest2d(source, size).flatten();
      for (std::int64_t i = 0; i < output; ++i) {
        EXPECT_EQ(nearest_source_index(i, input, output),
                  static_cast<std::int64_t>(upsampled[i].item<float>()))
            << input << " -> " << output << " at " << i;
      }
    }
  }
}

TEST(SagDegradeReference, RejectsBadArguments) {
  const at::Tensor x = at::zeros({2, 3, 8, 8});
  const at::Tensor kernel = guidance::gaussian_kernel_1d(3, 1.0);
  const at::Tensor mask = at::ones({2, 4, 4});
  EXPECT_THROW(sag_degrade(x, at::zeros({2, 3, 8, 7}), mask, kernel, 1, 0), Error);
  EXPECT_THROW(sag_degrade(x, x, at::ones({1, 4, 4}), kernel, 1, 0), Error);
  EXPECT_THROW(sag_degrade(x, x, mask, at::ones({4}), 1, 0), Error);
  EXPECT_THROW(sag_degrade(x, x, mask, guidance::gaussian_kernel_1d(17, 2.0), 1, 0), Error);
  EXPECT_NO_THROW(sag_degrade(x, x, mask.unsqueeze(1), guidance::gaussian_kernel_1d(15, 2.0), 1, 0));
}

TEST(SagDegradeCuda, MatchesReferenceOverOddShapes) {
  SAGBENCH_SKIP_WITHOUT_CUDA_DEVICE();
#ifdef SAGBENCH_HAVE_CUDA
  const RenoiseCoefficients renoise{0.7f, 0.71414284f};
  std::uint64_t seed = 500;
  for (const DegradeCase& c : odd_cases()) {
    SCOPED_TRACE(describe(c));
    const DegradeInputs in = make_inputs(c, seed++);
    const SagDegradeShape shape{c.batch, c.channels, c.height, c.width, c.grid, c.grid, c.kernel_size};
    std::vector<float> x0(in.x0.data_ptr<float>(), in.x0.data_ptr<float>() + in.x0.numel());
    std::vector<float> eps(in.eps.data_ptr<float>(), in.eps.data_ptr<float>() + in.eps.numel());
    std::vector<float> mask(in.grid_mask.data_ptr<float>(),
                            in.grid_mask.data_ptr<float>() + in.grid_mask.numel());
    std::vector<float> taps(in.kernel.data_ptr<float>(), in.kernel.data_ptr<float>() + in.kernel.numel());
    std::vector<float> expected(x0.size());
    sag_degrade_reference(x0.data(), eps.data(), mask.data(), taps.data(), shape, renoise, expected.data());
    const testing::DeviceBuffer d_x0(x0), d_eps(eps), d_mask(mask), d_taps(taps), d_out(in.x0.numel());
    ASSERT_EQ(sag_degrade_cuda(d_x0.data(), d_eps.data(), d_mask.data(), d_taps.data(), shape, renoise,
                               d_out.data(), nullptr),
              0);
    // Same taps in the same order with rounded (non-fused) float32 operations:
    // equal up to the last bits.
    const std::vector<float> ours = d_out.to_host();
    EXPECT_LE(max_abs_difference(ours.data(), expected.data(), in.x0.numel()), 1e-6);
    ASSERT_EQ(sag_degrade_cuda(d_x0.data(), d_eps.data(), nullptr, d_taps.data(), shape, renoise,
                               d_out.data(), nullptr),
              0);
    sag_degrade_reference(x0.data(), eps.data(), nullptr, taps.data(), shape, renoise, expected.data());
    EXPECT_LE(max_abs_difference(d_out.to_host().data(), expected.data(), in.x0.numel()), 1e-6);
  }
#endif
}

// ADM-256 SAG at batch 16: 16 x 3 x 256 x 256, an 8x8 grid, 31 taps. DRAM
// traffic: x0 and eps read, x~_t written (the halo re-reads hit L2).
TEST(SagDegradeCuda, ReportsBandwidthAtAdm256Batch16) {
  SAGBENCH_SKIP_WITHOUT_CUDA_DEVICE();
#ifdef SAGBENCH_HAVE_CUDA
  const DegradeCase c{16, 3, 256, 256, 8, 31};
  const DegradeInputs in = make_inputs(c, 7);
  const SagDegradeShape shape{c.batch, c.channels, c.height, c.width, c.grid, c.grid, c.kernel_size};
  const std::int64_t count = in.x0.numel();
  const testing::DeviceBuffer d_x0(
      std::vector<float>(in.x0.data_ptr<float>(), in.x0.data_ptr<float>() + count));
  const testing::DeviceBuffer d_eps(
      std::vector<float>(in.eps.data_ptr<float>(), in.eps.data_ptr<float>() + count));
  const testing::DeviceBuffer d_mask(std::vector<float>(
      in.grid_mask.data_ptr<float>(), in.grid_mask.data_ptr<float>() + in.grid_mask.numel()));
  const testing::DeviceBuffer d_taps(
      std::vector<float>(in.kernel.data_ptr<float>(), in.kernel.data_ptr<float>() + c.kernel_size));
  const testing::DeviceBuffer d_out(count);
  const double bytes = 3.0 * static_cast<double>(count) * sizeof(float);
  const double gb_per_s = testing::report_bandwidth("sag_degrade_adm256_b16", bytes, [&] {
    return sag_degrade_cuda(d_x0.data(), d_eps.data(), d_mask.data(), d_taps.data(), shape, {0.5f, 0.8f},
                            d_out.data(), nullptr);
  });
  EXPECT_GT(gb_per_s, 0.0);
#endif
}

// The dispatcher on LibTorch CUDA tensors (a CUDA build of LibTorch only).
TEST(SagDegradeCuda, DispatcherRunsOnCudaTensors) {
  SAGBENCH_SKIP_WITHOUT_CUDA_DEVICE();
  if (!at::hasCUDA()) {
    GTEST_SKIP() << "LibTorch without CUDA";
  }
  const DegradeCase c{3, 3, 33, 33, 4, 31};
  const DegradeInputs in = make_inputs(c, 11);
  const at::Tensor expected = sag_degrade(in.x0, in.eps, in.grid_mask, in.kernel, 0.6, 0.8);
  const at::Tensor ours =
      sag_degrade(in.x0.cuda(), in.eps.cuda(), in.grid_mask.cuda(), in.kernel.cuda(), 0.6, 0.8).cpu();
  EXPECT_LE(max_abs_difference(ours, expected), 1e-6);
}

}  // namespace
}  // namespace sagbench::kernels
