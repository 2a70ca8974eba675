// Parameter-owning primitives of the ADM networks, following upstream
// guided_diffusion/nn.py (conv_nd, linear, normalization = GroupNorm32,
// timestep_embedding) and nn.Embedding. Each layer registers exactly `weight`
// and `bias`, so module paths equal upstream state_dict names. Parameters are
// created on a given device: "meta" builds paper-size models without memory
// (the manifest tests); other devices get PyTorch's default initialisation.
// Tested through tests/models/unet_test.cpp and layers_test.cpp.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace sagbench::models {

// A container module that only names its children ("in_layers", "out", ...).
std::shared_ptr<torch::nn::Module> add_group(torch::nn::Module& parent, const std::string& name);

// Conv1d / Conv2d (upstream conv_nd). `zero_init` mirrors upstream zero_module.
class ConvLayer : public torch::nn::Module {
 public:
  ConvLayer(int dims, int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
            int64_t padding, at::Device device, bool zero_init = false);
  at::Tensor forward(const at::Tensor& x) const;
  // Casts weight and bias (upstream convert_module_to_f16 touches convolutions only).
  void cast_parameters(at::ScalarType dtype);
  int64_t out_channels() const { return weight_.size(0); }

 private:
  int dims_;
  int64_t stride_;
  int64_t padding_;
  at::Tensor weight_;
  at::Tensor bias_;
};

class LinearLayer : public torch::nn::Module {
 public:
  LinearLayer(int64_t in_features, int64_t out_features, at::Device device);
  at::Tensor forward(const at::Tensor& x) const;

 private:
  at::Tensor weight_;
  at::Tensor bias_;
};

// GroupNorm with 32 groups computed in float32 whatever the input dtype, the
// result cast back (upstream GroupNorm32); eps 1e-5, affine parameters in fp32.
class GroupNorm32 : public torch::nn::Module {
 public:
  GroupNorm32(int64_t channels, at::Device device);
  at::Tensor forward(const at::Tensor& x) const;

 private:
  at::Tensor weight_;
  at::Tensor bias_;
};

// Class-label embedding (nn.Embedding, N(0, 1) init).
class EmbeddingLayer : public torch::nn::Module {
 public:
  EmbeddingLayer(int64_t num_embeddings, int64_t dim, at::Device device);
  at::Tensor forward(const at::Tensor& labels) const;
  int64_t num_embeddings() const { return weight_.size(0); }

 private:
  at::Tensor weight_;
};

// Sinusoidal embedding [cos(t f), sin(t f)] with f_i = exp(-ln(max_period) i / half),
// i < half = dim / 2, computed in float32 like upstream (zero-padded when dim is odd).
// Timesteps are used as given (fractional values allowed).
at::Tensor timestep_embedding(const at::Tensor& timesteps, int64_t dim, double max_period = 10000.0);

// "(2, 3, 32, 32)", or "an undefined tensor", for error messages.
std::string describe_shape(const at::Tensor& tensor);

// Casts every ConvLayer under `module` (upstream convert_module_to_f16/f32).
void cast_convolutions(torch::nn::Module& module, at::ScalarType dtype);

}  // namespace sagbench::models
