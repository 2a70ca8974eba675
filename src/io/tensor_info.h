// Name, dtype and shape of one tensor in a file, known from its header alone:
// what `sagbench info` lists and what describe_tensor_file() returns.
// Tested through tests/io/tensor_file_test.cpp.
#pragma once

#include <c10/core/ScalarType.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sagbench::io {

struct TensorInfo {
  std::string name;
  c10::ScalarType dtype = c10::ScalarType::Float;
  std::vector<std::int64_t> shape;

  std::int64_t numel() const {
    std::int64_t count = 1;
    for (std::int64_t dim : shape) {
      count *= dim;
    }
    return count;
  }
  std::int64_t nbytes() const { return numel() * static_cast<std::int64_t>(c10::elementSize(dtype)); }
};

}  // namespace sagbench::io
