// Timestep respacing against guided-diffusion's space_timesteps. Expected step
// lists were computed with upstream's algorithm in Python (round = half to
// even) or are stated in the fixtures (adm_tiny_uncond.json use_timesteps).
#include "diffusion/respacing.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace sagbench::diffusion {
namespace {

using Steps = std::vector<std::int64_t>;

std::string config_error_of(std::int64_t steps, const std::string& spec) {
  try {
    space_timesteps(steps, spec);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    return e.what();
  }
  ADD_FAILURE() << "no error for '" << spec << "'";
  return "";
}

TEST(Respacing, SectionCountMatchesFixtureUseTimesteps) {
  EXPECT_EQ(space_timesteps(1000, "10"), (Steps{0, 111, 222, 333, 444, 555, 666, 777, 888, 999}));
}

TEST(Respacing, TiesRoundHalfToEven) {
  // stride 2.5: 0, 2.5 -> 2 (not 3), 5.
  EXPECT_EQ(space_timesteps(6, "3"), (Steps{0, 2, 5}));
  // stride 3.5: 3.5 -> 4.
  EXPECT_EQ(space_timesteps(8, "3"), (Steps{0, 4, 7}));
  // stride 16.5, accumulated: 16.5 -> 16, 49.5 -> 50, 82.5 -> 82.
  EXPECT_EQ(space_timesteps(100, "7"), (Steps{0, 16, 33, 50, 66, 82, 99}));
  EXPECT_EQ(space_timesteps(12, "3,3"), (Steps{0, 2, 5, 6, 8, 11}));
}

TEST(Respacing, SectionsShareTheRemainderFromTheFront) {
  // 10 steps in 3 sections: sizes 4, 3, 3.
  EXPECT_EQ(space_timesteps(10, "1,1,1"), (Steps{0, 4, 7}));
  const Steps mixed = space_timesteps(1000, "10,15,20");
  ASSERT_EQ(mixed.size(), 45u);
  EXPECT_EQ(mixed[9], 333);
  EXPECT_EQ(mixed[10], 334);
  EXPECT_EQ(mixed[11], 358);
  EXPECT_EQ(mixed[25], 667);
  EXPECT_EQ(mixed.back(), 999);
}

TEST(Respacing, PaperStepCounts) {
  const Steps s250 = space_timesteps(1000, "250");
  ASSERT_EQ(s250.size(), 250u);
  EXPECT_EQ((Steps{s250[0], s250[1], s250[2], s250[248], s250[249]}), (Steps{0, 4, 8, 995, 999}));
  const Steps s4000 = space_timesteps(4000, "250");
  ASSERT_EQ(s4000.size(), 250u);
  EXPECT_EQ(s4000[1], 16);
  EXPECT_EQ(s4000.back(), 3999);
}

TEST(Respacing, EmptySpecKeepsEveryStep) {
  const Steps all = space_timesteps(50, "");
  ASSERT_EQ(all.size(), 50u);
  for (std::int64_t i = 0; i < 50; ++i) {
    EXPECT_EQ(all[static_cast<std::size_t>(i)], i);
  }
}

TEST(Respacing, DdimUsesTheFirstIntegerStrideWithExactlyNSteps) {
  EXPECT_EQ(space_timesteps(1000, "ddim10"), (Steps{0, 100, 200, 300, 400, 500, 600, 700, 800, 900}));
  const Steps d25 = space_timesteps(1000, "ddim25");
  ASSERT_EQ(d25.size(), 25u);
  EXPECT_EQ(d25[1], 40);
  EXPECT_EQ(d25.back(), 960);
  // ceil(1000 / s) == 7 first holds at s = 143.
  EXPECT_EQ(space_timesteps(1000, "ddim7"), (Steps{0, 143, 286, 429, 572, 715, 858}));
}

TEST(Respacing, ImpossibleSpecsAreConfigErrors) {
  EXPECT_NE(config_error_of(1000, "ddim999").find("cannot divide 1000 steps into 999 ddim steps"),
            std::string::npos);
  EXPECT_NE(config_error_of(1000, "ddim1").find("cannot divide"), std::string::npos);
  EXPECT_NE(config_error_of(10, "20").find("cannot divide section 0 of 10 steps into 20"), std::string::npos);
  EXPECT_NE(config_error_of(10, "5,x").find("'x'"), std::string::npos);
  EXPECT_NE(config_error_of(10, "5,,2").find("5,,2"), std::string::npos);
  EXPECT_NE(config_error_of(10, "ddim").find("ddimN"), std::string::npos);
  EXPECT_NE(config_error_of(10, "-3").find("-3"), std::string::npos);
}

}  // namespace
}  // namespace sagbench::diffusion
