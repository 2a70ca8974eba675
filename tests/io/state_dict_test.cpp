// Tests of strict state-dict loading (src/io/state_dict.h) on a small module
// with a parameter of its own, a Linear and a BatchNorm (parameters and
// buffers): PyTorch's state_dict order, round trips, one error listing every
// missing/unexpected/mismatched tensor while leaving the module untouched,
// dtype conversion on request, and the listing cap.
#include "io/state_dict.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"

namespace sagbench::io {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct NetImpl : torch::nn::Module {
  NetImpl() {
    scale = register_parameter("scale", torch::ones({1}));
    fc = register_module("fc", torch::nn::Linear(4, 3));
    bn = register_module("bn", torch::nn::BatchNorm1d(3));
  }
  torch::Tensor scale;
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(Net);

// A state dict with the module's names and shapes and distinct values.
TensorDict filled_like(const torch::nn::Module& module) {
  TensorDict out;
  double next = 1.0;
  const TensorDict names = state_dict_of(module);
  for (const auto& [name, tensor] : names.items()) {
    out.insert(name, torch::full(tensor.sizes(), next++, tensor.options()));
  }
  return out;
}

std::string load_error(torch::nn::Module& module, const TensorDict& tensors,
                       const LoadOptions& options = {}) {
  try {
    load_state_dict(module, tensors, "ckpt.pt", options);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kShape);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(StateDict, PyTorchOrderParametersThenBuffersThenChildren) {
  Net net;
  EXPECT_EQ(state_dict_of(*net).names(),
            (std::vector<std::string>{"scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias",
                                      "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"}));
}

TEST(StateDict, LoadsEveryParameterAndBuffer) {
  Net net;
  const TensorDict tensors = filled_like(*net);
  load_state_dict(*net, tensors, "ckpt.pt");
  const TensorDict loaded = state_dict_of(*net);
  for (const auto& [name, tensor] : loaded.items()) {
    EXPECT_TRUE(tensor.equal(tensors.at(name))) << name;
  }
  EXPECT_TRUE(net->fc->weight.requires_grad());  // still a trainable parameter
}

TEST(StateDict, OneErrorListsEveryProblemAndLoadsNothing) {
  Net net;
  const at::Tensor before = net->fc->bias.clone();
  TensorDict good = filled_like(*net);
  TensorDict bad;
  for (const auto& [name, tensor] : good.items()) {
    if (name == "fc.bias") {
      continue;  // missing
    }
    if (name == "fc.weight") {
      bad.insert(name, torch::zeros({4, 3}));  // transposed shape
    } else if (name == "bn.running_mean") {
      bad.insert(name, tensor.to(torch::kDouble));  // wrong dtype
    } else {
      bad.insert(name, tensor);
    }
  }
  bad.insert("extra.w", torch::zeros({2}));
  bad.insert("extra.v", torch::zeros({2}));
  const std::string message = load_error(*net, bad);
  EXPECT_THAT(message, HasSubstr("ckpt.pt"));
  EXPECT_THAT(message, HasSubstr("1 missing: fc.bias"));
  EXPECT_THAT(message, HasSubstr("2 unexpected: extra.w, extra.v"));
  EXPECT_THAT(message, HasSubstr("1 with mismatched shapes: fc.weight (file [4, 3] vs model [3, 4])"));
  EXPECT_THAT(message, HasSubstr("bn.running_mean (file Double vs model Float)"));
  EXPECT_THAT(message, Not(HasSubstr("\n")));
  EXPECT_TRUE(net->fc->bias.equal(before));  // nothing was copied
}

TEST(StateDict, DtypeConversionOnRequest) {
  Net net;
  TensorDict half;
  const TensorDict full = filled_like(*net);
  for (const auto& [name, tensor] : full.items()) {
    half.insert(name, tensor.is_floating_point() ? tensor.to(torch::kHalf) : tensor);
  }
  EXPECT_THAT(load_error(*net, half), HasSubstr("7 with mismatched dtypes"));
  LoadOptions options;
  options.convert_dtype = true;
  load_state_dict(*net, half, "ckpt.pt", options);
  EXPECT_EQ(net->fc->weight.scalar_type(), torch::kFloat);
  EXPECT_TRUE(net->fc->weight.equal(half.at("fc.weight").to(torch::kFloat)));
}

TEST(StateDict, ListingIsCappedButCountsAreExact) {
  Net net;
  TensorDict tensors = filled_like(*net);
  for (int i = 0; i < 30; ++i) {
    tensors.insert("stray." + std::to_string(i), torch::zeros({1}));
  }
  LoadOptions options;
  options.max_listed = 5;
  const std::string message = load_error(*net, tensors, options);
  EXPECT_THAT(message, HasSubstr("30 unexpected: stray.0, stray.1, stray.2, stray.3, stray.4 (and 25 more)"));
  EXPECT_THAT(message, Not(HasSubstr("stray.5")));
}

}  // namespace
}  // namespace sagbench::io
