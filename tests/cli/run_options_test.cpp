// `sagbench run` command-line parsing: each --only takes one name, so
// overrides may follow it; several --only select several configurations.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "invoke.h"
#include "support/fixtures.h"

namespace sagbench::cli {
namespace {

int invoke(const std::vector<std::string>& args) {
  return testing::invoke(args).exit_code;
}

TEST(RunOptions, OnlyTakesOneNameAndOverridesMayFollow) {
  const std::string dir = sagbench::testing::make_temp_dir("run_options");
  const std::string path = dir + "/experiment.yaml";
  std::ofstream(path) << "experiment: {name: t, output_dir: '" << dir
                      << "/runs', num_samples: 4, shard_size: 2, batch_size: 2, producer: test_pattern, "
                         "evaluate: false}\n"
                         "base: {height: 3, width: 3}\n"
                         "configurations: [{name: a}, {name: b}, {name: c}]\n";
  ASSERT_EQ(invoke({"run", path, "--only", "a", "--only", "c", "base.seed=4"}), 0);
  EXPECT_TRUE(std::filesystem::exists(dir + "/runs/t/a/samples_4x3x3x3.npz"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/runs/t/b"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/runs/t/c/samples_4x3x3x3.npz"));
  EXPECT_NE(invoke({"run", path, "--only", "nosuch", "base.seed=4"}), 0);
}

}  // namespace
}  // namespace sagbench::cli
