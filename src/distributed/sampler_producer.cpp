// The sampler producer factory (see sampler_producer.h).
#include "distributed/sampler_producer.h"

#include <fmt/format.h>

#include <map>

#include "core/error.h"
#include "diffusion/sampling_job.h"
#include "distributed/experiment.h"
#include "guidance/guided_sampling.h"

namespace sagbench::distributed {
namespace {

// Keys of `sampling:` that say how, not what, to sample: left out of the identity.
const char* const kRuntimeSamplingKeys[] = {"batch_size", "device", "output_dir", "run_name", "save_raw"};

// The `base:` section as a document of its own, with the experiment's sample
// count and batch size.
config::Document base_document(const config::Document& document) {
  const config::Node* base = document.find("base");
  SAG_REQUIRE(base != nullptr, kConfig, "{}: an experiment with producer 'sampler' needs a `base:` section",
              document.files().empty() ? std::string("<experiment>") : document.files().front());
  config::Document out(*base, document.files(), document.overrides());
  const auto settings = config::bind<ExperimentSettings>(document, "experiment");
  out.apply_override(fmt::format("sampling.num_samples={}", settings.num_samples));
  out.apply_override(fmt::format("sampling.batch_size={}", settings.batch_size));
  return out;
}

class SamplerProducer : public SampleProducer {
 public:
  explicit SamplerProducer(std::unique_ptr<diffusion::SamplingJob> job) : job_(std::move(job)) {}

  ImageGeometry geometry() const override {
    const std::vector<std::int64_t> shape = job_->sample_shape();  // (C, H, W)
    return {shape.at(1), shape.at(2), shape.at(0), job_->has_labels()};
  }

  void produce(std::int64_t begin, std::int64_t end, std::int64_t batch_size,
               const BatchSink& sink) override {
    job_->sample(begin, end, batch_size, [&](const diffusion::SampledBatch& batch) {
      sink({diffusion::to_uint8_nhwc(batch.samples), batch.labels});
    });
  }

 private:
  std::unique_ptr<diffusion::SamplingJob> job_;
};

class SamplerFactory : public ProducerFactory {
 public:
  YAML::Node resolved(const config::Document& document) override {
    return guidance::resolved_sampling_config(base_document(document));
  }

  std::string identity(const config::Document& document) override {
    YAML::Node root = resolved(document);
    for (const char* key : kRuntimeSamplingKeys) {
      root["sampling"].remove(key);
    }
    return "producer: sampler\n" + config::to_yaml_string(root);
  }

  std::unique_ptr<SampleProducer> make(const config::Document& document, at::Device device) override {
    const config::Document base = base_document(document);
    const diffusion::SamplingSetup setup = diffusion::SamplingSetup::from_document(base);
    const std::string key = config::to_yaml_string(setup.model) + "device: " + device.str();
    const auto cached = models_.find(key);
    auto job = guidance::build_sampling_job(base, device, cached == models_.end() ? nullptr : cached->second);
    if (cached == models_.end()) {
      models_.emplace(key, job->model_ptr());
    }
    return std::make_unique<SamplerProducer>(std::move(job));
  }

  std::string describe() const override {
    return fmt::format("diffusion sampler ({} model(s) loaded so far)", models_.size());
  }

 private:
  std::map<std::string, std::shared_ptr<models::UNetModel>> models_;  // by model section and device
};

}  // namespace

std::unique_ptr<ProducerFactory> make_sampler_factory() {
  return std::make_unique<SamplerFactory>();
}

}  // namespace sagbench::distributed
