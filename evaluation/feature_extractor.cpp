// The feature-extractor registry (see feature_extractor.h) and the evaluator
// config's checks. "fid-inception" is built in; a domain network registers
// its factory under its own name before the config is resolved.
#include "evaluation/feature_extractor.h"

#include <fmt/format.h>

#include <map>
#include <mutex>

#include "core/error.h"
#include "evaluation/evaluator_config.h"
#include "evaluation/inception_extractor.h"

namespace sagbench::eval {

namespace {

std::unique_ptr<FeatureExtractor> make_inception(const EvaluatorConfig& config) {
  InceptionExtractorOptions options;
  options.weights_path = config.weights;
  options.mode = parse_preprocess_mode(config.mode);
  options.device = config.device;
  options.precision = parse_network_precision(config.precision);
  return std::make_unique<InceptionExtractor>(options);
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, FeatureExtractorFactory> factories{{"fid-inception", make_inception}};
};

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

void register_feature_extractor(const std::string& name, FeatureExtractorFactory factory) {
  SAG_CHECK(!name.empty() && factory, "a feature extractor needs a name and a factory");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.factories[name] = std::move(factory);
}

std::vector<std::string> feature_extractor_names() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, factory] : r.factories) {
    names.push_back(name);
  }
  return names;
}

std::unique_ptr<FeatureExtractor> make_feature_extractor(const EvaluatorConfig& config) {
  config.validate();
  FeatureExtractorFactory factory;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    const auto it = r.factories.find(config.extractor);
    if (it != r.factories.end()) {
      factory = it->second;
    }
  }
  SAG_REQUIRE(factory != nullptr, kConfig, "unknown feature extractor '{}' (known: {})", config.extractor,
              fmt::join(feature_extractor_names(), ", "));
  return factory(config);
}

void EvaluatorConfig::validate() const {
  SAG_REQUIRE(batch_size >= 1, kConfig, "evaluator.batch_size must be >= 1, got {}", batch_size);
  SAG_REQUIRE(pr_k >= 1, kConfig, "evaluator.pr_k must be >= 1, got {}", pr_k);
  SAG_REQUIRE(pr_block >= 1, kConfig, "evaluator.pr_block must be >= 1, got {}", pr_block);
  SAG_REQUIRE(is_split_size >= 1, kConfig, "evaluator.is_split_size must be >= 1, got {}", is_split_size);
  SAG_REQUIRE(!extractor.empty(), kConfig, "evaluator.extractor must be set");
}

}  // namespace sagbench::eval
