// The diffusion sampler as a producer, on the tiny fixture model
// (../shared/fixtures/adm_tiny_uncond.pt, DDIM 3 steps): any sample range is
// bit-identical whatever the batch size and the range it is computed in; the
// identity ignores runtime keys but not the configuration; configurations
// share one loaded model (distributed/sampler_producer.h). Costs about a
// second: the model is 32 px with 32 channels.
#include "distributed/sampler_producer.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/error.h"
#include "support/fixtures.h"

namespace sagbench::distributed {
namespace {

// The fixture's upstream flags (adm_tiny_uncond.json) with DDIM 3 steps.
std::string tiny_experiment(const std::string& extra_base = "") {
  return "experiment: {name: t, num_samples: 8, shard_size: 4, batch_size: 3, evaluate: false}\n"
         "base:\n"
         "  model: {checkpoint: '" +
         sagbench::testing::fixture_path("adm_tiny_uncond.pt") +
         "', image_size: 32, num_channels: 32, num_res_blocks: 1, channel_mult: '1,2,2',\n"
         "          attention_resolutions: '16,8', num_heads: 4, num_head_channels: 8, learn_sigma: true,\n"
         "          use_scale_shift_norm: true, resblock_updown: true}\n"
         "  diffusion: {learn_sigma: true}\n"
         "  sampler: {kind: ddim, timestep_respacing: ddim3}\n"
         "  sampling: {seed: 3}\n" +
         extra_base;
}

ImageBatch collect(SampleProducer& producer, std::int64_t begin, std::int64_t end, std::int64_t batch_size) {
  std::vector<at::Tensor> images;
  producer.produce(begin, end, batch_size, [&](const ImageBatch& batch) {
    EXPECT_LE(batch.images.size(0), batch_size);
    images.push_back(batch.images);
  });
  return {at::cat(images), at::Tensor()};
}

TEST(SamplerProducer, SamplesDoNotDependOnBatchSizeOrRange) {
  const auto factory = make_sampler_factory();
  const config::Document doc = config::parse_document(tiny_experiment());
  const auto producer = factory->make(doc, at::kCPU);
  const ImageGeometry g = producer->geometry();
  EXPECT_EQ(g.height, 32);
  EXPECT_EQ(g.channels, 3);
  EXPECT_FALSE(g.labels);
  const at::Tensor whole = collect(*producer, 0, 6, 6).images;
  ASSERT_EQ(whole.sizes(), (std::vector<std::int64_t>{6, 32, 32, 3}));
  EXPECT_EQ(whole.scalar_type(), at::kByte);
  // Bit-identical: per-sample noise keyed by index, and no cross-sample arithmetic.
  EXPECT_TRUE(at::equal(collect(*producer, 0, 6, 4).images, whole));
  EXPECT_TRUE(at::equal(collect(*producer, 2, 5, 1).images, whole.narrow(0, 2, 3)));
  EXPECT_FALSE(at::equal(whole[0], whole[1]));
}

TEST(SamplerProducer, IdentityIgnoresRuntimeKeysOnly) {
  const auto factory = make_sampler_factory();
  const std::string base = factory->identity(config::parse_document(tiny_experiment()));
  EXPECT_EQ(factory->identity(config::parse_document(tiny_experiment(), "x", {"experiment.batch_size=7"})),
            base);
  EXPECT_EQ(factory->identity(
                config::parse_document(tiny_experiment(), "x", {"base.sampling.output_dir=elsewhere"})),
            base);
  EXPECT_NE(factory->identity(config::parse_document(tiny_experiment(), "x", {"base.sampling.seed=4"})),
            base);
  EXPECT_NE(factory->identity(
                config::parse_document(tiny_experiment(), "x", {"base.sampler.timestep_respacing=ddim4"})),
            base);
  EXPECT_NE(factory->identity(config::parse_document(tiny_experiment("  guidance: {sag: {s: 0.5}}\n"))),
            base);
  // The experiment's sample count replaces sampling.num_samples in the resolved config.
  EXPECT_EQ(factory->resolved(config::parse_document(tiny_experiment()))["sampling"]["num_samples"].as<int>(),
            8);
}

TEST(SamplerProducer, ConfigurationsShareOneModel) {
  const auto factory = make_sampler_factory();
  factory->make(config::parse_document(tiny_experiment()), at::kCPU);
  factory->make(config::parse_document(tiny_experiment(), "x", {"base.sampler.timestep_respacing=ddim4"}),
                at::kCPU);
  EXPECT_NE(factory->describe().find("1 model(s)"), std::string::npos) << factory->describe();
  factory->make(config::parse_document(tiny_experiment(), "x",
                                       {"base.model.num_res_blocks=2",
                                        "base.sampling.allow_random_weights=true", "base.model.checkpoint="}),
                at::kCPU);
  EXPECT_NE(factory->describe().find("2 model(s)"), std::string::npos) << factory->describe();
}

TEST(SamplerProducer, MissingBaseOrBadKeysAreConfigErrors) {
  const auto factory = make_sampler_factory();
  EXPECT_THROW(factory->make(config::parse_document("experiment: {name: t, evaluate: false}\n"), at::kCPU),
               Error);
  EXPECT_THROW(
      factory->make(config::parse_document(tiny_experiment(), "x", {"base.sampler.kindd=ddim"}), at::kCPU),
      Error);
  // A misspelled section of base: is refused by name, not ignored.
  try {
    factory->resolved(config::parse_document(tiny_experiment("  guidence: {sag: {s: 0.5}}\n")));
    ADD_FAILURE() << "an unknown section of base: was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown section 'guidence'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sagbench::distributed
