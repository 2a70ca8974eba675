// Sampling jobs and sample files with the tiny fixture model: setup
// cross-checks, label policies, index ranges independent of batch size,
// file noise replaying the fixture's baseline trajectory, the uint8 NHWC
// conversion and the npz files (arr_0, arr_1, raw), never overwritten.
#include "diffusion/sampling_job.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "core/error.h"
#include "diffusion/sample_writer.h"
#include "diffusion/trajectory_support.h"
#include "io/npz.h"

namespace sagbench::diffusion {
namespace {

// The tiny unconditional fixture model as a sample-run config (its JSON flags).
std::string tiny_uncond_yaml(const std::string& extra_sampling = "") {
  return "model: {checkpoint: '" + sagbench::testing::fixture_path("adm_tiny_uncond.pt") +
         "', image_size: 32, num_channels: 32, num_res_blocks: 1, channel_mult: [1, 2, 2], "
         "attention_resolutions: [16, 8], num_heads: 4, num_head_channels: 8, learn_sigma: true, "
         "use_scale_shift_norm: true, resblock_updown: true}\n"
         "diffusion: {learn_sigma: true, timestep_respacing: '250'}\n"
         "sampler: {kind: ddpm, timestep_respacing: '10'}\n"
         "sampling: {num_samples: 2, batch_size: 2" +
         extra_sampling + "}\n";
}

std::unique_ptr<SamplingJob> make_job(const config::Document& doc) {
  SamplingSetup setup = SamplingSetup::from_document(doc);
  auto model = models::build_unet(setup.model);
  return std::make_unique<SamplingJob>(std::move(setup), std::move(model), at::kCPU);
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SamplingSetup, CrossChecksTheSections) {
  EXPECT_NE(error_of([] {
              SamplingSetup::from_document(config::parse_document("sampler: {kind: ddim}"));
            }).find("model:"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              SamplingSetup::from_document(
                  config::parse_document(tiny_uncond_yaml(), "a.yaml", {"diffusion.learn_sigma=false"}));
            }).find("learn_sigma"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              SamplingSetup::from_document(
                  config::parse_document(tiny_uncond_yaml(), "a.yaml", {"model.checkpoint="}));
            }).find("allow_random_weights"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              SamplingSetup::from_document(
                  config::parse_document(tiny_uncond_yaml(), "a.yaml", {"sampling.labels=fixed"}));
            }).find("fixed_labels"),
            std::string::npos);
}

TEST(SamplingSetup, ReadmeExampleComposesModelClassifierAndSamplerPresets) {
  // configs/README.md's example run file, with absolute includes.
  const std::filesystem::path configs =
      std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "configs";
  const std::string dir = sagbench::testing::make_temp_dir("readme_example");
  const std::string path = dir + "/run.yaml";
  std::ofstream(path) << "include: ['" << (configs / "models/adm_imagenet128_cond.yaml").string() << "', '"
                      << (configs / "models/adm_classifier128.yaml").string() << "', '"
                      << (configs / "samplers/ddpm250.yaml").string()
                      << "']\nmodel: {checkpoint: /data/128x128_diffusion.pt}\n"
                         "classifier: {checkpoint: /data/128x128_classifier.pt}\n"
                         "guidance:\n  classifier: {scale: 0.5}\n"
                         "sampling: {num_samples: 50000, batch_size: 64, seed: 0}\n";
  const SamplingSetup setup = SamplingSetup::from_document(config::load_document(path));
  EXPECT_EQ(setup.model.image_size, 128);
  EXPECT_TRUE(setup.model.class_cond);
  EXPECT_EQ(setup.model.checkpoint, "/data/128x128_diffusion.pt");
  EXPECT_EQ(effective_respacing(setup.diffusion, setup.sampler), "250");
  EXPECT_EQ(setup.sampler.kind, "ddpm");
  EXPECT_EQ(setup.sampling.num_samples, 50000);
}

TEST(SamplingJob, FileNoiseReplaysTheFixtureTrajectoryWhateverTheBatchSize) {
  const std::string noise = sagbench::testing::fixture_path("adm_tiny_uncond_ddpm10.npz");
  const auto doc = config::parse_document(
      tiny_uncond_yaml(", x_T_file: '" + noise + "', step_noise_file: '" + noise + "'"));
  const auto job = make_job(doc);
  EXPECT_FALSE(job->has_labels());
  EXPECT_EQ(job->diffusion().num_steps(), 10);  // the sampler's respacing wins over the preset's
  std::vector<at::Tensor> together;
  job->sample(0, 2, 2, [&](const SampledBatch& b) { together.push_back(b.samples); });
  std::vector<at::Tensor> one_by_one;
  job->sample(0, 2, 1, [&](const SampledBatch& b) {
    EXPECT_EQ(b.first_index, static_cast<std::int64_t>(one_by_one.size()));
    one_by_one.push_back(b.samples);
  });
  ASSERT_EQ(together.size(), 1u);
  ASSERT_EQ(one_by_one.size(), 2u);
  const at::Tensor expected = io::read_npz(noise).at("baseline")[9];
  testing::expect_trajectory_close(together[0].unsqueeze(0), expected.unsqueeze(0), "batch of 2");
  // The noise of a sample does not depend on the batch, but the batch size
  // changes the CPU convolution kernels' blocking (float32 sums in another
  // order): measured max |diff| 1.6e-5 after 10 steps, so the trajectory
  // tolerance applies, not bit equality.
  testing::expect_trajectory_close(at::cat(one_by_one).unsqueeze(0), together[0].unsqueeze(0), "batch of 1");
  // Sample 1 alone, from its own row of the noise files.
  std::vector<at::Tensor> second;
  job->sample(1, 2, 4, [&](const SampledBatch& b) { second.push_back(b.samples); });
  testing::expect_trajectory_close(second[0].unsqueeze(0), together[0].narrow(0, 1, 1).unsqueeze(0),
                                   "sample 1");
  // More samples than the noise files hold is refused before any work.
  EXPECT_THROW(job->sample(0, 3, 1, [](const SampledBatch&) {}), Error);
}

