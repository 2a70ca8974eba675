// One call from a resolved config document to a ready sampling job: the
// model (built from `model:` and loaded strictly, or a shared one), the
// respaced process and sampler, and the guidance chain of `guidance:`.
// `sagbench sample` and the distributed sample producer both start here.
// Tested by tests/guidance/guided_sampling_test.cpp.
#pragma once

#include <torch/types.h>
#include <yaml-cpp/yaml.h>

#include <memory>

#include "config/document.h"
#include "diffusion/sampling_job.h"

namespace sagbench::guidance {

// kConfig naming the file and line of a top-level key that is not one of the
// sections of a sampling document (model, diffusion, sampler, sampling,
// classifier, guidance). resolved_sampling_config and build_sampling_job call it.
void check_sampling_sections(const config::Document& document);

// Labels are checked (SamplingJob::check_labels) before the job is returned.
// `model`, when given, must have been built from the document's `model:`
// section (experiments share one loaded network between configurations).
// The job's resolved config for config.yaml / shard identities: every key of
// model:, diffusion:, sampler:, sampling: (and classifier:) with defaults, and
// the guidance: section as written (its keys belong to the terms).
YAML::Node resolved_sampling_config(const config::Document& document);

std::unique_ptr<diffusion::SamplingJob> build_sampling_job(
    const config::Document& document, at::Device device, std::shared_ptr<models::UNetModel> model = nullptr);

}  // namespace sagbench::guidance
