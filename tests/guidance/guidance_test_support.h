// Helpers shared by the SAG / CFG tests, on top of the diffusion suite's
// fixture helpers (tests/diffusion/trajectory_support.h: tiny models, process,
// fixture trajectories and their tolerance; the fixture classifier is in
// tests/models/model_test_support.h): a Denoiser that records every input it
// sees (the second input of a SAG step is the degraded x~_t), and a relative
// L2 distance.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "diffusion/trajectory_support.h"

namespace sagbench::guidance::testing {

using diffusion::testing::tiny_unet;
using models::testing::fixture_json;
using models::testing::tiny_classifier_config;

// The fixture's process (tiny_diffusion_config) respaced by "10" or "ddim10".
inline diffusion::GaussianDiffusion tiny_process(const std::string& model_name,
                                                 const std::string& respacing) {
  return diffusion::make_diffusion(diffusion::testing::tiny_diffusion_config(model_name), respacing);
}

// A UNet as the sampler's Denoiser (UNetDenoiser) that keeps a copy of every input x.
class RecordingDenoiser : public diffusion::Denoiser {
 public:
  explicit RecordingDenoiser(std::shared_ptr<models::UNetModel> model) : inner_(std::move(model)) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& y,
                     models::AttentionProbe* probe) override {
    inputs.push_back(x.clone());
    return inner_.forward(x, timesteps, y, probe);
  }
  std::vector<at::Tensor> inputs;

 private:
  diffusion::UNetDenoiser inner_;
};

// ||actual - expected|| / ||expected|| in float64.
inline double relative_l2(const at::Tensor& actual, const at::Tensor& expected) {
  const at::Tensor a = actual.to(at::kDouble);
  const at::Tensor e = expected.to(at::kDouble);
  return (a - e).norm().item<double>() / e.norm().item<double>();
}

}  // namespace sagbench::guidance::testing
