// The safetensors format (huggingface/safetensors, docs "Format"): an 8-byte
// little-endian header length N, N bytes of JSON mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// data buffer) plus an optional "__metadata__" string map, then the data.
// Validation follows the reference loader: offsets in range, contiguous,
// non-overlapping, and matching numel * dtype size; violations are kFormat
// errors naming the file and tensor. Tested by tests/io/safetensors_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/tensor_dict.h"

namespace sagbench::io {

using SafetensorsMetadata = std::map<std::string, std::string>;

struct SafetensorsEntry {
  std::string name;
  at::ScalarType dtype = at::kFloat;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte offsets into the data buffer
  std::uint64_t end = 0;
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> tensors;  // in data-offset order
  SafetensorsMetadata metadata;
  std::uint64_t data_offset = 0;  // 8 + N: where the data buffer starts in the file
};

// The safetensors dtype name ("F32", "BF16", ...); kFormat for unsupported dtypes.
std::string safetensors_dtype_name(at::ScalarType dtype);

// Parses and validates the header only (no tensor data is read).
SafetensorsHeader read_safetensors_header(const std::string& path);
// Tensors in data-offset order (for files we write: insertion order).
TensorDict read_safetensors(const std::string& path, SafetensorsMetadata* metadata = nullptr);
// Tensors are written contiguously in dict order; header padded to 8 bytes.
void write_safetensors(const std::string& path, const TensorDict& tensors,
                       const SafetensorsMetadata& metadata = {});

}  // namespace sagbench::io
