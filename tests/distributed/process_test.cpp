// `sagbench run` / `sagbench merge` as real processes, alone and under
// mpirun (Open MPI): merged samples are byte-identical for world sizes 1, 2,
// 3 and different batch sizes; a rank killed mid-run is followed by a rerun
// that keeps every finished shard and completes identically; a corrupt shard
// is detected and recomputed; another configuration's directory is refused;
// a dead rank makes the others stop within the timeout; a full disk stops the
// run with nothing partial left. Uses the test-pattern producer (no model) so
// each run takes well under a second; the real sampler runs in
// sampler_process_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "distributed/process_support.h"
#include "distributed/shard_test_support.h"
#include "support/fixtures.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;
using testing::concat;
using testing::markers;
using testing::mpirun;
using testing::ProcessOptions;
using testing::ProcessResult;
using testing::run_process;
using testing::slurp;

constexpr const char* kMerged = "samples_23x6x5x3.npz";

// Two configurations of 23 samples in shards of 4 (6 shards, the last short).
std::string experiment_yaml(const std::string& output_dir) {
  return "experiment:\n"
         "  name: proc\n"
         "  output_dir: " +
         output_dir +
         "\n"
         "  num_samples: 23\n"
         "  shard_size: 4\n"
         "  batch_size: 3\n"
         "  producer: test_pattern\n"
         "  evaluate: false\n"
         "  timeout_s: 60\n"
         "base: {height: 6, width: 5, channels: 3, num_classes: 10, seed: 11}\n"
         "configurations:\n"
         "  - name: a\n"
         "  - name: b\n"
         "    overrides: [seed=12]\n";
}

class ProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(sagbench::testing::make_temp_dir("process"));
    std::ofstream(*dir_ + "/experiment.yaml") << experiment_yaml("runs");
    // The reference: one process, no MPI.
    const ProcessResult single =
        run_process(sagbench({"run", "experiment.yaml", "experiment.output_dir=reference"}), *dir_);
    ASSERT_EQ(single.status, 0) << single.err;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    if (!testing::have_mpirun()) {
      GTEST_SKIP() << "mpirun is not available";
    }
  }

  static std::vector<std::string> sagbench(const std::vector<std::string>& args) {
    return concat({SAGBENCH_BINARY, "--threads", "1"}, args);
  }
  static ProcessResult run(const std::vector<std::string>& argv, const ProcessOptions& options = {}) {
    ProcessResult result = run_process(argv, *dir_, options);
    EXPECT_FALSE(result.timed_out) << result.err;
    return result;
  }
  static std::string path(const std::string& relative) { return *dir_ + "/" + relative; }
  static std::string merged(const std::string& output, const std::string& configuration) {
    return slurp(path(output + "/proc/" + configuration + "/" + kMerged));
  }

  static std::string* dir_;
};

std::string* ProcessTest::dir_ = nullptr;

TEST_F(ProcessTest, MergedSamplesAreIdenticalForWorldSizesAndBatchSizes) {
  const std::string reference_a = merged("reference", "a");
  const std::string reference_b = merged("reference", "b");
  ASSERT_GT(reference_a.size(), 23u * 6 * 5 * 3);
  ASSERT_NE(reference_a, reference_b);  // the configurations differ, so equality below means something
  for (const auto& [np, batch] : std::vector<std::pair<int, int>>{{2, 2}, {3, 5}}) {
    const std::string output = "world" + std::to_string(np);
    const ProcessResult result =
        run(concat(mpirun(np), sagbench({"run", "experiment.yaml", "experiment.output_dir=" + output,
                                         "experiment.batch_size=" + std::to_string(batch)})));
    ASSERT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(merged(output, "a"), reference_a) << "world size " << np;
    EXPECT_EQ(merged(output, "b"), reference_b) << "world size " << np;
    // Every rank wrote shards, and rank 0 alone printed the summary table.
    std::set<int> writers;
    for (const auto& [name, text] : markers(path(output + "/proc/a/shards"))) {
      writers.insert(nlohmann::json::parse(text)["rank"].get<int>());
    }
    EXPECT_EQ(static_cast<int>(writers.size()), np);
    EXPECT_EQ(result.out.find("| a |"), result.out.rfind("| a |")) << result.out;
    EXPECT_NE(result.out.find("| b |"), std::string::npos) << result.out;
  }
}

TEST_F(ProcessTest, KilledRankThenRerunKeepsFinishedShardsAndCompletes) {
  const std::vector<std::string> args = {"run", "experiment.yaml", "experiment.output_dir=killed"};
  ProcessOptions crash;
  crash.env["SAGBENCH_TEST_EXIT_AFTER_SHARDS"] = "1:1";  // rank 1 dies after its first shard (shard 1)
  const ProcessResult killed = run(concat(mpirun(3), sagbench(args)), crash);
  EXPECT_NE(killed.status, 0);
  const std::string shard_dir = path("killed/proc/a/shards");
  const auto before = markers(shard_dir);
  EXPECT_GE(before.size(), 1u);
  EXPECT_EQ(before.count("shard_000004.done"), 0u);  // rank 1's second shard was never written
  EXPECT_FALSE(fs::exists(path("killed/proc/a/") + kMerged));

  const ProcessResult rerun = run(concat(mpirun(2), sagbench(args)));
  ASSERT_EQ(rerun.status, 0) << rerun.err;
  const auto after = markers(shard_dir);
  ASSERT_EQ(after.size(), 6u);
  for (const auto& [name, text] : before) {
    EXPECT_EQ(after.at(name), text) << name << " was written again";
  }
  const std::string rerun_attempt = nlohmann::json::parse(after.at("shard_000004.done"))["attempt"];
  int recomputed = 0;
  for (const auto& [name, text] : after) {
    recomputed += nlohmann::json::parse(text)["attempt"] == rerun_attempt ? 1 : 0;
  }
  EXPECT_EQ(recomputed, 6 - static_cast<int>(before.size()));
  EXPECT_EQ(merged("killed", "a"), merged("reference", "a"));
  EXPECT_EQ(merged("killed", "b"), merged("reference", "b"));
  EXPECT_TRUE(fs::exists(path("killed/proc/a/provenance.resume-1.json")));
}

