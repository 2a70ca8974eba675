// kernels/sag_mask: the CPU references against guidance::attention_mask and a
// LibTorch composition (einsum, softmax, mean over heads, sum over queries)
// over odd shapes; argument errors; and, on a CUDA device, the kernels against
// the references with their achieved bandwidth (map) or time (q/k, reported as
// the bandwidth of the map it avoids).
#include "kernels/sag_mask.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "guidance/sag_degrade.h"
#include "kernel_test_support.h"

namespace sagbench::kernels {
namespace {

using testing::max_abs_difference;

// received sums T softmax probabilities per key in float32 in another order
// than LibTorch's reductions (and exp rounds differently): ~T ulps of values
// ~1, so 1e-5 for T <= 64. A mask bit may then flip only where received is
// within that bound of the threshold; elsewhere the masks must agree exactly.
constexpr double kReceivedTolerance = 1e-5;
constexpr float kThreshold = 1.0f;

struct MaskCase {
  std::int64_t batch;
  std::int64_t heads;
  std::int64_t grid;
  std::int64_t channels;
};

std::vector<MaskCase> odd_cases() {
  std::vector<MaskCase> cases;
  for (std::int64_t batch : {1, 3}) {
    for (std::int64_t heads : {1, 3, 4}) {
      for (std::int64_t grid : {2, 4, 8}) {
        for (std::int64_t channels : {1, 8, 33}) {
          cases.push_back({batch, heads, grid, channels});
        }
      }
    }
  }
  return cases;
}

std::string describe(const MaskCase& c) {
  return fmt::format("B={} heads={} grid={} C={}", c.batch, c.heads, c.grid, c.channels);
}

struct QkInputs {
  at::Tensor q;  // (B*H, C, T)
  at::Tensor k;
  float logit_scale = 1.0f;
  at::Tensor map;       // (B*H, T, T): softmax over keys, built by LibTorch
  at::Tensor received;  // (B, T): LibTorch's mean over heads, sum over queries
};

QkInputs make_inputs(const MaskCase& c, std::uint64_t seed) {
  const at::Generator gen = at::detail::createCPUGenerator(seed);
  const std::int64_t tokens = c.grid * c.grid;
  QkInputs in;
  in.q = at::randn({c.batch * c.heads, c.channels, tokens}, gen);
  in.k = at::randn({c.batch * c.heads, c.channels, tokens}, gen);
  in.logit_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.channels)));
  in.map = at::softmax(at::einsum("bct,bcs->bts", {in.q, in.k}) * in.logit_scale, -1);
  in.received = in.map.reshape({c.batch, c.heads, tokens, tokens}).mean(1).sum(1);
  return in;
}

// Masks equal except where the LibTorch statistic is within the tolerance of the threshold.
void expect_masks_agree(const std::vector<float>& mask, const at::Tensor& expected_mask,
                        const at::Tensor& received) {
  const at::Tensor flat_expected = expected_mask.flatten().contiguous();
  const at::Tensor flat_received = received.flatten().contiguous();
  ASSERT_EQ(static_cast<std::int64_t>(mask.size()), flat_expected.numel());
  for (std::int64_t i = 0; i < flat_expected.numel(); ++i) {
    if (std::abs(flat_received[i].item<double>() - kThreshold) > kReceivedTolerance) {
      EXPECT_EQ(mask[static_cast<std::size_t>(i)], flat_expected[i].item<float>()) << "position " << i;
    }
  }
}

