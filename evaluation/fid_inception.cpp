// The FID Inception-v3 (see fid_inception.h). Block layouts follow
// torchvision's InceptionA..E with the FID patches of pytorch_fid/inception.py:
// every 3x3 average pool excludes the zero padding (TF semantics) and Mixed_7c
// pools with a max. Channel counts and kernel shapes are those of the
// 2015-12-05 graph; a wrong one shows up as a shape mismatch at weight loading.
#include "evaluation/fid_inception.h"

#include <string>
#include <utility>

namespace sagbench::eval {

namespace {

constexpr double kBatchNormEps = 1e-3;  // TF's default, kept by the port

// 3x3 stride-1 average pool that divides by the number of real pixels.
at::Tensor tf_avg_pool_3x3(const at::Tensor& x) {
  return at::avg_pool2d(x, {3, 3}, {1, 1}, {1, 1}, /*ceil_mode=*/false, /*count_include_pad=*/false);
}

using Block = std::shared_ptr<BasicConv2dImpl>;
using Pair = std::array<std::int64_t, 2>;

Block conv_block(std::int64_t in, std::int64_t out, Pair kernel, Pair stride = {1, 1},
                 Pair padding = {0, 0}) {
  return std::make_shared<BasicConv2dImpl>(in, out, kernel, stride, padding);
}

}  // namespace

ConvNoBiasImpl::ConvNoBiasImpl(std::int64_t in_channels, std::int64_t out_channels,
                               std::array<std::int64_t, 2> kernel, std::array<std::int64_t, 2> stride,
                               std::array<std::int64_t, 2> padding)
    : stride_(stride), padding_(padding) {
  weight_ = register_parameter("weight", torch::zeros({out_channels, in_channels, kernel[0], kernel[1]}),
                               /*requires_grad=*/false);
}

at::Tensor ConvNoBiasImpl::forward(const at::Tensor& x) {
  return at::conv2d(x, weight_, {}, stride_, padding_);
}

FrozenBatchNormImpl::FrozenBatchNormImpl(std::int64_t channels) {
  weight_ = register_parameter("weight", torch::ones({channels}), false);
  bias_ = register_parameter("bias", torch::zeros({channels}), false);
  running_mean_ = register_buffer("running_mean", torch::zeros({channels}));
  running_var_ = register_buffer("running_var", torch::ones({channels}));
}

at::Tensor FrozenBatchNormImpl::forward(const at::Tensor& x) {
  // The same ATen kernel as nn.BatchNorm2d in eval mode.
  return at::batch_norm(x, weight_, bias_, running_mean_, running_var_, /*training=*/false,
                        /*momentum=*/0.0, kBatchNormEps, /*cudnn_enabled=*/true);
}

BasicConv2dImpl::BasicConv2dImpl(std::int64_t in_channels, std::int64_t out_channels,
                                 std::array<std::int64_t, 2> kernel, std::array<std::int64_t, 2> stride,
                                 std::array<std::int64_t, 2> padding) {
  conv_ = register_module(
      "conv", std::make_shared<ConvNoBiasImpl>(in_channels, out_channels, kernel, stride, padding));
  bn_ = register_module("bn", std::make_shared<FrozenBatchNormImpl>(out_channels));
}

at::Tensor BasicConv2dImpl::forward(const at::Tensor& x) {
  return at::relu(bn_->forward(conv_->forward(x)));
}

// Mixed_5b/5c/5d: 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avgpool -> 1x1.
class InceptionAImpl : public torch::nn::Module {
 public:
  InceptionAImpl(std::int64_t in, std::int64_t pool_features) {
    branch1x1_ = register_module("branch1x1", conv_block(in, 64, {1, 1}));
    branch5x5_1_ = register_module("branch5x5_1", conv_block(in, 48, {1, 1}));
    branch5x5_2_ = register_module("branch5x5_2", conv_block(48, 64, {5, 5}, {1, 1}, {2, 2}));
    branch3x3dbl_1_ = register_module("branch3x3dbl_1", conv_block(in, 64, {1, 1}));
    branch3x3dbl_2_ = register_module("branch3x3dbl_2", conv_block(64, 96, {3, 3}, {1, 1}, {1, 1}));
    branch3x3dbl_3_ = register_module("branch3x3dbl_3", conv_block(96, 96, {3, 3}, {1, 1}, {1, 1}));
    branch_pool_ = register_module("branch_pool", conv_block(in, pool_features, {1, 1}));
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor b1 = branch1x1_->forward(x);
    at::Tensor b5 = branch5x5_2_->forward(branch5x5_1_->forward(x));
    at::Tensor b3 = branch3x3dbl_3_->forward(branch3x3dbl_2_->forward(branch3x3dbl_1_->forward(x)));
    at::Tensor bp = branch_pool_->forward(tf_avg_pool_3x3(x));
    return at::cat({b1, b5, b3, bp}, 1);
  }

