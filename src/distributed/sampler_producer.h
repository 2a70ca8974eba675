// The diffusion sampler as the producer of a distributed run. A
// configuration's `base:` is a `sagbench sample` config (model:, diffusion:,
// sampler:, sampling:, guidance:, classifier:); guidance::build_sampling_job
// turns it into a SamplingJob whose sample(begin, end) is the unit of work —
// noise and labels keyed by (seed, sample index, step), so a shard is the same
// whoever computes it. Configurations whose `model:` sections are equal share
// one loaded network (one model load per experiment for a sweep).
// experiment.num_samples and batch_size replace sampling.num_samples and
// batch_size; samples become uint8 NHWC as upstream image_sample.py does.
// Tested by tests/distributed/sampler_producer_test.cpp (tiny fixture model).
#pragma once

#include <memory>

#include "distributed/producer_factory.h"

namespace sagbench::distributed {

std::unique_ptr<ProducerFactory> make_sampler_factory();

}  // namespace sagbench::distributed