TEST(SagMaskReference, MapMatchesGuidanceAttentionMask) {
  std::uint64_t seed = 1;
  for (const MaskCase& c : odd_cases()) {
    SCOPED_TRACE(describe(c));
    const QkInputs in = make_inputs(c, seed++);
    const SagMaskShape shape{c.batch, c.heads, c.grid * c.grid, 0};
    std::vector<float> received(static_cast<std::size_t>(c.batch * shape.tokens));
    std::vector<float> mask(received.size());
    sag_mask_from_map_reference(in.map.data_ptr<float>(), shape, kThreshold, received.data(), mask.data());
    EXPECT_LE(max_abs_difference(received.data(), in.received.data_ptr<float>(), in.received.numel()),
              kReceivedTolerance);
    // The guidance path at the grid's own size (no upsampling).
    const at::Tensor expected =
        guidance::attention_mask(in.map, c.heads, c.grid, c.grid, kThreshold, c.grid, c.grid);
    expect_masks_agree(mask, expected, in.received);
    // The statistic averages 1 per key, so psi = 1 selects some keys and not others.
    if (c.grid >= 4) {
      EXPECT_NE(std::count(mask.begin(), mask.end(), 1.0f), 0);
      EXPECT_NE(std::count(mask.begin(), mask.end(), 0.0f), 0);
    }
    const at::Tensor dispatched = sag_mask_from_map(in.map, c.heads, kThreshold);
    EXPECT_EQ(dispatched.sizes(), (std::vector<std::int64_t>{c.batch, shape.tokens}));
    EXPECT_TRUE(at::equal(dispatched, at::from_blob(mask.data(), {c.batch, shape.tokens})));
  }
}

TEST(SagMaskReference, QkMatchesMaterialisedMap) {
  std::uint64_t seed = 200;
  for (const MaskCase& c : odd_cases()) {
    SCOPED_TRACE(describe(c));
    const QkInputs in = make_inputs(c, seed++);
    const SagMaskShape shape{c.batch, c.heads, c.grid * c.grid, c.channels};
    std::vector<float> received(static_cast<std::size_t>(c.batch * shape.tokens));
    std::vector<float> mask(received.size());
    sag_mask_from_qk_reference(in.q.data_ptr<float>(), in.k.data_ptr<float>(), shape, in.logit_scale,
                               kThreshold, received.data(), mask.data());
    EXPECT_LE(max_abs_difference(received.data(), in.received.data_ptr<float>(), in.received.numel()),
              kReceivedTolerance);
    expect_masks_agree(mask, at::gt(in.received, kThreshold).to(at::kFloat), in.received);
    const at::Tensor dispatched = sag_mask_from_qk(in.q, in.k, c.heads, in.logit_scale, kThreshold);
    EXPECT_TRUE(at::equal(dispatched, at::from_blob(mask.data(), {c.batch, shape.tokens})));
  }
}

// A threshold of -inf selects everything, +inf nothing (the statistic is finite).
TEST(SagMaskReference, ExtremeThresholds) {
  const QkInputs in = make_inputs({2, 3, 4, 8}, 9);
  EXPECT_TRUE(at::equal(sag_mask_from_map(in.map, 3, -INFINITY), at::ones({2, 16})));
  EXPECT_TRUE(at::equal(sag_mask_from_map(in.map, 3, INFINITY), at::zeros({2, 16})));
}

TEST(SagMaskReference, RejectsBadShapes) {
  EXPECT_THROW(sag_mask_from_map(at::zeros({6, 16, 16}), 4, 1.0), Error);
  EXPECT_THROW(sag_mask_from_map(at::zeros({6, 16, 15}), 3, 1.0), Error);
  EXPECT_THROW(sag_mask_from_map(at::zeros({6, 16}), 3, 1.0), Error);
  EXPECT_THROW(sag_mask_from_qk(at::zeros({6, 8, 16}), at::zeros({6, 8, 15}), 3, 1.0, 1.0), Error);
  EXPECT_THROW(sag_mask_from_qk(at::zeros({6, 8, 16}), at::zeros({6, 8, 16}), 4, 1.0, 1.0), Error);
}

