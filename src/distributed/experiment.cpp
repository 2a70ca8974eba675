// Experiment files: settings, configurations and sweeps (see experiment.h).
#include "distributed/experiment.h"

#include <filesystem>
#include <set>

#include "core/error.h"
#include "evaluation/evaluator.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;

const std::vector<std::string> kTopLevelKeys = {"experiment", "base", "evaluator", "configurations",
                                                "sweeps"};

// The configurations and sweeps, bound from a document holding only them.
struct ConfigurationLists {
  std::vector<ConfigurationSpec> configurations;
  std::vector<SweepSpec> sweeps;

  template <class V>
  void visit(V& v) {
    v("configurations", configurations, "named override sets over base");
    v("sweeps", sweeps, "one key of base over a list of values");
  }
};

bool is_path_component(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

std::string where(const config::Document& document, const std::string& key_path) {
  const config::Node* node = document.find(key_path);
  return node != nullptr ? node->source.describe() : document.files().front();
}

void check_override(const std::string& text, const std::string& context) {
  const std::size_t equals = text.find('=');
  SAG_REQUIRE(equals != std::string::npos && equals > 0, kConfig,
              "{}: override '{}' must be key=value (a key of base)", context, text);
}

}  // namespace

void ExperimentSettings::validate() const {
  SAG_REQUIRE(is_path_component(name), kConfig, "experiment.name '{}' must be one non-empty path component",
              name);
  SAG_REQUIRE(num_samples >= 1, kConfig, "experiment.num_samples must be >= 1, got {}", num_samples);
  SAG_REQUIRE(shard_size >= 1, kConfig, "experiment.shard_size must be >= 1, got {}", shard_size);
  SAG_REQUIRE(batch_size >= 1, kConfig, "experiment.batch_size must be >= 1, got {}", batch_size);
  SAG_REQUIRE(timeout_s > 0, kConfig, "experiment.timeout_s must be positive, got {}", timeout_s);
  if (evaluate) {
    try {
      eval::parse_metric_selection(metrics);
    } catch (const Error& e) {
      SAG_FAIL(kConfig, "experiment.metrics: {}", e.what());
    }
    SAG_REQUIRE(!reference.empty(), kConfig,
                "experiment.reference must name a reference batch when experiment.evaluate is true");
  }
}

config::Document Experiment::configuration_document(const ConfigurationSpec& configuration) const {
  config::Document out = document;
  for (const std::string& item : configuration.overrides) {
    out.apply_override("base." + item);
  }
  return out;
}

std::string Experiment::run_dir(const ConfigurationSpec& configuration) const {
  return (fs::path(settings.output_dir) / settings.name / configuration.name).string();
}

Experiment load_experiment(const std::string& path, const std::vector<std::string>& overrides) {
  Experiment experiment;
  experiment.path = path;
  experiment.document = config::load_document(path, overrides);
  const config::Node& root = experiment.document.root();
  for (std::size_t i = 0; i < root.keys.size(); ++i) {
    bool known = false;
    for (const std::string& key : kTopLevelKeys) {
      known = known || key == root.keys[i];
    }
    SAG_REQUIRE(known, kConfig,
                "{}: unknown top-level key '{}' of an experiment (expected experiment, base, "
                "evaluator, configurations, sweeps)",
                root.values[i].key_source.describe(), root.keys[i]);
  }
  SAG_REQUIRE(root.find("experiment") != nullptr, kConfig, "{}: an experiment needs an 'experiment:' section",
              path);
  experiment.settings = config::bind<ExperimentSettings>(experiment.document, "experiment");

  config::Node lists_node;
  for (const char* key : {"configurations", "sweeps"}) {
    if (const config::Node* node = root.find(key)) {
      lists_node.set(key, *node);
    }
  }
  const config::Document lists_document(lists_node, experiment.document.files(),
                                        experiment.document.overrides());
  const auto lists = config::bind<ConfigurationLists>(lists_document);

  std::set<std::string> names;
  auto add = [&](ConfigurationSpec spec, const std::string& key_path) {
    const std::string context = where(lists_document, key_path);
    SAG_REQUIRE(is_path_component(spec.name), kConfig,
                "{}: configuration name '{}' must be one non-empty path component", context, spec.name);
    SAG_REQUIRE(names.insert(spec.name).second, kConfig, "{}: configuration name '{}' is used twice", context,
                spec.name);
    for (const std::string& item : spec.overrides) {
      check_override(item, context);
    }
    experiment.configurations.push_back(std::move(spec));
  };
  for (std::size_t i = 0; i < lists.configurations.size(); ++i) {
    add(lists.configurations[i], "configurations." + std::to_string(i));
  }
  for (std::size_t i = 0; i < lists.sweeps.size(); ++i) {
    const SweepSpec& sweep = lists.sweeps[i];
    const std::string key_path = "sweeps." + std::to_string(i);
    const std::string context = where(lists_document, key_path);
    SAG_REQUIRE(!sweep.key.empty() && !sweep.values.empty(), kConfig, "{}: a sweep needs a key and values",
                context);
    SAG_REQUIRE(sweep.name.find("{}") != std::string::npos, kConfig,
                "{}: sweep name '{}' must contain {{}} (replaced by each value)", context, sweep.name);
    for (const std::string& value : sweep.values) {
      ConfigurationSpec spec;
      spec.name = sweep.name;
      spec.name.replace(spec.name.find("{}"), 2, value);
      spec.overrides.push_back(sweep.key + "=" + value);
      spec.overrides.insert(spec.overrides.end(), sweep.overrides.begin(), sweep.overrides.end());
      spec.sweep = sweep.name;
      spec.sweep_key = sweep.key;
      spec.sweep_value = value;
      add(std::move(spec), key_path);
    }
  }
  if (experiment.configurations.empty()) {
    ConfigurationSpec base;
    base.name = "base";
    experiment.configurations.push_back(base);
  }
  return experiment;
}

}  // namespace sagbench::distributed
