// Philox4x32-10 against Random123's published known-answer vectors
// (tests/kat_vectors), and Box-Muller normals against N(0, 1) moments.
#include "diffusion/philox.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sagbench::diffusion {
namespace {

TEST(Philox, Random123KnownAnswers) {
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (PhiloxCounter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (PhiloxCounter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (PhiloxCounter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, UniformsStayInsideTheirIntervals) {
  EXPECT_GT(uniform_open_closed(0), 0.0);
  EXPECT_EQ(uniform_open_closed(0xffffffffu), 1.0);
  EXPECT_EQ(uniform_closed_open(0), 0.0);
  EXPECT_LT(uniform_closed_open(0xffffffffu), 1.0);
  // The extreme word still gives a finite normal.
  EXPECT_TRUE(std::isfinite(box_muller(0, 0)[0]));
}

TEST(Philox, BoxMullerNormalsHaveStandardMoments) {
  // 2^18 normals: the standard error of the mean is 0.002, of the variance 0.003,
  // so 0.01 is ~4 standard errors (the stream is fixed, so the test is deterministic).
  const int blocks = 1 << 16;
  double sum = 0.0;
  double sum_sq = 0.0;
  double sum_4 = 0.0;
  int n = 0;
  for (int i = 0; i < blocks; ++i) {
    const auto w = philox4x32_10({static_cast<std::uint32_t>(i), 5, 0, 0}, {42, 0});
    for (const auto& pair : {box_muller(w[0], w[1]), box_muller(w[2], w[3])}) {
      for (double z : pair) {
        sum += z;
        sum_sq += z * z;
        sum_4 += z * z * z * z;
        ++n;
      }
    }
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.01);
  EXPECT_NEAR(sum_4 / n, 3.0, 0.05);  // kurtosis of a normal
}

}  // namespace
}  // namespace sagbench::diffusion
