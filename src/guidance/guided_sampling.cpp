// Config document -> SamplingJob with guidance and the resolved config of a
// sample run. Tested by tests/guidance/guided_sampling_test.cpp and
// tests/cli/sample_test.cpp.
#include "guidance/guided_sampling.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/config.h"
#include "core/error.h"
#include "guidance/guidance.h"
#include "models/model_loading.h"

namespace sagbench::guidance {
namespace {

// A document node as YAML.
YAML::Node to_yaml_node(const config::Node& node) {
  switch (node.kind) {
    case config::NodeKind::kScalar:
      return YAML::Node(node.scalar);
    case config::NodeKind::kSequence: {
      YAML::Node out(YAML::NodeType::Sequence);
      for (const auto& item : node.items) {
        out.push_back(to_yaml_node(item));
      }
      return out;
    }
    case config::NodeKind::kMap: {
      YAML::Node out(YAML::NodeType::Map);
      for (std::size_t i = 0; i < node.keys.size(); ++i) {
        out[node.keys[i]] = to_yaml_node(node.values[i]);
      }
      return out;
    }
    case config::NodeKind::kNull:
      break;
  }
  return YAML::Node(YAML::NodeType::Null);
}

// The sections a sampling document may hold (includes are resolved by the loader).
const char* const kSamplingSections[] = {"model",    "diffusion",  "sampler",
                                         "sampling", "classifier", "guidance"};

}  // namespace

void check_sampling_sections(const config::Document& document) {
  const config::Node& root = document.root();
  for (std::size_t i = 0; i < root.keys.size(); ++i) {
    bool known = false;
    for (const char* section : kSamplingSections) {
      known = known || root.keys[i] == section;
    }
    SAG_REQUIRE(known, kConfig, "{}: unknown section '{}' (a sampling config holds {})",
                root.values[i].key_source.describe(), root.keys[i], fmt::join(kSamplingSections, ", "));
  }
}

YAML::Node resolved_sampling_config(const config::Document& document) {
  check_sampling_sections(document);
  const diffusion::SamplingSetup setup = diffusion::SamplingSetup::from_document(document);
  YAML::Node root(YAML::NodeType::Map);
  root["model"] = config::to_yaml(setup.model);
  root["diffusion"] = config::to_yaml(setup.diffusion);
  root["sampler"] = config::to_yaml(setup.sampler);
  root["sampling"] = config::to_yaml(setup.sampling);
  if (document.has("classifier")) {
    root["classifier"] = config::to_yaml(config::bind<models::EncoderUNetConfig>(document, "classifier"));
  }
  if (const config::Node* guidance = document.find("guidance")) {
    root["guidance"] = to_yaml_node(*guidance);
  }
  return root;
}

std::unique_ptr<diffusion::SamplingJob> build_sampling_job(const config::Document& document,
                                                           at::Device device,
                                                           std::shared_ptr<models::UNetModel> model) {
  check_sampling_sections(document);
  diffusion::SamplingSetup setup = diffusion::SamplingSetup::from_document(document);
  if (model == nullptr) {
    model = models::build_unet(setup.model, device);
  }
  auto job = std::make_unique<diffusion::SamplingJob>(std::move(setup), std::move(model), device);
  GuidanceEnvironment env;
  env.document = &document;
  env.section = "guidance";
  env.diffusion = &job->diffusion();
  env.model = &job->model();
  env.device = device;
  auto chain = std::make_unique<GuidanceChain>(build_guidance_chain(env));
  if (!chain->empty()) {
    job->set_guidance(std::move(chain));
  }
  job->check_labels();
  return job;
}

}  // namespace sagbench::guidance
