// Config document -> SamplingJob with guidance. See guided_sampling.h.
#include "guidance/guided_sampling.h"

#include "guidance/guidance.h"
#include "models/model_loading.h"

namespace sagbench::guidance {

std::unique_ptr<diffusion::SamplingJob> build_sampling_job(const config::Document& document,
                                                           at::Device device,
                                                           std::shared_ptr<models::UNetModel> model) {
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
  return job;
}

}  // namespace sagbench::guidance
