// The guidance chain: hook order across terms (probe request, prediction,
// eps-level terms in config order, then mean / score terms), composition
// errors, building from the `guidance:` map, and that an empty chain samples
// exactly like no guidance.
#include <gtest/gtest.h>

#include "config/config.h"
#include "core/error.h"
#include "diffusion/beta_schedule.h"
#include "diffusion/noise.h"
#include "diffusion/respacing.h"
#include "diffusion/sampler.h"
#include "guidance/guidance.h"
#include "models/attention_probe.h"

namespace sagbench::guidance {
namespace {

using diffusion::Denoiser;

// eps = 0.2 x; records whether each forward had a probe attached.
class ProbeRecordingDenoiser : public Denoiser {
 public:
  at::Tensor forward(const at::Tensor& x, const at::Tensor&, const at::Tensor&,
                     models::AttentionProbe* probe) override {
    probed.push_back(probe != nullptr);
    return 0.2 * x;
  }
  std::vector<bool> probed;
};

// A term that logs every hook it receives into a shared journal.
class JournalTerm : public GuidanceTerm {
 public:
  JournalTerm(std::string name, std::vector<std::string>* journal, bool predictor = false,
              bool probes = false)
      : name_(std::move(name)), journal_(journal), predictor_(predictor), probes_(probes) {}
  std::string name() const override { return name_; }
  std::string describe() const override { return name_ + " journal"; }
  models::AttentionProbe* reference_probe(const StepContext&) override {
    journal_->push_back(name_ + ".probe");
    return probes_ ? &probe_ : nullptr;
  }
  bool replaces_prediction() const override { return predictor_; }
  Prediction predict(const StepContext& ctx, StepModel& model, models::AttentionProbe* probe) override {
    journal_->push_back(name_ + ".predict" + (probe != nullptr ? "+probe" : ""));
    return diffusion::plain_prediction(ctx, model, probe);
  }
  void guide_eps(const StepContext&, StepModel&, Prediction&) override {
    journal_->push_back(name_ + ".eps");
  }
  void guide_mean(const StepContext&, const VarianceTerms&, at::Tensor&) override {
    journal_->push_back(name_ + ".mean");
  }
  void guide_xstart(const StepContext&, at::Tensor&) override { journal_->push_back(name_ + ".xstart"); }

