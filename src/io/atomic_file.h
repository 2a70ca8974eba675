// A file written whole or not at all: bytes go to `path + ".tmp"`, which
// commit() renames into place; destruction without commit() removes it, so a
// crash or an exception never leaves a partial file under the final name.
// Used by every tensor-file writer (npy, zip/npz, safetensors); tested through
// their tests (tests/io/zip_test.cpp checks the abandoned case).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace sagbench::io {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& path() const { return path_; }
  // Appends at the end; sizes above 2^31 are written in chunks.
  void write(const void* data, std::uint64_t bytes);
  // Overwrites bytes already written (e.g. patching a header), then returns to the end.
  void write_at(std::uint64_t offset, const void* data, std::uint64_t bytes);
  // Bytes written so far (the current end of the file).
  std::uint64_t size() const { return size_; }
  // Flushes, fsyncs, closes and renames the temporary file to `path`, then
  // fsyncs the directory.
  void commit();

 private:
  void seek(std::uint64_t offset);

  std::string path_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
  std::uint64_t size_ = 0;
  bool committed_ = false;
};

}  // namespace sagbench::io
