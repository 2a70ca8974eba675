// The producer factories (see producer_factory.h): the test pattern here, the
// diffusion sampler in sampler_producer.cpp.
#include "distributed/producer_factory.h"

#include "core/error.h"
#include "distributed/sampler_producer.h"

namespace sagbench::distributed {
namespace {

class TestPatternFactory : public ProducerFactory {
 public:
  YAML::Node resolved(const config::Document& document) override {
    return config::to_yaml(config::bind<TestPatternConfig>(document, "base"));
  }
  std::string identity(const config::Document& document) override {
    return "producer: test_pattern\n" + config::to_yaml_string(resolved(document));
  }
  std::unique_ptr<SampleProducer> make(const config::Document& document, at::Device) override {
    return std::make_unique<TestPatternProducer>(config::bind<TestPatternConfig>(document, "base"));
  }
  std::string describe() const override { return "test pattern (hashed pixels, no model)"; }
};

}  // namespace

std::unique_ptr<ProducerFactory> make_producer_factory(const std::string& producer) {
  if (producer == "test_pattern") {
    return std::make_unique<TestPatternFactory>();
  }
  SAG_REQUIRE(producer == "sampler", kConfig, "experiment.producer '{}' is not one of sampler, test_pattern",
              producer);
  return make_sampler_factory();
}

}  // namespace sagbench::distributed
