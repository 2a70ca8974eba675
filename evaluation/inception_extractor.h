// The FID Inception as a FeatureExtractor ("fid-inception"): loads pytorch-fid's
// pt_inception-2015-12-05-6726825d.pth (legacy torch.save, 472 tensors) by
// name with strict checks, preprocesses in the configured mode (adm or
// pytorch-fid) and runs in fp32 with TF32 off unless a faster, labelled
// precision is asked for. Tested by tests/evaluation/inception_parity_test.cpp
// against fid_inception_random_features.npz, and inception_extractor_test.cpp.
#pragma once

#include <string>

#include "evaluation/feature_extractor.h"
#include "evaluation/fid_inception.h"
#include "evaluation/preprocess.h"
#include "io/tensor_dict.h"

namespace sagbench::eval {

inline constexpr const char* kFidInceptionName = "fid-inception-v3-2015-12-05";

enum class NetworkPrecision { kFp32, kTf32, kFp16 };
const char* network_precision_name(NetworkPrecision precision);
// "fp32" | "tf32" | "fp16" (kConfig error otherwise).
NetworkPrecision parse_network_precision(const std::string& name);
// A torch device from "cpu", "cuda", "cuda:1"; a bad name or an absent GPU is a kConfig error.
at::Device parse_device(const std::string& name);

struct InceptionExtractorOptions {
  std::string weights_path;
  PreprocessMode mode = PreprocessMode::kAdm;
  std::string device = "cpu";
  NetworkPrecision precision = NetworkPrecision::kFp32;
};

class InceptionExtractor : public FeatureExtractor {
 public:
  // Reads and hashes the weights file (missing, unexpected or mis-shaped
  // tensors: one kFormat error listing them all).
  explicit InceptionExtractor(const InceptionExtractorOptions& options);
  // From tensors already in memory (`source` names them in errors; the hash
  // is that of the file they came from, or "" when there is none).
  InceptionExtractor(const io::TensorDict& weights, const std::string& source,
                     const std::string& weights_sha256, const InceptionExtractorOptions& options);

  std::string name() const override { return kFidInceptionName; }
  std::string weights_sha256() const override { return weights_sha256_; }
  std::string preprocessing() const override { return preprocess_mode_name(options_.mode); }
  std::string compute_precision() const override { return network_precision_name(options_.precision); }
  FeatureDims dims() const override;
  std::int64_t channels() const override { return 3; }
  FeatureBatch extract(const at::Tensor& images, const std::string& what) override;

  // The network's output for an already preprocessed (B, 3, 299, 299) batch.
  InceptionOutputs forward_preprocessed(const at::Tensor& x);
  const at::Device& device() const { return device_; }

 private:
  void init(const io::TensorDict& weights, const std::string& source);

  InceptionExtractorOptions options_;
  at::Device device_;
  std::string weights_sha256_;
  FidInceptionV3 network_{nullptr};
};

}  // namespace sagbench::eval
