// Every experiment YAML shipped under experiments/ (the paper tables and
// ablations in experiments/paper/, the bundle's in experiments/fashion/, any
// other folder) loads and binds the way `sagbench run` does, without weights:
// distributed::load_experiment, then per configuration its document, the
// producer's resolved config and identity, the `evaluator:` section, the
// `base:` section names (as `sagbench sample` checks them) and every guidance
// term of `guidance:` built by its registry factory against the model built
// on the meta device (so SAG layer choices are checked against the real
// architecture; classifier guidance binds its settings and builds the
// classifier on the meta device instead of loading its checkpoint).
// Published numbers (`published:` of a configuration) must be finite and in
// range, and the paper files must say what REFERENCE.md section 2 says.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "diffusion/sampling_job.h"
#include "distributed/experiment.h"
#include "distributed/producer_factory.h"
#include "evaluation/evaluator_config.h"
#include "guidance/classifier_guidance.h"
#include "guidance/guidance.h"
#include "guidance/sag.h"
#include "models/encoder_unet.h"
#include "models/unet.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;

// The sections of a sample config (src/cli/cmd_sample.cpp rejects others).
const char* const kSampleSections[] = {"model", "diffusion", "sampler", "sampling", "classifier", "guidance"};

fs::path source_dir() {
  return fs::path(__FILE__).parent_path().parent_path().parent_path();
}

// Every *.yaml under <source>/experiments, recursively, sorted.
std::vector<fs::path> experiment_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(source_dir() / "experiments")) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string relative_name(const fs::path& path) {
  return fs::relative(path, source_dir()).string();
}

// The `base:` section of a configuration's document as a document of its own.
config::Document base_document(const config::Document& document) {
  const config::Node* base = document.find("base");
  SAG_REQUIRE(base != nullptr, kConfig, "no base: section");
  return config::Document(*base, document.files(), document.overrides());
}

// Networks built on the meta device (no memory), by their model section.
class MetaModels {
 public:
  const models::UNetModel& get(const models::UNetConfig& config) {
    const std::string key = config::to_yaml_string(config);
    auto it = models_.find(key);
    if (it == models_.end()) {
      it = models_.emplace(key, std::make_unique<models::UNetModel>(config, at::Device(at::kMeta))).first;
    }
    return *it->second;
  }

 private:
  std::map<std::string, std::unique_ptr<models::UNetModel>> models_;
};

// What `sagbench run` binds for one configuration, short of loading weights
// and sampling; throws the binder's errors.
void check_configuration(const Experiment& experiment, const ConfigurationSpec& spec, MetaModels& models) {
  const config::Document document = experiment.configuration_document(spec);
  auto factory = make_producer_factory(experiment.settings.producer);
  EXPECT_FALSE(factory->identity(document).empty());
  config::bind<eval::EvaluatorConfig>(document, "evaluator");
  if (experiment.settings.producer != "sampler") {
    return;
  }
  const config::Document base = base_document(document);
  const config::Node& root = base.root();
  for (std::size_t i = 0; i < root.keys.size(); ++i) {
    const bool known = std::any_of(std::begin(kSampleSections), std::end(kSampleSections),
                                   [&](const char* section) { return root.keys[i] == section; });
    EXPECT_TRUE(known) << root.values[i].key_source.describe() << ": unknown section '" << root.keys[i]
                       << "' under base:";
  }
  const diffusion::SamplingSetup setup = diffusion::SamplingSetup::from_document(base);
  const models::UNetModel& model = models.get(setup.model);
  const config::Node* terms = base.find("guidance");
  if (terms == nullptr || terms->kind != config::NodeKind::kMap) {
    return;
  }
  for (const std::string& name : terms->keys) {
    const guidance::GuidanceRegistration* registration = guidance::find_guidance(name);
    ASSERT_NE(registration, nullptr) << "guidance." << name << " is not a registered term";
    const std::string section = "guidance." + name;
    if (name == "classifier") {
      // The factory would load the classifier's checkpoint: bind and build it on meta instead.
      const auto settings = config::bind<guidance::ClassifierGuidanceSettings>(base, section);
      if (settings.scale != 0.0) {
        ASSERT_TRUE(base.has("classifier")) << section << " needs a classifier: section";
        const auto classifier = config::bind<models::EncoderUNetConfig>(base, "classifier");
        EXPECT_FALSE(classifier.checkpoint.empty()) << "classifier.checkpoint is empty";
        models::EncoderUNetModel network(classifier, at::Device(at::kMeta));
      }
      continue;
    }
    guidance::GuidanceEnvironment env;
    env.document = &base;
    env.section = section;
    env.model = &model;
    env.device = at::Device(at::kMeta);
    registration->factory(env);
  }
}

