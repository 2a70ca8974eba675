// .npz archives as numpy's savez / savez_compressed / load handle them
// (numpy/lib/npyio.py): a ZIP of "<name>.npy" entries, stored or deflated.
// NpzReader reads whole arrays or streams row ranges along axis 0, so arrays
// larger than memory (50k x 256 x 256 x 3 uint8 = 9.8 GB) are read batch by
// batch; NpzWriter writes stored entries, whole or streamed row by row,
// through ZipWriter (ZIP64 as needed, tmp + rename).
// Tested by tests/io/npz_test.cpp and tests/io/numpy_interop_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/npy.h"
#include "io/tensor_dict.h"
#include "io/zip_reader.h"
#include "io/zip_writer.h"

namespace sagbench::io {

// np.savez's name for the index-th positional array: "arr_<index>".
std::string savez_name(std::size_t index);

// Not thread-safe: one reader per thread.
class NpzReader {
 public:
  explicit NpzReader(const std::string& path);
  ~NpzReader();
  NpzReader(const NpzReader&) = delete;
  NpzReader& operator=(const NpzReader&) = delete;

  const std::string& path() const { return zip_.path(); }
  // Array names in archive order, without the ".npy" suffix.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const;
  // Parsed once per array and checked against the entry size.
  const NpyHeader& header(const std::string& name);
  at::Tensor read(const std::string& name);
  // Rows [start, start + count) along axis 0 of a C-order array of rank >= 1.
  // Consecutive calls with increasing `start` continue one open stream, so a
  // deflated entry is decoded once however many batches are read.
  at::Tensor read_rows(const std::string& name, std::int64_t start, std::int64_t count);

 private:
  std::string entry_name(const std::string& name) const;
  std::string source(const std::string& name) const;

  ZipReader zip_;
  std::vector<std::string> names_;
  std::map<std::string, NpyHeader> headers_;
  // The stream left open by the last read_rows, positioned after its rows.
  std::string cursor_name_;
  std::unique_ptr<ZipEntryStream> cursor_;
};

class NpzWriter;

// Streams one array into an NpzWriter: rows are appended in order along
// axis 0 and must match the declared dtype and trailing shape.
class NpzArrayWriter {
 public:
  NpzArrayWriter(NpzArrayWriter&&) noexcept = default;
  NpzArrayWriter& operator=(NpzArrayWriter&&) = delete;
  NpzArrayWriter(const NpzArrayWriter&) = delete;
  NpzArrayWriter& operator=(const NpzArrayWriter&) = delete;
  ~NpzArrayWriter() = default;

  // `rows` has shape (k, shape[1:]...) and the declared dtype.
  void append(const at::Tensor& rows);
  std::int64_t rows_written() const { return rows_written_; }
  // Ends the entry; kShape error unless exactly shape[0] rows were appended.
  void finish();

 private:
  friend class NpzWriter;
  NpzArrayWriter(NpzWriter* owner, std::string name, at::ScalarType dtype, std::vector<std::int64_t> shape);

  NpzWriter* owner_;
  std::string name_;
  at::ScalarType dtype_;
  std::vector<std::int64_t> shape_;
  std::int64_t rows_written_ = 0;
  bool finished_ = false;
};

class NpzWriter {
 public:
  explicit NpzWriter(const std::string& path, ZipWriterOptions options = {});

  const std::string& path() const { return zip_.path(); }
  // Writes a whole array as "<name>.npy" (C order, or Fortran on request).
  void add(const std::string& name, const at::Tensor& tensor, bool fortran_order = false);
  // Positional array, named like np.savez(file, a, b): arr_0, arr_1, ...
  void add(const at::Tensor& tensor);
  // Starts a streamed C-order array; only one may be open at a time.
  NpzArrayWriter begin_array(const std::string& name, at::ScalarType dtype, std::vector<std::int64_t> shape);
  // Closes the archive; kShape error if a streamed array is unfinished.
  void finish();

 private:
  friend class NpzArrayWriter;
  ZipWriter zip_;
  std::size_t positional_count_ = 0;
};

TensorDict read_npz(const std::string& path);
// np.savez(path, **dict) equivalent (stored entries, C order).
void write_npz(const std::string& path, const TensorDict& tensors);

}  // namespace sagbench::io
