// EncoderUNetModel (noisy classifier) against the upstream reference:
// adm_tiny_cond_classifier.pt must reproduce the fixture's logits and the
// input gradient of sum_b log_softmax(logits)[b, y_b] (autograd), and every
// pool type must build with upstream's names and produce (B, classes) logits.
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/npz.h"
#include "io/safetensors.h"
#include "io/tensor_file.h"
#include "model_test_support.h"
#include "models/model_loading.h"

namespace sagbench::models {
namespace {

using testing::expect_close;
using testing::tiny_classifier_config;

class TinyClassifier : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = build_classifier(tiny_classifier_config());
    const io::TensorDict d =
        io::read_npz(sagbench::testing::fixture_path("adm_tiny_cond_classifier_forward.npz"));
    x_ = d.at("x");
    t_ = d.at("t");
    y_ = d.at("y");
    logits_ = d.at("logits");
    grad_ = d.at("grad_log_prob");
  }
  std::shared_ptr<EncoderUNetModel> model_;
  at::Tensor x_, t_, y_, logits_, grad_;
};

TEST_F(TinyClassifier, LogitsMatchUpstream) {
  torch::NoGradGuard no_grad;
  // float32 on both sides, summation order differs: ~1e-6 relative expected.
  expect_close(model_->forward(x_, t_), logits_, 1e-4, "logits");
}

TEST_F(TinyClassifier, LogProbGradientMatchesUpstream) {
  const at::Tensor x = x_.clone().requires_grad_(true);
  const at::Tensor log_probs = at::log_softmax(model_->forward(x, t_), -1);
  const at::Tensor selected = log_probs.gather(1, y_.unsqueeze(1)).sum();
  const at::Tensor grad = torch::autograd::grad({selected}, {x})[0];
  // The gradient's scale (~1e-2) is set by the random weights; compare
  // relative to its own magnitude: a backward pass adds no more than ~1e-5.
  expect_close(grad, grad_, 1e-4, "d/dx sum log p(y|x)", /*floor=*/0.0);
}

// The same weights as safetensors (how the bundle ships its models) load by
// content, not extension, and give the same logits.
TEST_F(TinyClassifier, LoadsTheSameWeightsFromSafetensors) {
  const std::string dir = sagbench::testing::make_temp_dir("classifier_safetensors");
  const std::string path = dir + "/classifier.weights";
  io::write_safetensors(path,
                        io::load_tensor_file(sagbench::testing::fixture_path("adm_tiny_cond_classifier.pt")));
  EncoderUNetConfig config = tiny_classifier_config();
  config.checkpoint = path;
  const auto from_safetensors = build_classifier(config);
  torch::NoGradGuard no_grad;
  expect_close(from_safetensors->forward(x_, t_), logits_, 1e-4, "logits");
  config.checkpoint = dir + "/missing.safetensors";
  EXPECT_THROW(build_classifier(config), Error);
}

TEST_F(TinyClassifier, RejectsWrongInputShape) {
  torch::NoGradGuard no_grad;
  try {
    model_->forward(at::zeros({2, 3, 16, 16}), t_);
    FAIL() << "wrong size accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kShape);
  }
}

struct PoolCase {
  std::string pool;
  std::vector<std::string> head_names;  // upstream's `out.*` parameters
};

void PrintTo(const PoolCase& c, std::ostream* os) {
  *os << c.pool;
}

class PoolTest : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolTest, BuildsUpstreamHeadAndProducesLogits) {
  EncoderUNetConfig config = tiny_classifier_config();
  config.pool = GetParam().pool;
  config.out_channels = 7;
  EncoderUNetModel model(config);
  std::vector<std::string> head;
  for (const auto& item : model.named_parameters()) {
    if (item.key().rfind("out.", 0) == 0) {
      head.push_back(item.key() + " " + c10::str(item.value().sizes()));
    }
  }
  EXPECT_EQ(head, GetParam().head_names);
  torch::NoGradGuard no_grad;
  const at::Tensor logits = model.forward(at::randn({3, 3, 32, 32}), at::tensor({1, 500, 999}, at::kLong));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 7}));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
}

// Spatial heads see the spatial means of every input block and the middle
// block: 32 (stem) + 32 + 32 (level 0 + down) + 64 + 64 (level 1 + down) +
// 64 (level 2) + 64 (middle) = 352 features.
INSTANTIATE_TEST_SUITE_P(
    Pools, PoolTest,
    ::testing::Values(PoolCase{"adaptive",
                               {"out.0.weight [64]", "out.0.bias [64]", "out.3.weight [7, 64, 1, 1]",
                                "out.3.bias [7]"}},
                      PoolCase{"attention",
                               {"out.0.weight [64]", "out.0.bias [64]", "out.2.positional_embedding [64, 65]",
                                "out.2.qkv_proj.weight [192, 64, 1]", "out.2.qkv_proj.bias [192]",
                                "out.2.c_proj.weight [7, 64, 1]", "out.2.c_proj.bias [7]"}},
                      PoolCase{"spatial",
                               {"out.0.weight [2048, 352]", "out.0.bias [2048]", "out.2.weight [7, 2048]",
                                "out.2.bias [7]"}},
                      PoolCase{"spatial_v2",
                               {"out.0.weight [2048, 352]", "out.0.bias [2048]", "out.1.weight [2048]",
                                "out.1.bias [2048]", "out.3.weight [7, 2048]", "out.3.bias [7]"}}),
    [](const auto& info) { return info.param.pool; });

}  // namespace
}  // namespace sagbench::models
