// build_sampling_job end to end from a config document: the tiny conditional
// fixture model + classifier, guidance.classifier, labels and noise from the
// fixture file reproduce the reference's classifier-guided sample (`cg` of
// adm_tiny_cond_ddpm10.npz; tolerance in tests/diffusion/trajectory_support.h).
#include "guidance/guided_sampling.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/error.h"
#include "diffusion/trajectory_support.h"
#include "io/npz.h"

namespace sagbench::guidance {
namespace {

std::string tiny_cond_run_yaml(const std::string& fixture) {
  const std::string model = sagbench::testing::fixture_path("adm_tiny_cond.pt");
  const std::string classifier = sagbench::testing::fixture_path("adm_tiny_cond_classifier.pt");
  return "model: {checkpoint: '" + model +
         "', image_size: 32, num_channels: 32, num_res_blocks: 1, channel_mult: [1, 2, 2], "
         "attention_resolutions: [16, 8], num_heads: 4, num_head_channels: -1, learn_sigma: true, "
         "class_cond: true, "
         "use_scale_shift_norm: true, resblock_updown: true}\n"
         "diffusion: {learn_sigma: true}\n"
         "sampler: {kind: ddpm, timestep_respacing: '10'}\n"
         "classifier: {checkpoint: '" +
         classifier +
         "', image_size: 32, width: 32, depth: 1, channel_mult: [1, 2, 2], attention_resolutions: [16, 8], "
         "num_head_channels: 8, pool: attention}\n"
         "guidance: {classifier: {scale: 1.0}}\n"
         "sampling: {num_samples: 2, batch_size: 2, labels: file, labels_file: '" +
         fixture + "', x_T_file: '" + fixture + "', step_noise_file: '" + fixture + "'}\n";
}

TEST(GuidedSampling, ConfigToClassifierGuidedSampleMatchesReference) {
  const std::string fixture = sagbench::testing::fixture_path("adm_tiny_cond_ddpm10.npz");
  const auto doc = config::parse_document(tiny_cond_run_yaml(fixture), "run.yaml");
  const auto job = build_sampling_job(doc, at::kCPU);
  EXPECT_EQ(job->label_classes(), 1000);
  EXPECT_NE(job->describe().find("classifier scale=1"), std::string::npos) << job->describe();
  const io::TensorDict reference = io::read_npz(fixture);
  std::vector<diffusion::SampledBatch> batches;
  job->sample(0, 2, 2, [&](const diffusion::SampledBatch& b) { batches.push_back(b); });
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_TRUE(at::equal(batches[0].labels, reference.at("y")));
  diffusion::testing::expect_trajectory_close(batches[0].samples.unsqueeze(0),
                                              reference.at("cg")[9].unsqueeze(0), "config-built cg sample");
}

TEST(GuidedSampling, UnknownGuidanceIsAConfigError) {
  const std::string fixture = sagbench::testing::fixture_path("adm_tiny_cond_ddpm10.npz");
  const auto doc =
      config::parse_document(tiny_cond_run_yaml(fixture), "run.yaml", {"guidance.classifer.scale=1"});
  EXPECT_THROW(build_sampling_job(doc, at::kCPU), Error);
}

}  // namespace
}  // namespace sagbench::guidance
