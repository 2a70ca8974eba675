// Tests for evaluation/inception_extractor.h and feature_extractor.h: loading
// the ported weights by name (a missing or mis-shaped tensor is one error
// naming it), the file hash, device and precision checks, and the registry.
#include "evaluation/inception_extractor.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "evaluation/evaluator_config.h"
#include "evaluation/sha256.h"
#include "io/tensor_file.h"
#include "support/fixtures.h"

namespace sagbench::eval {
namespace {

std::string weights_path() {
  return sagbench::testing::build_fixture_path("fid_inception_random.pth");
}

TEST(InceptionExtractor, LoadsTheFileAndRecordsItsHash) {
  InceptionExtractorOptions options;
  options.weights_path = weights_path();
  InceptionExtractor extractor(options);
  EXPECT_EQ(extractor.weights_sha256(), sha256_file(weights_path()));
  EXPECT_EQ(extractor.name(), "fid-inception-v3-2015-12-05");
  EXPECT_EQ(extractor.preprocessing(), "adm");
  EXPECT_EQ(extractor.compute_precision(), "fp32");
  EXPECT_EQ(extractor.dims().pool, 2048);
  EXPECT_EQ(extractor.dims().spatial, 2023);
  EXPECT_EQ(extractor.dims().classes, 1008);
}

TEST(InceptionExtractor, MissingAndMisshapedTensorsAreNamed) {
  const io::TensorDict full = io::load_tensor_file(weights_path());
  io::TensorDict broken;
  for (const auto& [name, tensor] : full.items()) {
    if (name == "Mixed_6d.branch1x1.bn.running_var") {
      continue;
    }
    broken.insert(name, name == "fc.bias" ? tensor.slice(0, 0, 1000) : tensor);
  }
  try {
    InceptionExtractor extractor(broken, "broken.pth", "", {});
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("broken.pth"), std::string::npos) << message;
    EXPECT_NE(message.find("Mixed_6d.branch1x1.bn.running_var"), std::string::npos) << message;
    EXPECT_NE(message.find("fc.bias"), std::string::npos) << message;
  }
}

TEST(InceptionExtractor, ConfigurationErrors) {
  InceptionExtractorOptions options;
  EXPECT_THROW(InceptionExtractor{options}, Error);  // no weights path
  options.weights_path = weights_path() + ".missing";
  EXPECT_THROW(InceptionExtractor{options}, Error);
  EXPECT_THROW(parse_device("tpu"), Error);
  EXPECT_THROW(parse_network_precision("int8"), Error);
  if (!at::hasCUDA()) {
    EXPECT_THROW(parse_device("cuda"), Error);
    options.weights_path = weights_path();
    options.precision = NetworkPrecision::kFp16;
    EXPECT_THROW(InceptionExtractor{options}, Error);  // fp16 needs CUDA
  }
}

TEST(FeatureExtractorRegistry, BuildsInceptionAndRejectsUnknownNames) {
  EvaluatorConfig config;
  config.weights = weights_path();
  config.mode = "pytorch-fid";
  const auto extractor = make_feature_extractor(config);
  EXPECT_EQ(extractor->preprocessing(), "pytorch-fid");
  config.extractor = "clip";
  try {
    make_feature_extractor(config);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fid-inception"), std::string::npos) << e.what();
  }
  config.extractor = "fid-inception";
  config.batch_size = 0;
  EXPECT_THROW(make_feature_extractor(config), Error);
}

}  // namespace
}  // namespace sagbench::eval