 private:
  Block branch1x1_, branch5x5_1_, branch5x5_2_, branch3x3dbl_1_, branch3x3dbl_2_, branch3x3dbl_3_,
      branch_pool_;
};

// Mixed_6a (35 -> 17): 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | maxpool/2.
class InceptionBImpl : public torch::nn::Module {
 public:
  explicit InceptionBImpl(std::int64_t in) {
    branch3x3_ = register_module("branch3x3", conv_block(in, 384, {3, 3}, {2, 2}));
    branch3x3dbl_1_ = register_module("branch3x3dbl_1", conv_block(in, 64, {1, 1}));
    branch3x3dbl_2_ = register_module("branch3x3dbl_2", conv_block(64, 96, {3, 3}, {1, 1}, {1, 1}));
    branch3x3dbl_3_ = register_module("branch3x3dbl_3", conv_block(96, 96, {3, 3}, {2, 2}));
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor b3 = branch3x3_->forward(x);
    at::Tensor bd = branch3x3dbl_3_->forward(branch3x3dbl_2_->forward(branch3x3dbl_1_->forward(x)));
    at::Tensor bp = at::max_pool2d(x, {3, 3}, {2, 2});
    return at::cat({b3, bd, bp}, 1);
  }

 private:
  Block branch3x3_, branch3x3dbl_1_, branch3x3dbl_2_, branch3x3dbl_3_;
};

// Mixed_6b..6e (17x17): 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7
// | avgpool -> 1x1. forward() can hand out branch1x1 (the sFID feature of 6d).
class InceptionCImpl : public torch::nn::Module {
 public:
  InceptionCImpl(std::int64_t in, std::int64_t c7) {
    branch1x1_ = register_module("branch1x1", conv_block(in, 192, {1, 1}));
    branch7x7_1_ = register_module("branch7x7_1", conv_block(in, c7, {1, 1}));
    branch7x7_2_ = register_module("branch7x7_2", conv_block(c7, c7, {1, 7}, {1, 1}, {0, 3}));
    branch7x7_3_ = register_module("branch7x7_3", conv_block(c7, 192, {7, 1}, {1, 1}, {3, 0}));
    branch7x7dbl_1_ = register_module("branch7x7dbl_1", conv_block(in, c7, {1, 1}));
    branch7x7dbl_2_ = register_module("branch7x7dbl_2", conv_block(c7, c7, {7, 1}, {1, 1}, {3, 0}));
    branch7x7dbl_3_ = register_module("branch7x7dbl_3", conv_block(c7, c7, {1, 7}, {1, 1}, {0, 3}));
    branch7x7dbl_4_ = register_module("branch7x7dbl_4", conv_block(c7, c7, {7, 1}, {1, 1}, {3, 0}));
    branch7x7dbl_5_ = register_module("branch7x7dbl_5", conv_block(c7, 192, {1, 7}, {1, 1}, {0, 3}));
    branch_pool_ = register_module("branch_pool", conv_block(in, 192, {1, 1}));
  }
  at::Tensor forward(const at::Tensor& x, at::Tensor* branch1x1_out = nullptr) {
    at::Tensor b1 = branch1x1_->forward(x);
    if (branch1x1_out != nullptr) {
      *branch1x1_out = b1;
    }
    at::Tensor b7 = branch7x7_3_->forward(branch7x7_2_->forward(branch7x7_1_->forward(x)));
    at::Tensor bd = branch7x7dbl_1_->forward(x);
    bd = branch7x7dbl_3_->forward(branch7x7dbl_2_->forward(bd));
    bd = branch7x7dbl_5_->forward(branch7x7dbl_4_->forward(bd));
    at::Tensor bp = branch_pool_->forward(tf_avg_pool_3x3(x));
    return at::cat({b1, b7, bd, bp}, 1);
  }