TEST(SagMaskCuda, MatchesReferenceOverOddShapes) {
  SAGBENCH_SKIP_WITHOUT_CUDA_DEVICE();
#ifdef SAGBENCH_HAVE_CUDA
  std::uint64_t seed = 400;
  for (const MaskCase& c : odd_cases()) {
    SCOPED_TRACE(describe(c));
    const QkInputs in = make_inputs(c, seed++);
    const SagMaskShape shape{c.batch, c.heads, c.grid * c.grid, c.channels};
    const std::int64_t count = c.batch * shape.tokens;
    std::vector<float> map(in.map.data_ptr<float>(), in.map.data_ptr<float>() + in.map.numel());
    std::vector<float> q(in.q.data_ptr<float>(), in.q.data_ptr<float>() + in.q.numel());
    std::vector<float> k(in.k.data_ptr<float>(), in.k.data_ptr<float>() + in.k.numel());
    std::vector<float> received(static_cast<std::size_t>(count));
    std::vector<float> mask(received.size());
    const testing::DeviceBuffer d_map(map), d_q(q), d_k(k), d_received(count), d_mask(count),
        d_stats(2 * c.batch * c.heads * shape.tokens);
    // Map: the same float32 additions in the same order as the reference.
    sag_mask_from_map_reference(map.data(), shape, kThreshold, received.data(), mask.data());
    ASSERT_EQ(
        sag_mask_from_map_cuda(d_map.data(), shape, kThreshold, d_received.data(), d_mask.data(), nullptr),
        0);
    EXPECT_LE(max_abs_difference(d_received.to_host().data(), received.data(), count), 1e-6);
    EXPECT_EQ(d_mask.to_host(), mask);
    // q/k: online softmax and expf differ from the reference's two-pass std::exp by ulps.
    sag_mask_from_qk_reference(q.data(), k.data(), shape, in.logit_scale, kThreshold, received.data(),
                               mask.data());
    ASSERT_EQ(sag_mask_from_qk_cuda(d_q.data(), d_k.data(), shape, in.logit_scale, kThreshold, d_stats.data(),
                                    d_received.data(), d_mask.data(), nullptr),
              0);
    const std::vector<float> cuda_received = d_received.to_host();
    EXPECT_LE(max_abs_difference(cuda_received.data(), received.data(), count), kReceivedTolerance);
    expect_masks_agree(d_mask.to_host(), at::from_blob(mask.data(), {count}),
                       at::from_blob(received.data(), {count}));
  }
#endif
}

// ADM-128 SAG at output 8 (a 32x32 grid, T = 1024, 4 heads of 128 channels) at
// batch 16: the map variant reads the (64, 1024, 1024) map once; the q/k
// variant reads q and k and is reported as the bandwidth of the map it avoids.
TEST(SagMaskCuda, ReportsBandwidthAtAdm128Output8) {
  SAGBENCH_SKIP_WITHOUT_CUDA_DEVICE();
#ifdef SAGBENCH_HAVE_CUDA
  const SagMaskShape shape{16, 4, 1024, 128};
  const std::int64_t rows = shape.batch * shape.heads;
  const std::int64_t map_count = rows * shape.tokens * shape.tokens;
  const testing::DeviceBuffer d_map(std::vector<float>(static_cast<std::size_t>(map_count), 1.0f / 1024));
  const testing::DeviceBuffer d_q(std::vector<float>(static_cast<std::size_t>(rows * 128 * 1024), 0.01f));
  const testing::DeviceBuffer d_k(std::vector<float>(static_cast<std::size_t>(rows * 128 * 1024), 0.02f));
  const testing::DeviceBuffer d_received(shape.batch * shape.tokens), d_mask(shape.batch * shape.tokens),
      d_stats(2 * rows * shape.tokens);
  const double map_bytes = static_cast<double>(map_count) * sizeof(float);
  testing::report_bandwidth("sag_mask_map_adm128_b16", map_bytes, [&] {
    return sag_mask_from_map_cuda(d_map.data(), shape, kThreshold, d_received.data(), d_mask.data(), nullptr);
  });
  // A uniform map: every key receives exactly T / T summed over queries = 1.
  EXPECT_NEAR(d_received.to_host()[0], 1.0, 1e-4);
  testing::report_bandwidth("sag_mask_qk_adm128_b16_map_equivalent", map_bytes, [&] {
    return sag_mask_from_qk_cuda(d_q.data(), d_k.data(), shape, 1.0f / std::sqrt(128.0f), kThreshold,
                                 d_stats.data(), d_received.data(), d_mask.data(), nullptr);
  });
  // Constant q and k give equal logits: a uniform softmax again.
  EXPECT_NEAR(d_received.to_host()[0], 1.0, 1e-4);
#endif
}

}  // namespace
}  // namespace sagbench::kernels
