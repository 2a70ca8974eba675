// Builds the sample producer of each configuration of an experiment from its
// document (the `base:` section holds the producer's keys) and states the
// configuration's identity: the resolved base without runtime keys (batch
// size, device), hashed into the shard manifest so that shards are reused
// across batch and world sizes and never across configurations.
// Implementations cache what configurations share (the sampler's model is
// loaded once per experiment). Tested by tests/distributed/producer_factory_test.cpp.
#pragma once

#include <ATen/ATen.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "config/config.h"
#include "distributed/sample_producer.h"

namespace sagbench::distributed {

class ProducerFactory {
 public:
  virtual ~ProducerFactory() = default;
  // The resolved `base:` section (every key, defaults included), written to config.yaml.
  virtual YAML::Node resolved(const config::Document& document) = 0;
  // The text that defines the images; equal texts give identical shards.
  virtual std::string identity(const config::Document& document) = 0;
  // The configuration's producer on `device`.
  virtual std::unique_ptr<SampleProducer> make(const config::Document& document, at::Device device) = 0;
  // One line for logs and provenance ("test pattern", "adm_tiny_uncond.pt on cuda:0").
  virtual std::string describe() const = 0;
};

// `producer` is ExperimentSettings::producer: "sampler" or "test_pattern".
std::unique_ptr<ProducerFactory> make_producer_factory(const std::string& producer);

}  // namespace sagbench::distributed
