// The .npy format (numpy/lib/format.py, format versions 1.0, 2.0 and 3.0):
// magic "\x93NUMPY", version, header length, then a Python dict literal
// {'descr', 'fortran_order', 'shape'} padded to 64 bytes, then the raw data.
// Little-endian dtypes u8/i8/i16/i32/i64/f16/f32/f64/bool; C and Fortran
// order (Fortran arrays come back as C-contiguous tensors with the same
// values). Hostile headers raise kFormat naming the source.
// Tested by tests/io/npy_test.cpp, numpy_interop_test.cpp, tests/fuzz/npy_fuzz.cpp.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sagbench::io {

struct NpyHeader {
  at::ScalarType dtype = at::kFloat;
  std::vector<std::int64_t> shape;
  bool fortran_order = false;
  // Offset of the data from the start of the .npy bytes (preamble + dict).
  std::uint64_t header_bytes = 0;

  std::int64_t numel() const;
  std::uint64_t item_bytes() const;
  // numel * item_bytes; parse_npy_header guarantees it does not overflow.
  std::uint64_t data_bytes() const;
  // Bytes of one index along axis 0 (the whole array for 0-d).
  std::uint64_t row_bytes() const;
};

// Reads exactly n bytes into dst or throws.
using ReadExactFn = std::function<void(void* dst, std::uint64_t bytes)>;

bool npy_supports(at::ScalarType dtype);
// The npy descr string ('<f4', '|u1', ...) of a dtype; kFormat for dtypes
// numpy files cannot hold (bf16, complex, ...).
std::string npy_descr(at::ScalarType dtype);

// Parses a complete header (preamble + dict) held in `data`; `source` names
// the file (and entry) in errors.
NpyHeader parse_npy_header(const std::uint8_t* data, std::size_t size, const std::string& source);
// Reads the preamble and dict through `read` (never more than the header).
NpyHeader read_npy_header(const ReadExactFn& read, const std::string& source);
// The header numpy would write: version 1.0 unless the dict needs 2.0,
// total length a multiple of 64, dict ending in '\n'.
std::vector<std::uint8_t> format_npy_header(at::ScalarType dtype, at::IntArrayRef shape, bool fortran_order);

// Reads the data that follows `header` into a C-contiguous CPU tensor.
// The caller must have checked that data_bytes() are available.
at::Tensor read_npy_data(const NpyHeader& header, const ReadExactFn& read, const std::string& source);
// The tensor whose contiguous bytes are the data of an npy file of `tensor`
// (CPU, contiguous; transposed for Fortran order).
at::Tensor npy_data_tensor(const at::Tensor& tensor, bool fortran_order);

at::Tensor read_npy(const std::string& path);
NpyHeader read_npy_header(const std::string& path);
void write_npy(const std::string& path, const at::Tensor& tensor, bool fortran_order = false);

}  // namespace sagbench::io