TEST(SamplingJob, LabelPoliciesOfAConditionalModel) {
  // adm_tiny_cond differs from the unconditional model in class_cond and num_head_channels only.
  const auto random =
      config::parse_document(tiny_uncond_yaml(), "cond.yaml",
                             {"model.checkpoint=" + sagbench::testing::fixture_path("adm_tiny_cond.pt"),
                              "model.class_cond=true", "model.num_head_channels=-1", "sampling.seed=9"});
  const auto job = make_job(random);
  EXPECT_EQ(job->label_classes(), 1000);
  const at::Tensor four = job->labels(0, 4);
  EXPECT_TRUE(at::equal(four.narrow(0, 2, 2), job->labels(2, 2)));  // a pure function of the index
  EXPECT_EQ(four[1].item<std::int64_t>(), counter_label(9, 1, 1000));

  config::Document fixed = random;
  fixed.apply_override("sampling.labels=fixed");
  fixed.apply_override("sampling.fixed_labels=[3, 977]");
  const auto fixed_job = make_job(fixed);
  EXPECT_TRUE(at::equal(fixed_job->labels(1, 3), at::tensor({977, 3, 977}, at::kLong)));
  fixed.apply_override("sampling.fixed_labels=[1000]");
  const auto bad_job = make_job(fixed);
  EXPECT_NE(error_of([&] { bad_job->labels(0, 1); }).find("outside [0, 1000)"), std::string::npos);
}

TEST(SampleFiles, Uint8ConversionIsUpstreams) {
  const at::Tensor x = at::tensor({-1.5f, -1.0f, -0.999f, 0.0f, 0.999f, 1.0f, 2.0f}).reshape({1, 1, 1, 7});
  const at::Tensor u8 = to_uint8_nhwc(x);
  EXPECT_EQ(u8.scalar_type(), at::kByte);
  // ((x + 1) * 127.5) truncated toward zero after the clamp.
  EXPECT_TRUE(at::equal(u8.flatten(), at::tensor({0, 0, 0, 127, 254, 255, 255}, at::kByte)));
  const at::Tensor nchw = at::rand({2, 3, 4, 5}) * 2 - 1;
  EXPECT_EQ(to_uint8_nhwc(nchw).sizes(), (std::vector<std::int64_t>{2, 4, 5, 3}));
}

TEST(SampleFiles, WritesArr0Arr1AndRawAndNeverOverwrites) {
  const std::string dir = sagbench::testing::make_temp_dir("sample_writer");
  const std::vector<std::int64_t> shape = {3, 4, 5};
  const at::Tensor samples = at::rand({3, 3, 4, 5}) * 2 - 1;
  const at::Tensor labels = at::tensor({7, 8, 9}, at::kLong);
  {
    SampleFileWriter writer(dir, 3, shape, true, true);
    writer.append({0, samples.narrow(0, 0, 2), labels.narrow(0, 0, 2)});
    writer.append({2, samples.narrow(0, 2, 1), labels.narrow(0, 2, 1)});
    writer.finish();
    EXPECT_EQ(std::filesystem::path(writer.path()).filename(), "samples_3x4x5x3.npz");
  }
  const io::TensorDict files = io::read_npz(dir + "/samples_3x4x5x3.npz");
  EXPECT_EQ(files.names(), (std::vector<std::string>{"arr_0", "arr_1"}));
  EXPECT_TRUE(at::equal(files.at("arr_0"), to_uint8_nhwc(samples)));
  EXPECT_TRUE(at::equal(files.at("arr_1"), labels));
  EXPECT_TRUE(at::equal(io::read_npz(dir + "/samples_raw_3x3x4x5.npz").at("arr_0"), samples));
  EXPECT_NE(error_of([&] { SampleFileWriter(dir, 3, shape, true, false); }).find("never overwritten"),
            std::string::npos);
  // An unfinished writer leaves no file behind.
  {
    SampleFileWriter partial(dir, 4, shape, false, false);
    partial.append({0, samples.narrow(0, 0, 2), {}});
    EXPECT_THROW(partial.finish(), Error);
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/samples_4x4x5x3.npz"));
}

}  // namespace
}  // namespace sagbench::diffusion
