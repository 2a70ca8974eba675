// Primitive layers of the ADM networks (see layers.h). Default initialisation
// follows PyTorch's: kaiming_uniform(a = sqrt(5)) for weights, i.e.
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the same bound for biases, N(0, 1) for
// embeddings, ones/zeros for GroupNorm; meta-device parameters stay uninitialised.
#include "models/layers.h"

#include <cmath>

#include "core/error.h"

namespace sagbench::models {
namespace {

bool is_meta(at::Device device) {
  return device.type() == c10::DeviceType::Meta;
}

at::Tensor make_parameter(torch::nn::Module& module, const std::string& name, at::IntArrayRef shape,
                          at::Device device) {
  return module.register_parameter(name, at::empty(shape, at::TensorOptions(at::kFloat).device(device)));
}

// PyTorch's reset_parameters() of Conv*d and Linear, or zeros for zero_module.
void init_fan_in_uniform(at::Tensor& weight, at::Tensor& bias, int64_t fan_in, bool zero_init) {
  if (is_meta(weight.device())) {
    return;
  }
  torch::NoGradGuard no_grad;
  if (zero_init) {
    weight.zero_();
    bias.zero_();
    return;
  }
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  weight.uniform_(-bound, bound);
  bias.uniform_(-bound, bound);
}

}  // namespace

std::shared_ptr<torch::nn::Module> add_group(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

ConvLayer::ConvLayer(int dims, int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
                     int64_t padding, at::Device device, bool zero_init)
    : dims_(dims), stride_(stride), padding_(padding) {
  SAG_CHECK(dims == 1 || dims == 2, "conv dims {}", dims);
  std::vector<int64_t> shape = {out_channels, in_channels};
  for (int i = 0; i < dims; ++i) {
    shape.push_back(kernel_size);
  }
  weight_ = make_parameter(*this, "weight", shape, device);
  bias_ = make_parameter(*this, "bias", {out_channels}, device);
  const int64_t fan_in = in_channels * (dims == 2 ? kernel_size * kernel_size : kernel_size);
  init_fan_in_uniform(weight_, bias_, fan_in, zero_init);
}

at::Tensor ConvLayer::forward(const at::Tensor& x) const {
  if (dims_ == 2) {
    return at::conv2d(x, weight_, bias_, stride_, padding_);
  }
  return at::conv1d(x, weight_, bias_, stride_, padding_);
}

void ConvLayer::cast_parameters(at::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  weight_.set_data(weight_.to(dtype));
  bias_.set_data(bias_.to(dtype));
}

LinearLayer::LinearLayer(int64_t in_features, int64_t out_features, at::Device device) {
  weight_ = make_parameter(*this, "weight", {out_features, in_features}, device);
  bias_ = make_parameter(*this, "bias", {out_features}, device);
  init_fan_in_uniform(weight_, bias_, in_features, false);
}

at::Tensor LinearLayer::forward(const at::Tensor& x) const {
  return at::linear(x, weight_, bias_);
}

GroupNorm32::GroupNorm32(int64_t channels, at::Device device) {
  weight_ = make_parameter(*this, "weight", {channels}, device);
  bias_ = make_parameter(*this, "bias", {channels}, device);
  if (!is_meta(device)) {
    torch::NoGradGuard no_grad;
    weight_.fill_(1.0);
    bias_.zero_();
  }
}

at::Tensor GroupNorm32::forward(const at::Tensor& x) const {
  constexpr int64_t kGroups = 32;
  constexpr double kEps = 1e-5;
  return at::group_norm(x.to(at::kFloat), kGroups, weight_, bias_, kEps).to(x.scalar_type());
}

EmbeddingLayer::EmbeddingLayer(int64_t num_embeddings, int64_t dim, at::Device device) {
  weight_ = make_parameter(*this, "weight", {num_embeddings, dim}, device);
  if (!is_meta(device)) {
    torch::NoGradGuard no_grad;
    weight_.normal_(0.0, 1.0);
  }
}

at::Tensor EmbeddingLayer::forward(const at::Tensor& labels) const {
  return at::embedding(weight_, labels);
}

at::Tensor timestep_embedding(const at::Tensor& timesteps, int64_t dim, double max_period) {
  const int64_t half = dim / 2;
  // Same operation order as upstream: (-ln P * arange) / half, then exp, in float32.
  const at::Tensor freqs = (at::arange(0, half, at::TensorOptions(at::kFloat).device(timesteps.device())) *
                            -std::log(max_period) / static_cast<double>(half))
                               .exp();
  const at::Tensor args = timesteps.unsqueeze(1).to(at::kFloat) * freqs.unsqueeze(0);
  at::Tensor embedding = at::cat({args.cos(), args.sin()}, -1);
  if (dim % 2 != 0) {
    embedding = at::cat({embedding, at::zeros_like(embedding.narrow(1, 0, 1))}, -1);
  }
  return embedding;
}

std::string describe_shape(const at::Tensor& tensor) {
  if (!tensor.defined()) {
    return "an undefined tensor";
  }
  std::string text = "(";
  for (int64_t d = 0; d < tensor.dim(); ++d) {
    text += (d > 0 ? ", " : "") + std::to_string(tensor.size(d));
  }
  return text + ")";
}

void cast_convolutions(torch::nn::Module& module, at::ScalarType dtype) {
  for (const auto& child : module.modules(/*include_self=*/false)) {
    if (auto conv = std::dynamic_pointer_cast<ConvLayer>(child)) {
      conv->cast_parameters(dtype);
    }
  }
}

}  // namespace sagbench::models