 private:
  std::string name_;
  std::vector<std::string>* journal_;
  bool predictor_;
  bool probes_;
  models::AttentionProbe probe_;
};

diffusion::GaussianDiffusion two_step_process() {
  return diffusion::GaussianDiffusion(diffusion::linear_beta_schedule(1000),
                                      diffusion::space_timesteps(1000, "2"), {});
}

at::Tensor run(diffusion::StepGuidance* guidance, diffusion::SamplerKind kind,
               ProbeRecordingDenoiser& model) {
  const auto process = two_step_process();
  diffusion::SamplerOptions options;
  options.kind = kind;
  return diffusion::Sampler(process, options)
      .sample(model, diffusion::CounterNoise(3), guidance, {0, 2, {}}, std::vector<std::int64_t>{3, 4, 4},
              at::kCPU);
}

std::vector<std::unique_ptr<GuidanceTerm>> journal_terms(std::vector<std::string>* journal) {
  std::vector<std::unique_ptr<GuidanceTerm>> terms;
  terms.push_back(std::make_unique<JournalTerm>("a", journal, false, true));
  terms.push_back(std::make_unique<JournalTerm>("b", journal, true, false));
  terms.push_back(std::make_unique<JournalTerm>("c", journal));
  return terms;
}

TEST(GuidanceChain, CallsHooksInTheDocumentedOrder) {
  std::vector<std::string> journal;
  GuidanceChain chain(journal_terms(&journal));
  ProbeRecordingDenoiser model;
  run(&chain, diffusion::SamplerKind::kDdpm, model);
  const std::vector<std::string> one_step = {"a.probe", "b.probe", "c.probe", "b.predict+probe", "a.eps",
                                             "b.eps",   "c.eps",   "a.mean",  "b.mean",          "c.mean"};
  ASSERT_EQ(journal.size(), 2 * one_step.size());
  EXPECT_EQ(std::vector<std::string>(journal.begin(), journal.begin() + 10), one_step);
  EXPECT_EQ(model.probed, (std::vector<bool>{true, true}));  // the predictor attached a's probe

  journal.clear();
  GuidanceChain ddim_chain(journal_terms(&journal));
  run(&ddim_chain, diffusion::SamplerKind::kDdim, model);
  EXPECT_EQ(journal[7], "a.xstart");
  EXPECT_EQ(std::count(journal.begin(), journal.end(), "a.mean"), 0);
}

TEST(GuidanceChain, RefusesTwoPredictorsOrTwoProbes) {
  std::vector<std::string> journal;
  std::vector<std::unique_ptr<GuidanceTerm>> predictors;
  predictors.push_back(std::make_unique<JournalTerm>("cfg1", &journal, true));
  predictors.push_back(std::make_unique<JournalTerm>("cfg2", &journal, true));
  EXPECT_THROW(GuidanceChain{std::move(predictors)}, Error);

  std::vector<std::unique_ptr<GuidanceTerm>> probers;
  probers.push_back(std::make_unique<JournalTerm>("sag1", &journal, false, true));
  probers.push_back(std::make_unique<JournalTerm>("sag2", &journal, false, true));
  GuidanceChain chain(std::move(probers));
  ProbeRecordingDenoiser model;
  try {
    run(&chain, diffusion::SamplerKind::kDdpm, model);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("sag1"), std::string::npos);
  }
}

TEST(GuidanceChain, EmptyChainSamplesExactlyLikeNoGuidance) {
  GuidanceChain empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.describe(), "none");
  ProbeRecordingDenoiser model;
  for (auto kind : {diffusion::SamplerKind::kDdpm, diffusion::SamplerKind::kDdim}) {
    EXPECT_TRUE(at::equal(run(&empty, kind, model), run(nullptr, kind, model)));
  }
  EXPECT_EQ(std::count(model.probed.begin(), model.probed.end(), true), 0);
}

TEST(GuidanceChain, BuildsFromTheGuidanceMap) {
  GuidanceEnvironment env;
  const auto none = config::parse_document("sampler: {kind: ddpm}");
  env.document = &none;
  EXPECT_TRUE(build_guidance_chain(env).empty());

  const auto off = config::parse_document("guidance: {classifier: {scale: 0}}");
  env.document = &off;
  EXPECT_TRUE(build_guidance_chain(env).empty());  // scale 0 switches the term off

  const auto unknown = config::parse_document("guidance:\n  sagg: {scale: 0.5}\n", "run.yaml");
  env.document = &unknown;
  try {
    build_guidance_chain(env);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    const std::string message = e.what();
    EXPECT_NE(message.find("guidance.sagg"), std::string::npos) << message;
    EXPECT_NE(message.find("run.yaml:2"), std::string::npos) << message;
    EXPECT_NE(message.find("classifier"), std::string::npos) << message;
  }
  const auto not_a_map = config::parse_document("guidance: [classifier]");
  env.document = &not_a_map;
  EXPECT_THROW(build_guidance_chain(env), Error);
}

TEST(GuidanceRegistry, EveryEntryHasAFactoryAndASchema) {
  ASSERT_FALSE(guidance_registry().empty());
  for (const auto& entry : guidance_registry()) {
    EXPECT_NE(entry.factory, nullptr) << entry.name;
    EXPECT_FALSE(entry.schema().empty()) << entry.name;
    EXPECT_EQ(find_guidance(entry.name), &entry);
  }
  EXPECT_EQ(find_guidance("nonexistent"), nullptr);
}

}  // namespace
}  // namespace sagbench::guidance
