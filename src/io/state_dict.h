// Loading a TensorDict into a torch::nn::Module by name, strictly (like
// PyTorch's Module.load_state_dict(strict=True)): parameters and buffers must
// match one to one. Every missing, unexpected, shape- or dtype-mismatched
// tensor is collected and reported in one kShape error; nothing is copied
// unless all of them match. Tested by tests/io/state_dict_test.cpp.
#pragma once

#include <torch/nn/module.h>

#include <cstddef>
#include <string>

#include "io/tensor_dict.h"

namespace sagbench::io {

struct LoadOptions {
  // Convert tensors to the parameter's dtype (e.g. an fp16 checkpoint into an
  // fp32 model); otherwise a dtype mismatch is an error.
  bool convert_dtype = false;
  // Names listed per category in the error message (counts are always given).
  std::size_t max_listed = 20;
};

// `source` names the file (or other origin) of `tensors` in the error.
void load_state_dict(torch::nn::Module& module, const TensorDict& tensors, const std::string& source,
                     const LoadOptions& options = {});

// Parameters then buffers of each module, children after their parent, in
// registration order (PyTorch's state_dict() order). The tensors alias the
// module's own.
TensorDict state_dict_of(const torch::nn::Module& module);

}  // namespace sagbench::io