void expect_published_in_range(const PublishedMetrics& p, const std::string& where) {
  auto finite_positive = [&](const std::optional<double>& v, const char* key) {
    if (v) {
      EXPECT_TRUE(std::isfinite(*v) && *v > 0.0) << where << ": published " << key << " = " << *v;
    }
  };
  auto unit_interval = [&](const std::optional<double>& v, const char* key) {
    if (v) {
      EXPECT_TRUE(std::isfinite(*v) && *v >= 0.0 && *v <= 1.0)
          << where << ": published " << key << " = " << *v;
    }
  };
  finite_positive(p.fid, "fid");
  finite_positive(p.sfid, "sfid");
  if (p.inception_score) {  // IS is at least 1 (uniform predictions)
    EXPECT_TRUE(std::isfinite(*p.inception_score) && *p.inception_score >= 1.0)
        << where << ": published inception_score = " << *p.inception_score;
  }
  unit_interval(p.precision, "precision");
  unit_interval(p.recall, "recall");
  EXPECT_FALSE(p.source.empty()) << where << ": published numbers without a source";
}

TEST(ExperimentFiles, EveryFileLoadsAndEveryConfigurationBinds) {
  const std::vector<fs::path> files = experiment_files();
  ASSERT_FALSE(files.empty()) << "no *.yaml under " << (source_dir() / "experiments");
  MetaModels models;
  for (const fs::path& path : files) {
    SCOPED_TRACE(relative_name(path));
    std::optional<Experiment> experiment;
    try {
      experiment = load_experiment(path.string());
    } catch (const Error& e) {
      ADD_FAILURE() << relative_name(path) << " does not load: " << e.what();
      continue;
    }
    EXPECT_FALSE(experiment->configurations.empty());
    for (const ConfigurationSpec& spec : experiment->configurations) {
      SCOPED_TRACE("configuration " + spec.name);
      try {
        check_configuration(*experiment, spec, models);
      } catch (const Error& e) {
        ADD_FAILURE() << relative_name(path) << ", configuration " << spec.name << ": " << e.what();
      }
    }
  }
}

TEST(ExperimentFiles, PublishedNumbersAreInRange) {
  int with_published = 0;
  for (const fs::path& path : experiment_files()) {
    Experiment experiment;
    try {
      experiment = load_experiment(path.string());
    } catch (const Error&) {
      continue;  // reported by EveryFileLoadsAndEveryConfigurationBinds
    }
    bool any = false;
    for (const ConfigurationSpec& spec : experiment.configurations) {
      if (!spec.published.empty()) {
        any = true;
        expect_published_in_range(spec.published, relative_name(path) + ", configuration " + spec.name);
      }
    }
    with_published += any ? 1 : 0;
  }
  EXPECT_GE(with_published, 1) << "no experiment file carries published numbers";
}

// The settings of one configuration of a paper file, as REFERENCE.md section 2 gives them.
struct PaperRow {
  const char* file;
  const char* configuration;
  double s;
  const char* block;
  int depth;
  double blur_sigma;
  double classifier_scale;  // 0: none
  const char* sampler;
  const char* respacing;
  std::int64_t batch_size;
  std::optional<double> fid;  // published FID
};

