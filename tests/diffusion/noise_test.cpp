// Sampling noise: counter noise is a pure function of (seed, sample index,
// step), independent of batch size and position; labels likewise; file noise
// replays rows and refuses arrays that do not fit.
#include "diffusion/noise.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace sagbench::diffusion {
namespace {

const std::vector<std::int64_t> kShape = {3, 5, 7};  // odd, so blocks of 4 straddle samples

TEST(CounterNoise, SampleNoiseDoesNotDependOnBatchSizeOrPosition) {
  const CounterNoise noise(1234);
  const at::Tensor batch8 = noise.initial_noise(0, 8, kShape);
  const at::Tensor batch3 = noise.initial_noise(4, 3, kShape);
  const at::Tensor single = noise.initial_noise(5, 1, kShape);
  EXPECT_TRUE(at::equal(batch8[5], single[0]));
  EXPECT_TRUE(at::equal(batch3[1], single[0]));
  EXPECT_TRUE(at::equal(noise.step_noise(17, 0, 8, kShape)[6], noise.step_noise(17, 6, 2, kShape)[0]));
}

TEST(CounterNoise, StreamsDifferBySeedSampleAndStep) {
  const CounterNoise a(1);
  const CounterNoise b(2);
  const at::Tensor x = a.initial_noise(0, 2, kShape);
  EXPECT_FALSE(at::equal(x[0], x[1]));
  EXPECT_FALSE(at::equal(x, b.initial_noise(0, 2, kShape)));
  EXPECT_FALSE(at::equal(x, a.step_noise(0, 0, 2, kShape)));
  EXPECT_FALSE(at::equal(a.step_noise(0, 0, 2, kShape), a.step_noise(1, 0, 2, kShape)));
  // Seeds that differ only in the high word give different streams too.
  EXPECT_FALSE(at::equal(CounterNoise(1ull << 32).initial_noise(0, 1, kShape),
                         CounterNoise(0).initial_noise(0, 1, kShape)));
}

TEST(CounterNoise, IsStandardNormal) {
  const at::Tensor z = CounterNoise(9).initial_noise(0, 64, {3, 32, 32});  // 196608 values
  EXPECT_EQ(z.scalar_type(), at::kFloat);
  EXPECT_NEAR(z.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(z.std().item<double>(), 1.0, 0.01);
}

TEST(CounterLabel, IsDeterministicInRangeAndCoversAllClasses) {
  std::vector<int> counts(10, 0);
  for (std::int64_t i = 0; i < 2000; ++i) {
    const std::int64_t label = counter_label(77, i, 10);
    ASSERT_GE(label, 0);
    ASSERT_LT(label, 10);
    ASSERT_EQ(label, counter_label(77, i, 10));
    ++counts[static_cast<std::size_t>(label)];
  }
  for (int c : counts) {
    EXPECT_GT(c, 120);  // expected 200, sd ~13
    EXPECT_LT(c, 280);
  }
  EXPECT_THROW(counter_label(77, 0, 0), Error);
}

TEST(ArrayNoise, ReplaysRowsAndFallsBackToCounterNoise) {
  const at::Tensor x_T = at::arange(4 * 105, at::kFloat).reshape({4, 3, 5, 7});
  const at::Tensor steps = at::arange(2 * 4 * 105, at::kFloat).reshape({2, 4, 3, 5, 7});
  const ArrayNoise both(x_T, "a.npz", steps, "b.npz", 5);
  EXPECT_TRUE(at::equal(both.initial_noise(1, 2, kShape), x_T.narrow(0, 1, 2)));
  EXPECT_TRUE(at::equal(both.step_noise(1, 3, 1, kShape), steps[1].narrow(0, 3, 1)));
  const ArrayNoise only_x_T(x_T, "a.npz", {}, "", 5);
  EXPECT_TRUE(at::equal(only_x_T.step_noise(1, 0, 2, kShape), CounterNoise(5).step_noise(1, 0, 2, kShape)));
}

TEST(ArrayNoise, RefusesArraysThatDoNotFit) {
  const ArrayNoise noise(at::zeros({4, 3, 5, 7}), "x.npz", at::zeros({2, 4, 3, 5, 7}), "s.npz", 0);
  EXPECT_NO_THROW(noise.check(4, 2, kShape));
  auto kind_of = [&](std::int64_t end, std::int64_t steps, std::vector<std::int64_t> shape) {
    try {
      noise.check(end, steps, shape);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::kRuntime;
  };
  EXPECT_EQ(kind_of(5, 2, kShape), ErrorKind::kShape);                  // more samples than rows
  EXPECT_EQ(kind_of(4, 3, kShape), ErrorKind::kShape);                  // more steps than step_noise holds
  EXPECT_EQ(kind_of(4, 2, {3, 5, 8}), ErrorKind::kShape);               // wrong sample shape
  EXPECT_THROW(ArrayNoise(at::zeros({4}), "x.npz", {}, "", 0), Error);  // not (N, C, H, W)
}

}  // namespace
}  // namespace sagbench::diffusion
