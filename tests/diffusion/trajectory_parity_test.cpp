// Whole 10-step DDPM and DDIM trajectories of the unconditional tiny ADM
// against the upstream reference (`baseline` of adm_tiny_uncond_ddpm10.npz /
// _ddim10.npz, from the same x_T and step_noise). Tolerance and its reason:
// trajectory_support.h. The conditional files hold no unguided baseline; their
// classifier-guided trajectories are checked in tests/guidance/.
#include <gtest/gtest.h>

#include "diffusion/trajectory_support.h"

namespace sagbench::diffusion {
namespace {

using testing::expect_trajectory_close;
using testing::run_fixture_trajectory;

class UncondTrajectory : public ::testing::TestWithParam<const char*> {};

TEST_P(UncondTrajectory, BaselineMatchesReference) {
  const std::string kind = GetParam();
  const io::TensorDict arrays =
      io::read_npz(sagbench::testing::fixture_path("adm_tiny_uncond_" + kind + ".npz"));
  const auto run = run_fixture_trajectory("adm_tiny_uncond", kind, nullptr, arrays);
  // The timesteps visited are the reference's.
  const at::Tensor visited = arrays.at("timesteps_original").to(at::kDouble);
  ASSERT_EQ(static_cast<std::int64_t>(run.timesteps.size()), visited.size(0));
  for (std::size_t i = 0; i < run.timesteps.size(); ++i) {
    EXPECT_EQ(run.timesteps[i], visited[static_cast<std::int64_t>(i)].item<double>()) << i;
  }
  expect_trajectory_close(run.steps, arrays.at("baseline"), "adm_tiny_uncond_" + kind + " baseline");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, UncondTrajectory, ::testing::Values("ddpm10", "ddim10"));

}  // namespace
}  // namespace sagbench::diffusion
