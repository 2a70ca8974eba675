// The FID Inception-v3: pytorch-fid's port of the 2015-12-05 TensorFlow graph
// (fid_inception_v3 with FIDInceptionA/C/E_1/E_2 in pytorch_fid/inception.py).
// Its quirks: BatchNorm eps 1e-3, 3x3 average pools that exclude the padding,
// a max pool in Mixed_7c's pool branch, 1008 classes. Parameter names are
// exactly those of pt_inception-2015-12-05-6726825d.pth (472 tensors, no
// num_batches_tracked). One forward yields pool_3, the sFID spatial feature and
// the logits. Tested by tests/evaluation/fid_inception_test.cpp (fixture parity).
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <memory>

namespace sagbench::eval {

// Feature sizes of the FID Inception.
inline constexpr std::int64_t kInceptionInputSize = 299;
inline constexpr std::int64_t kInceptionPoolDim = 2048;
inline constexpr std::int64_t kInceptionClasses = 1008;
// Mixed_6d.branch1x1 is 17x17; the ADM evaluator keeps its first 7 channels.
inline constexpr std::int64_t kInceptionSpatialGrid = 17;
inline constexpr std::int64_t kInceptionSpatialChannels = 7;
inline constexpr std::int64_t kInceptionSpatialDim =
    kInceptionSpatialGrid * kInceptionSpatialGrid * kInceptionSpatialChannels;  // 2023

// What one forward pass returns (all float32, batch-major).
struct InceptionOutputs {
  at::Tensor pool;             // (B, 2048) pool_3
  at::Tensor spatial;          // (B, 2023) Mixed_6d.branch1x1[..., :7] after ReLU, NHWC order
  at::Tensor logits;           // (B, 1008) pool . W^T + b (torchvision / pytorch-fid logits)
  at::Tensor logits_unbiased;  // (B, 1008) pool . W^T (the ADM evaluator's IS logits)
};

// Conv2d without bias; registers only "weight".
class ConvNoBiasImpl : public torch::nn::Module {
 public:
  ConvNoBiasImpl(std::int64_t in_channels, std::int64_t out_channels, std::array<std::int64_t, 2> kernel,
                 std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding);
  at::Tensor forward(const at::Tensor& x);

 private:
  at::Tensor weight_;
  std::array<std::int64_t, 2> stride_;
  std::array<std::int64_t, 2> padding_;
};

// Inference-only BatchNorm (running statistics, eps 1e-3); registers weight,
// bias, running_mean and running_var and nothing else.
class FrozenBatchNormImpl : public torch::nn::Module {
 public:
  explicit FrozenBatchNormImpl(std::int64_t channels);
  at::Tensor forward(const at::Tensor& x);

 private:
  at::Tensor weight_, bias_, running_mean_, running_var_;
};

// torchvision's BasicConv2d: conv (no bias) -> BN(eps 1e-3) -> ReLU.
class BasicConv2dImpl : public torch::nn::Module {
 public:
  BasicConv2dImpl(std::int64_t in_channels, std::int64_t out_channels, std::array<std::int64_t, 2> kernel,
                  std::array<std::int64_t, 2> stride = {1, 1}, std::array<std::int64_t, 2> padding = {0, 0});
  at::Tensor forward(const at::Tensor& x);

 private:
  std::shared_ptr<ConvNoBiasImpl> conv_;
  std::shared_ptr<FrozenBatchNormImpl> bn_;
};

class InceptionAImpl;  // Mixed_5b..5d (FIDInceptionA)
class InceptionBImpl;  // Mixed_6a
class InceptionCImpl;  // Mixed_6b..6e (FIDInceptionC)
class InceptionDImpl;  // Mixed_7a
class InceptionEImpl;  // Mixed_7b (FIDInceptionE_1, avg pool), Mixed_7c (FIDInceptionE_2, max pool)

// The whole network. Input: (B, 3, 299, 299) float, already normalized to
// [-1, 1] by one of the preprocessing modes (preprocess.h).
class FidInceptionV3Impl : public torch::nn::Module {
 public:
  FidInceptionV3Impl();
  InceptionOutputs forward(const at::Tensor& x);

 private:
  std::shared_ptr<BasicConv2dImpl> conv1a_, conv2a_, conv2b_, conv3b_, conv4a_;
  std::shared_ptr<InceptionAImpl> mixed_5b_, mixed_5c_, mixed_5d_;
  std::shared_ptr<InceptionBImpl> mixed_6a_;
  std::shared_ptr<InceptionCImpl> mixed_6b_, mixed_6c_, mixed_6d_, mixed_6e_;
  std::shared_ptr<InceptionDImpl> mixed_7a_;
  std::shared_ptr<InceptionEImpl> mixed_7b_, mixed_7c_;
  at::Tensor fc_weight_, fc_bias_;
};
TORCH_MODULE(FidInceptionV3);

}  // namespace sagbench::eval