 private:
  Block branch1x1_, branch7x7_1_, branch7x7_2_, branch7x7_3_, branch7x7dbl_1_, branch7x7dbl_2_,
      branch7x7dbl_3_, branch7x7dbl_4_, branch7x7dbl_5_, branch_pool_;
};

// Mixed_7a (17 -> 8): 1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | maxpool/2.
class InceptionDImpl : public torch::nn::Module {
 public:
  explicit InceptionDImpl(std::int64_t in) {
    branch3x3_1_ = register_module("branch3x3_1", conv_block(in, 192, {1, 1}));
    branch3x3_2_ = register_module("branch3x3_2", conv_block(192, 320, {3, 3}, {2, 2}));
    branch7x7x3_1_ = register_module("branch7x7x3_1", conv_block(in, 192, {1, 1}));
    branch7x7x3_2_ = register_module("branch7x7x3_2", conv_block(192, 192, {1, 7}, {1, 1}, {0, 3}));
    branch7x7x3_3_ = register_module("branch7x7x3_3", conv_block(192, 192, {7, 1}, {1, 1}, {3, 0}));
    branch7x7x3_4_ = register_module("branch7x7x3_4", conv_block(192, 192, {3, 3}, {2, 2}));
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor b3 = branch3x3_2_->forward(branch3x3_1_->forward(x));
    at::Tensor b7 = branch7x7x3_2_->forward(branch7x7x3_1_->forward(x));
    b7 = branch7x7x3_4_->forward(branch7x7x3_3_->forward(b7));
    at::Tensor bp = at::max_pool2d(x, {3, 3}, {2, 2});
    return at::cat({b3, b7, bp}, 1);
  }

 private:
  Block branch3x3_1_, branch3x3_2_, branch7x7x3_1_, branch7x7x3_2_, branch7x7x3_3_, branch7x7x3_4_;
};

// Mixed_7b/7c (8x8): 1x1 | 1x1 -> (1x3, 3x1) | 1x1 -> 3x3 -> (1x3, 3x1) |
// pool -> 1x1, where the pool is an average (7b) or, in the port, a max (7c).
class InceptionEImpl : public torch::nn::Module {
 public:
  InceptionEImpl(std::int64_t in, bool max_pool_branch) : max_pool_branch_(max_pool_branch) {
    branch1x1_ = register_module("branch1x1", conv_block(in, 320, {1, 1}));
    branch3x3_1_ = register_module("branch3x3_1", conv_block(in, 384, {1, 1}));
    branch3x3_2a_ = register_module("branch3x3_2a", conv_block(384, 384, {1, 3}, {1, 1}, {0, 1}));
    branch3x3_2b_ = register_module("branch3x3_2b", conv_block(384, 384, {3, 1}, {1, 1}, {1, 0}));
    branch3x3dbl_1_ = register_module("branch3x3dbl_1", conv_block(in, 448, {1, 1}));
    branch3x3dbl_2_ = register_module("branch3x3dbl_2", conv_block(448, 384, {3, 3}, {1, 1}, {1, 1}));
    branch3x3dbl_3a_ = register_module("branch3x3dbl_3a", conv_block(384, 384, {1, 3}, {1, 1}, {0, 1}));
    branch3x3dbl_3b_ = register_module("branch3x3dbl_3b", conv_block(384, 384, {3, 1}, {1, 1}, {1, 0}));
    branch_pool_ = register_module("branch_pool", conv_block(in, 192, {1, 1}));
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor b1 = branch1x1_->forward(x);
    at::Tensor b3 = branch3x3_1_->forward(x);
    b3 = at::cat({branch3x3_2a_->forward(b3), branch3x3_2b_->forward(b3)}, 1);
    at::Tensor bd = branch3x3dbl_2_->forward(branch3x3dbl_1_->forward(x));
    bd = at::cat({branch3x3dbl_3a_->forward(bd), branch3x3dbl_3b_->forward(bd)}, 1);
    at::Tensor pooled = max_pool_branch_ ? at::max_pool2d(x, {3, 3}, {1, 1}, {1, 1}) : tf_avg_pool_3x3(x);
    at::Tensor bp = branch_pool_->forward(pooled);
    return at::cat({b1, b3, bd, bp}, 1);
  }

