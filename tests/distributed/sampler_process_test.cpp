// `sagbench run` with the real sampler and evaluator as processes: the tiny
// fixture ADM (DDIM 3 steps) sampled alone and by `mpirun -np 3` with another
// batch size gives byte-identical merged samples, and the distributed
// evaluation (features gathered from 3 ranks, put back in sample order; IS
// over splits of 4 is order-sensitive) gives the single process's metrics.
// The FID Inception has the fixture's random weights; 10 samples keep the run
// to seconds. FID, sFID and precision/recall need more images than the
// Inception's 2048 dimensions (the evaluator refuses fewer), so they are
// checked with a small test extractor in parallel_eval_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "distributed/process_support.h"
#include "io/npz.h"
#include "support/fixtures.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;

// Writes an npz holding one array.
void write_one_array(const std::string& path, const std::string& name, const at::Tensor& array) {
  io::TensorDict arrays;
  arrays.insert(name, array);
  io::write_npz(path, arrays);
}

using testing::concat;
using testing::ProcessResult;
using testing::run_process;
using testing::slurp;

std::string experiment_yaml() {
  return "experiment: {name: real, num_samples: 10, shard_size: 3, batch_size: 4, timeout_s: 300,\n"
         "             metrics: [inception_score], reference: reference.npz}\n"
         "base:\n"
         "  model: {checkpoint: '" +
         sagbench::testing::fixture_path("adm_tiny_uncond.pt") +
         "', image_size: 32, num_channels: 32, num_res_blocks: 1, channel_mult: '1,2,2',\n"
         "          attention_resolutions: '16,8', num_heads: 4, num_head_channels: 8, learn_sigma: true,\n"
         "          use_scale_shift_norm: true, resblock_updown: true}\n"
         "  diffusion: {learn_sigma: true}\n"
         "  sampler: {kind: ddim, timestep_respacing: ddim3}\n"
         "  sampling: {seed: 5}\n"
         "evaluator: {weights: '" +
         sagbench::testing::build_fixture_path("fid_inception_random.pth") +
         "', batch_size: 4, is_split_size: 4, pr_k: 3}\n";
}

TEST(SamplerProcess, WorldSizeAndBatchSizeChangeNeitherSamplesNorMetrics) {
  if (!testing::have_mpirun()) {
    GTEST_SKIP() << "mpirun is not available";
  }
  const std::string dir = sagbench::testing::make_temp_dir("sampler_process");
  std::ofstream(dir + "/experiment.yaml") << experiment_yaml();
  write_one_array(dir + "/reference.npz", "arr_0",
                  at::randint(0, 256, {8, 32, 32, 3}, at::kLong).to(at::kByte));
  const std::vector<std::string> sagbench = {SAGBENCH_BINARY, "--threads", "1", "run", "experiment.yaml"};

  const ProcessResult single = run_process(concat(sagbench, {"experiment.output_dir=single"}), dir);
  ASSERT_EQ(single.status, 0) << single.err;
  const ProcessResult three =
      run_process(concat(testing::mpirun(3),
                         concat(sagbench, {"experiment.output_dir=three", "experiment.batch_size=2"})),
                  dir);
  ASSERT_EQ(three.status, 0) << three.err;

  const std::string merged = "/real/base/samples_10x32x32x3.npz";
  const std::string single_bytes = slurp(dir + "/single" + merged);
  ASSERT_GT(single_bytes.size(), 10u * 32 * 32 * 3);
  EXPECT_EQ(slurp(dir + "/three" + merged), single_bytes);

  const auto metrics = [&](const std::string& output) {
    return nlohmann::json::parse(slurp(dir + "/" + output + "/real/base/metrics.json"));
  };
  const nlohmann::json ours = metrics("three");
  const nlohmann::json reference = metrics("single");
  EXPECT_EQ(ours["distributed"]["world_size"], 3);
  EXPECT_EQ(ours["world_size"], 3);
  // Identical images through the same network; only the extraction batches
  // differ (per shard vs. across shards), which float32 convolutions may
  // round differently: 1e-4 relative.
  for (const char* metric : {"inception_score", "inception_score_std"}) {
    const double expected = reference["metrics"][metric].get<double>();
    EXPECT_NEAR(ours["metrics"][metric].get<double>(), expected, 1e-4 * std::abs(expected) + 1e-9) << metric;
  }
  EXPECT_EQ(ours["samples"]["sha256"], reference["samples"]["sha256"]);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sagbench::distributed
