// The FID Inception extractor (see inception_extractor.h). TF32 is switched
// per call, so a reference run is fp32 whatever another component set. fp16
// converts the whole network (BN included) and its input to half on CUDA; the
// features come back in float32. All features return to the host.
#include "evaluation/inception_extractor.h"

#include <torch/cuda.h>

#include "core/error.h"
#include "evaluation/evaluator_config.h"
#include "evaluation/sha256.h"
#include "io/state_dict.h"
#include "io/tensor_file.h"

namespace sagbench::eval {

const char* network_precision_name(NetworkPrecision precision) {
  switch (precision) {
    case NetworkPrecision::kFp32:
      return "fp32";
    case NetworkPrecision::kTf32:
      return "tf32";
    case NetworkPrecision::kFp16:
      return "fp16";
  }
  return "?";
}

NetworkPrecision parse_network_precision(const std::string& name) {
  if (name == "fp32") {
    return NetworkPrecision::kFp32;
  }
  if (name == "tf32") {
    return NetworkPrecision::kTf32;
  }
  if (name == "fp16") {
    return NetworkPrecision::kFp16;
  }
  SAG_FAIL(kConfig, "unknown network precision '{}' (expected fp32, tf32 or fp16)", name);
}

at::Device parse_device(const std::string& name) {
  at::Device device = at::kCPU;
  try {
    device = at::Device(name);
  } catch (const c10::Error&) {
    SAG_FAIL(kConfig, "unknown device '{}' (expected cpu, cuda or cuda:N)", name);
  }
  if (device.is_cuda()) {
    SAG_REQUIRE(torch::cuda::is_available(), kConfig,
                "device '{}' asked for, but this LibTorch build sees no CUDA device", name);
    SAG_REQUIRE(!device.has_index() || device.index() < static_cast<int>(torch::cuda::device_count()),
                kConfig, "device '{}' asked for, but only {} CUDA device(s) are visible", name,
                torch::cuda::device_count());
  } else {
    SAG_REQUIRE(device.is_cpu(), kConfig, "device '{}' is not supported (expected cpu or cuda[:N])", name);
  }
  return device;
}

InceptionExtractor::InceptionExtractor(const InceptionExtractorOptions& options)
    : options_(options), device_(parse_device(options.device)) {
  SAG_REQUIRE(
      !options.weights_path.empty(), kConfig,
      "the fid-inception extractor needs its weights: set evaluator.weights or --weights to pytorch-fid's "
      "pt_inception-2015-12-05-6726825d.pth");
  weights_sha256_ = sha256_file(options.weights_path);
  init(io::load_tensor_file(options.weights_path), options.weights_path);
}

InceptionExtractor::InceptionExtractor(const io::TensorDict& weights, const std::string& source,
                                       const std::string& weights_sha256,
                                       const InceptionExtractorOptions& options)
    : options_(options), device_(parse_device(options.device)), weights_sha256_(weights_sha256) {
  init(weights, source);
}

void InceptionExtractor::init(const io::TensorDict& weights, const std::string& source) {
  SAG_REQUIRE(options_.precision != NetworkPrecision::kFp16 || device_.is_cuda(), kConfig,
              "network precision fp16 needs a CUDA device (device is '{}')", options_.device);
  network_ = FidInceptionV3();
  io::load_state_dict(*network_, weights, source);
  network_->eval();
  network_->to(device_);
  if (options_.precision == NetworkPrecision::kFp16) {
    network_->to(at::kHalf);
  }
}

FeatureDims InceptionExtractor::dims() const {
  return {kInceptionPoolDim, kInceptionSpatialDim, kInceptionClasses};
}

InceptionOutputs InceptionExtractor::forward_preprocessed(const at::Tensor& x) {
  SAG_CHECK(
      x.dim() == 4 && x.size(1) == 3 && x.size(2) == kInceptionInputSize && x.size(3) == kInceptionInputSize,
      "Inception input must be (B, 3, 299, 299)");
  torch::NoGradGuard no_grad;
  const bool tf32 = options_.precision == NetworkPrecision::kTf32;
  at::globalContext().setAllowTF32CuBLAS(tf32);
  at::globalContext().setAllowTF32CuDNN(tf32);
  at::Tensor input = x.to(device_);
  if (options_.precision == NetworkPrecision::kFp16) {
    input = input.to(at::kHalf);
  }
  InceptionOutputs out = network_->forward(input);
  auto to_host = [](const at::Tensor& t) { return t.to(at::kCPU, at::kFloat).contiguous(); };
  return {to_host(out.pool), to_host(out.spatial), to_host(out.logits), to_host(out.logits_unbiased)};
}

FeatureBatch InceptionExtractor::extract(const at::Tensor& images, const std::string& what) {
  check_image_batch(images, what);
  torch::NoGradGuard no_grad;
  const at::Tensor x = preprocess_images(images.to(device_), options_.mode, kInceptionInputSize);
  InceptionOutputs out = forward_preprocessed(x);
  return {out.pool, out.spatial, out.logits, out.logits_unbiased};
}

}  // namespace sagbench::eval