 private:
  bool max_pool_branch_;
  Block branch1x1_, branch3x3_1_, branch3x3_2a_, branch3x3_2b_, branch3x3dbl_1_, branch3x3dbl_2_,
      branch3x3dbl_3a_, branch3x3dbl_3b_, branch_pool_;
};

FidInceptionV3Impl::FidInceptionV3Impl() {
  conv1a_ = register_module("Conv2d_1a_3x3", conv_block(3, 32, {3, 3}, {2, 2}));
  conv2a_ = register_module("Conv2d_2a_3x3", conv_block(32, 32, {3, 3}));
  conv2b_ = register_module("Conv2d_2b_3x3", conv_block(32, 64, {3, 3}, {1, 1}, {1, 1}));
  conv3b_ = register_module("Conv2d_3b_1x1", conv_block(64, 80, {1, 1}));
  conv4a_ = register_module("Conv2d_4a_3x3", conv_block(80, 192, {3, 3}));
  mixed_5b_ = register_module("Mixed_5b", std::make_shared<InceptionAImpl>(192, 32));
  mixed_5c_ = register_module("Mixed_5c", std::make_shared<InceptionAImpl>(256, 64));
  mixed_5d_ = register_module("Mixed_5d", std::make_shared<InceptionAImpl>(288, 64));
  mixed_6a_ = register_module("Mixed_6a", std::make_shared<InceptionBImpl>(288));
  mixed_6b_ = register_module("Mixed_6b", std::make_shared<InceptionCImpl>(768, 128));
  mixed_6c_ = register_module("Mixed_6c", std::make_shared<InceptionCImpl>(768, 160));
  mixed_6d_ = register_module("Mixed_6d", std::make_shared<InceptionCImpl>(768, 160));
  mixed_6e_ = register_module("Mixed_6e", std::make_shared<InceptionCImpl>(768, 192));
  mixed_7a_ = register_module("Mixed_7a", std::make_shared<InceptionDImpl>(768));
  mixed_7b_ = register_module("Mixed_7b", std::make_shared<InceptionEImpl>(1280, /*max_pool_branch=*/false));
  mixed_7c_ = register_module("Mixed_7c", std::make_shared<InceptionEImpl>(2048, /*max_pool_branch=*/true));
  auto fc = register_module("fc", std::make_shared<torch::nn::Module>());
  fc_weight_ = fc->register_parameter("weight", torch::zeros({kInceptionClasses, kInceptionPoolDim}), false);
  fc_bias_ = fc->register_parameter("bias", torch::zeros({kInceptionClasses}), false);
}

InceptionOutputs FidInceptionV3Impl::forward(const at::Tensor& input) {
  at::Tensor x = conv2b_->forward(conv2a_->forward(conv1a_->forward(input)));
  x = at::max_pool2d(x, {3, 3}, {2, 2});
  x = conv4a_->forward(conv3b_->forward(x));
  x = at::max_pool2d(x, {3, 3}, {2, 2});
  x = mixed_5d_->forward(mixed_5c_->forward(mixed_5b_->forward(x)));
  x = mixed_6a_->forward(x);
  x = mixed_6c_->forward(mixed_6b_->forward(x));
  at::Tensor branch1x1_6d;
  x = mixed_6d_->forward(x, &branch1x1_6d);
  x = mixed_6e_->forward(x);
  x = mixed_7c_->forward(mixed_7b_->forward(mixed_7a_->forward(x)));

  InceptionOutputs out;
  out.pool = at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  // NHWC flatten of the first 7 channels: index (h * 17 + w) * 7 + c.
  out.spatial =
      branch1x1_6d.slice(1, 0, kInceptionSpatialChannels).permute({0, 2, 3, 1}).reshape({input.size(0), -1});
  out.logits_unbiased = at::matmul(out.pool, fc_weight_.t());
  out.logits = out.logits_unbiased + fc_bias_;
  return out;
}

}  // namespace sagbench::eval
