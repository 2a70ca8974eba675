// Beta schedules against closed forms and against values printed by numpy
// running guided-diffusion's get_named_beta_schedule (float64; compared to 4 ULP).
#include "diffusion/beta_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace sagbench::diffusion {
namespace {

TEST(BetaSchedule, LinearMatchesNumpyLinspace) {
  const auto betas = linear_beta_schedule(1000);
  ASSERT_EQ(betas.size(), 1000u);
  // numpy.linspace(1e-4, 0.02, 1000) entries 0, 1, 500, 998, 999.
  EXPECT_DOUBLE_EQ(betas[0], 0.0001);
  EXPECT_DOUBLE_EQ(betas[1], 0.00011991991991991993);
  EXPECT_DOUBLE_EQ(betas[500], 0.010059959959959959);
  EXPECT_DOUBLE_EQ(betas[998], 0.01998008008008008);
  EXPECT_EQ(betas[999], 0.02);  // linspace sets the endpoint exactly
}

TEST(BetaSchedule, LinearScalesWithStepCount) {
  // Upstream scales both ends by 1000 / T so that the schedule keeps its shape.
  const auto betas = linear_beta_schedule(4000);
  ASSERT_EQ(betas.size(), 4000u);
  EXPECT_DOUBLE_EQ(betas.front(), 0.25 * 0.0001);
  EXPECT_DOUBLE_EQ(betas.back(), 0.25 * 0.02);
  for (std::size_t i = 1; i < betas.size(); ++i) {
    ASSERT_GT(betas[i], betas[i - 1]);
  }
}

TEST(BetaSchedule, CosineMatchesClosedFormAlphaBar) {
  const std::int64_t steps = 1000;
  const auto betas = cosine_beta_schedule(steps);
  const double pi = std::acos(-1.0);
  auto alpha_bar = [&](double t) { return std::pow(std::cos((t + 0.008) / 1.008 * pi / 2), 2); };
  // Reference values printed by numpy for upstream's betas_for_alpha_bar.
  EXPECT_DOUBLE_EQ(betas[0], 4.128422482196914e-05);
  EXPECT_DOUBLE_EQ(betas[500], 0.003155691441585007);
  EXPECT_DOUBLE_EQ(betas[998], 0.7499993929011166);
  EXPECT_EQ(betas[999], 0.999);  // clipped at max_beta
  // Unclipped steps: prod(1 - beta) telescopes to abar(t_{i+1}) / abar(0).
  double product = 1.0;
  for (std::int64_t i = 0; i < steps - 1; ++i) {
    product *= 1.0 - betas[static_cast<std::size_t>(i)];
    const double expected = alpha_bar(static_cast<double>(i + 1) / steps) / alpha_bar(0.0);
    ASSERT_NEAR(product / expected, 1.0, 1e-9) << "step " << i;
  }
}

TEST(BetaSchedule, NamedScheduleDispatchesAndRejectsUnknownNames) {
  EXPECT_EQ(named_beta_schedule("linear", 10), linear_beta_schedule(10));
  EXPECT_EQ(named_beta_schedule("cosine", 10), cosine_beta_schedule(10));
  try {
    named_beta_schedule("sqrt", 1000);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("sqrt"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("linear, cosine"), std::string::npos);
  }
  EXPECT_THROW(named_beta_schedule("linear", 0), Error);
}

}  // namespace
}  // namespace sagbench::diffusion