TEST(ExperimentFiles, PaperFilesUseThePublishedSettings) {
  const std::vector<PaperRow> rows = {
      {"imagenet256_uncond.yaml", "baseline", 0.0, "output", 2, 9, 0, "ddpm", "250", 16, 26.21},
      {"imagenet256_uncond.yaml", "sag_s0.5", 0.5, "output", 2, 9, 0, "ddpm", "250", 16, 20.31},
      {"imagenet256_uncond.yaml", "sag_s0.8", 0.8, "output", 2, 9, 0, "ddpm", "250", 16, 20.08},
      {"imagenet256_cond.yaml", "baseline", 0.0, "output", 2, 9, 0, "ddpm", "250", 16, 10.94},
      {"imagenet256_cond.yaml", "sag_s0.2", 0.2, "output", 2, 9, 0, "ddpm", "250", 16, 9.41},
      {"imagenet128_cond.yaml", "none", 0.0, "output", 8, 3, 0, "ddpm", "250", 64, 5.91},
      {"imagenet128_cond.yaml", "cg", 0.0, "output", 8, 3, 0.5, "ddpm", "250", 64, 2.97},
      {"imagenet128_cond.yaml", "sag", 0.1, "output", 8, 3, 0, "ddpm", "250", 64, 5.11},
      {"imagenet128_cond.yaml", "sag_cg", 0.1, "output", 8, 3, 0.5, "ddpm", "250", 64, 2.58},
      {"imagenet128_ddim25.yaml", "sag_cg", 0.1, "output", 8, 3, 1.0, "ddim", "ddim25", 64, std::nullopt},
      {"lsun_cat.yaml", "baseline", 0.0, "output", 2, 9, 0, "ddpm", "250", 16, 7.03},
      {"lsun_cat.yaml", "sag_s0.05", 0.05, "output", 2, 9, 0, "ddpm", "250", 16, 6.87},
      {"lsun_horse.yaml", "baseline", 0.0, "output", 2, 9, 0, "ddpm", "250", 16, 3.45},
      {"lsun_horse.yaml", "sag_s0.01", 0.01, "output", 2, 9, 0, "ddpm", "250", 16, 3.43},
  };
  for (const PaperRow& row : rows) {
    SCOPED_TRACE(std::string(row.file) + ", configuration " + row.configuration);
    const Experiment experiment = load_experiment((source_dir() / "experiments/paper" / row.file).string());
    EXPECT_EQ(experiment.settings.num_samples, 50000);
    EXPECT_EQ(experiment.settings.batch_size, row.batch_size);
    const auto spec = std::find_if(experiment.configurations.begin(), experiment.configurations.end(),
                                   [&](const ConfigurationSpec& c) { return c.name == row.configuration; });
    ASSERT_NE(spec, experiment.configurations.end());
    const config::Document base = base_document(experiment.configuration_document(*spec));
    const auto sag = config::bind<guidance::SagSettings>(base, "guidance.sag");
    EXPECT_DOUBLE_EQ(sag.paper_scale(), row.s);
    EXPECT_EQ(sag.mode, "sag");
    EXPECT_EQ(sag.attention_map, "official");
    EXPECT_EQ(sag.layer.block, row.block);
    EXPECT_EQ(sag.layer.depth, row.depth);
    EXPECT_DOUBLE_EQ(sag.blur_sigma, row.blur_sigma);
    EXPECT_DOUBLE_EQ(sag.threshold, 1.0);
    EXPECT_EQ(sag.blur_kernel_size, 31);
    EXPECT_FALSE(sag.guide_start.has_value());
    const double classifier_scale =
        base.has("guidance.classifier")
            ? config::bind<guidance::ClassifierGuidanceSettings>(base, "guidance.classifier").scale
            : 0.0;
    EXPECT_DOUBLE_EQ(classifier_scale, row.classifier_scale);
    const diffusion::SamplingSetup setup = diffusion::SamplingSetup::from_document(base);
    EXPECT_EQ(setup.sampler.kind, row.sampler);
    EXPECT_EQ(setup.sampler.timestep_respacing.value_or(setup.diffusion.timestep_respacing), row.respacing);
    EXPECT_EQ(spec->published.fid.has_value(), row.fid.has_value());
    EXPECT_EQ(spec->published.fid.value_or(0.0), row.fid.value_or(0.0));
  }
}

// The layer ablation selects distinct attention sites of the ImageNet 256 model.
TEST(ExperimentFiles, LayerAblationCoversDistinctAttentionSites) {
  const Experiment experiment =
      load_experiment((source_dir() / "experiments/paper/ablation_layer.yaml").string());
  MetaModels models;
  std::vector<std::pair<std::string, int>> selected;
  for (const ConfigurationSpec& spec : experiment.configurations) {
    const config::Document base = base_document(experiment.configuration_document(spec));
    const auto sag = config::bind<guidance::SagSettings>(base, "guidance.sag");
    if (sag.paper_scale() == 0.0) {
      continue;
    }
    const models::UNetModel& model = models.get(diffusion::SamplingSetup::from_document(base).model);
    const int depth = sag.layer.block == "middle" ? 0 : sag.layer.depth;
    const auto& sites = model.sites();
    const bool is_site = std::any_of(sites.begin(), sites.end(), [&](const models::AttentionSite& site) {
      return models::attention_block_name(site.block) == sag.layer.block && site.depth == depth;
    });
    EXPECT_TRUE(is_site) << spec.name << ": " << sag.layer.block << " " << depth;
    EXPECT_EQ(std::count(selected.begin(), selected.end(), std::make_pair(sag.layer.block, depth)), 0)
        << spec.name;
    selected.emplace_back(sag.layer.block, depth);
  }
  EXPECT_GE(selected.size(), 5u);
}

}  // namespace
}  // namespace sagbench::distributed