TEST_F(ProcessTest, CorruptShardIsDetectedAndRecomputed) {
  const std::vector<std::string> args = {"run", "experiment.yaml", "experiment.output_dir=corrupt"};
  ASSERT_EQ(run(sagbench(args)).status, 0);
  const std::string run_dir = path("corrupt/proc/a");
  testing::flip_byte(run_dir + "/shards/shard_000002.npz", 120);
  fs::remove(run_dir + "/merge.json");  // the configuration is no longer complete

  const ProcessResult merge = run(sagbench({"merge", run_dir}));
  EXPECT_EQ(merge.status, 2);
  EXPECT_NE(merge.err.find("shard 2 is corrupt"), std::string::npos) << merge.err;

  const auto before = markers(run_dir + "/shards");
  const ProcessResult rerun = run(concat(mpirun(2), sagbench(args)));
  ASSERT_EQ(rerun.status, 0) << rerun.err;
  EXPECT_NE(rerun.err.find("shard 2 is corrupt"), std::string::npos) << rerun.err;
  EXPECT_NE(rerun.err.find("checksum mismatch"), std::string::npos) << rerun.err;
  const auto after = markers(run_dir + "/shards");
  for (const auto& [name, text] : before) {
    EXPECT_EQ(after.at(name) == text, name != "shard_000002.done") << name;
  }
  EXPECT_EQ(merged("corrupt", "a"), merged("reference", "a"));
  // `merge` is idempotent: it verifies and leaves the file alone.
  const ProcessResult again = run(sagbench({"merge", run_dir}));
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out.rfind("verified", 0), 0u) << again.out;
}

TEST_F(ProcessTest, DirectoryOfAnotherConfigurationIsRefused) {
  const std::vector<std::string> args = {"run", "experiment.yaml", "experiment.output_dir=refused"};
  ASSERT_EQ(run(sagbench(args)).status, 0);
  const std::string run_dir = path("refused/proc/a");
  const auto files_before = std::distance(fs::directory_iterator(run_dir), fs::directory_iterator());
  const ProcessResult other = run(concat(mpirun(2), sagbench(concat(args, {"base.seed=99"}))));
  EXPECT_EQ(other.status, 2) << other.err;  // a clean, agreed exit, not an abort
  EXPECT_NE(other.err.find("refusing to mix"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("seed: 11"), std::string::npos) << other.err;
  EXPECT_EQ(other.err.find("MPI_ABORT"), std::string::npos) << other.err;
  EXPECT_EQ(std::distance(fs::directory_iterator(run_dir), fs::directory_iterator()), files_before);
}

TEST_F(ProcessTest, DeadRankMakesTheOthersStopWithinTheTimeout) {
  ProcessOptions crash;
  crash.env["SAGBENCH_TEST_EXIT_AFTER_SHARDS"] = "1:1";
  // mpirun is told not to kill the job when a rank exits, so only the watchdog can end it.
  const ProcessResult result = run(
      concat(mpirun(2, {"--mca", "orte_abort_on_non_zero_status", "0"}),
             sagbench({"run", "experiment.yaml", "experiment.output_dir=dead", "experiment.timeout_s=2"})),
      crash);
  EXPECT_NE(result.status, 0);
  EXPECT_LT(result.elapsed_s, 60);
  EXPECT_NE(result.err.find("timed out after"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("another rank has probably died"), std::string::npos) << result.err;
}

TEST_F(ProcessTest, FullDiskStopsCleanlyAndTheRerunCompletes) {
  // Shards of 4 images of 32x32x3 are ~12 KB; the run's small files fit under the limit.
  std::ofstream(path("big.yaml")) << experiment_yaml("disk");
  const std::vector<std::string> args = {"run", "big.yaml", "base.height=32", "base.width=32"};
  ProcessOptions full;
  full.file_limit_bytes = 10000;
  const ProcessResult failed = run(sagbench(args), full);
  EXPECT_EQ(failed.status, 2) << failed.err;
  EXPECT_NE(failed.err.find("File too large"), std::string::npos) << failed.err;
  const std::string shard_dir = path("disk/proc/a/shards");
  ASSERT_TRUE(fs::is_directory(shard_dir)) << failed.err;
  for (const auto& entry : fs::directory_iterator(shard_dir)) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name << " was left behind";
    if (entry.path().extension() == ".npz") {
      EXPECT_TRUE(fs::exists(fs::path(entry.path()).replace_extension(".done"))) << name << " has no marker";
    }
  }
  const ProcessResult rerun = run(concat(mpirun(2), sagbench(args)));
  ASSERT_EQ(rerun.status, 0) << rerun.err;
  const ProcessResult single = run(sagbench(concat(args, {"experiment.output_dir=disk_reference"})));
  ASSERT_EQ(single.status, 0) << single.err;
  EXPECT_EQ(slurp(path("disk/proc/a/samples_23x32x32x3.npz")),
            slurp(path("disk_reference/proc/a/samples_23x32x32x3.npz")));
}

}  // namespace
}  // namespace sagbench::distributed
