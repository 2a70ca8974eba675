// SAG against the SAG repository's own output on the tiny fixture networks
// (../shared/fixtures/adm_tiny_{uncond,cond}_{ddpm10,ddim10}.npz): the 10-step
// trajectories `sag_official`, `sag_exact` (unconditional), `sag_official` and
// `sag_cg_official` (conditional, + classifier guidance), and the degraded
// input x~_t of the first step (`*_first_degraded`), which isolates the mask /
// blur / re-noise stage. Settings come from the fixture .json (guide_scale,
// blur_sigma, blur_kernel_size, sel_attn_block / sel_attn_depth,
// classifier_scale); noise and labels are replayed from the file.
#include <gtest/gtest.h>

#include "guidance/classifier_guidance.h"
#include "guidance/sag.h"
#include "guidance_test_support.h"

namespace sagbench::guidance {
namespace {

using testing::fixture_json;

// The first degraded input is one forward pass, a threshold, a blur and a
// re-noise in float32: summation order moves a forward by ~1e-6 relative, so
// 1e-4 relative L2 leaves ~100x margin, while a wrong mask, kernel, padding or
// re-noising changes x~_t by 1e-2 or more. Trajectories use the diffusion
// suite's bound (1e-3, reasoned in tests/diffusion/trajectory_support.h).
constexpr double kFirstDegradedTolerance = 1e-4;

struct ParityCase {
  const char* model;       // "adm_tiny_uncond" / "adm_tiny_cond"
  const char* kind;        // "ddpm10" / "ddim10"
  const char* trajectory;  // the array name in the npz
  const char* map;         // attention_map
  bool classifier;         // add classifier guidance (classifier_scale from the json)
};

// Readable parameters in test listings (ctest shows GetParam()).
void PrintTo(const ParityCase& c, std::ostream* out) {
  *out << c.model << "_" << c.kind << " " << c.trajectory << " (map " << c.map << ")";
}

std::string case_name(const ::testing::TestParamInfo<ParityCase>& info) {
  return std::string(info.param.model).substr(9) + "_" + info.param.kind + "_" + info.param.trajectory;
}

GuidanceChain fixture_chain(const ParityCase& c) {
  const auto meta = fixture_json(c.model);
  SagSettings settings;
  settings.guide_scale = meta.at("guide_scale").get<double>();
  settings.blur_sigma = meta.at("blur_sigma").get<double>();
  settings.blur_kernel_size = meta.at("blur_kernel_size").get<std::int64_t>();
  settings.attention_map = c.map;
  settings.layer.block = meta.at("flags").at("sel_attn_block").get<std::string>();
  settings.layer.depth = meta.at("flags").at("sel_attn_depth").get<int>();
  std::vector<std::unique_ptr<GuidanceTerm>> terms;
  terms.push_back(std::make_unique<SelfAttentionGuidance>(settings));
  if (c.classifier) {
    ClassifierGuidanceSettings cg;
    cg.scale = meta.at("classifier_scale").get<double>();
    terms.push_back(std::make_unique<ClassifierGuidance>(
        std::make_shared<EncoderUNetClassifier>(models::build_classifier(testing::tiny_classifier_config())),
        cg));
  }
  return GuidanceChain(std::move(terms));
}

// The degraded input SAG builds at the first step (t = T - 1) from the file's x_T.
at::Tensor first_degraded_input(const ParityCase& c, GuidanceChain& chain, const io::TensorDict& arrays) {
  torch::NoGradGuard no_grad;
  const diffusion::GaussianDiffusion process =
      testing::tiny_process(c.model, c.kind == std::string("ddpm10") ? "10" : c.kind);
  diffusion::StepContext ctx;
  ctx.diffusion = &process;
  ctx.t = process.num_steps() - 1;
  ctx.x_t = arrays.at("x_T");
  ctx.model_timesteps = process.model_timesteps(ctx.t, ctx.x_t.size(0), at::kCPU);
  if (const at::Tensor* y = arrays.find("y")) {
    ctx.y = ctx.labels = *y;
  }
  testing::RecordingDenoiser model(testing::tiny_unet(c.model));
  diffusion::StepModel step_model(process, model, ctx.t, ctx.model_timesteps);
  chain.predict(ctx, step_model);
  EXPECT_EQ(model.inputs.size(), 2u);  // x_t, then x~_t
  return model.inputs.back();
}

class SagParity : public ::testing::TestWithParam<ParityCase> {};

TEST_P(SagParity, TrajectoryAndFirstDegradedInputMatchTheSagRepository) {
  const ParityCase& c = GetParam();
  const std::string file = std::string(c.model) + "_" + c.kind;
  const io::TensorDict arrays = io::read_npz(sagbench::testing::fixture_path(file + ".npz"));
  GuidanceChain chain = fixture_chain(c);

  // The conditional files store the first degraded input once, under
  // sag_cg_official: classifier guidance acts after it, so it is SAG's too.
  const std::string degraded_key =
      std::string(arrays.contains("baseline") ? c.trajectory : "sag_cg_official") + "_first_degraded";
  EXPECT_LE(testing::relative_l2(first_degraded_input(c, chain, arrays), arrays.at(degraded_key)),
            kFirstDegradedTolerance)
      << file << " " << degraded_key;

  const auto run = diffusion::testing::run_fixture_trajectory(c.model, c.kind, &chain, arrays);
  diffusion::testing::expect_trajectory_close(run.steps, arrays.at(c.trajectory), file + " " + c.trajectory);
  // Guidance must move the sample well beyond the tolerance, or the check above proves nothing.
  const at::Tensor* unguided = arrays.find(c.classifier ? "cg" : "baseline");
  if (unguided != nullptr) {
    EXPECT_GT(testing::relative_l2(run.steps[-1], (*unguided)[-1]),
              10 * diffusion::testing::kTrajectoryRelativeL2);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, SagParity,
    ::testing::Values(ParityCase{"adm_tiny_uncond", "ddpm10", "sag_official", "official", false},
                      ParityCase{"adm_tiny_uncond", "ddpm10", "sag_exact", "exact", false},
                      ParityCase{"adm_tiny_uncond", "ddim10", "sag_official", "official", false},
                      ParityCase{"adm_tiny_uncond", "ddim10", "sag_exact", "exact", false},
                      ParityCase{"adm_tiny_cond", "ddpm10", "sag_official", "official", false},
                      ParityCase{"adm_tiny_cond", "ddim10", "sag_official", "official", false},
                      ParityCase{"adm_tiny_cond", "ddpm10", "sag_cg_official", "official", true},
                      ParityCase{"adm_tiny_cond", "ddim10", "sag_cg_official", "official", true}),
    case_name);

}  // namespace
}  // namespace sagbench::guidance
