// Read-only access to ZIP archives (libzip): the container of .npz files and
// of torch.save >= 1.6 checkpoints. Stored and deflated entries, ZIP64.
// Entries are streamed, never loaded whole unless asked. Every failure
// (truncated file, bad central directory, CRC mismatch, unsupported method)
// raises sagbench::Error(kFormat) naming the archive and the entry.
// Tested by tests/io/zip_test.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sagbench::io {

struct ZipEntryInfo {
  std::string name;
  std::uint64_t size = 0;             // uncompressed bytes
  std::uint64_t compressed_size = 0;  // bytes in the archive
  bool deflated = false;              // false: stored
};

// A sequential reader over one entry's uncompressed bytes.
class ZipEntryStream {
 public:
  virtual ~ZipEntryStream() = default;
  // Reads exactly `bytes` bytes or throws (naming archive and entry) if the
  // entry ends early or the data are corrupt.
  virtual void read_exact(void* dst, std::uint64_t bytes) = 0;
  // Skips forward `bytes` bytes (reads and discards for deflated entries).
  virtual void skip(std::uint64_t bytes) = 0;
  virtual std::uint64_t position() const = 0;
};

class ZipReader {
 public:
  explicit ZipReader(const std::string& path);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<ZipEntryInfo>& entries() const { return entries_; }
  // nullptr when absent.
  const ZipEntryInfo* find(const std::string& name) const;
  // Throws kFormat naming the archive when absent.
  const ZipEntryInfo& at(const std::string& name) const;
  std::unique_ptr<ZipEntryStream> open(const std::string& name) const;
  // Whole entry into memory (refuses entries larger than `max_bytes`).
  std::vector<std::uint8_t> read_all(const std::string& name,
                                     std::uint64_t max_bytes = std::uint64_t{1} << 34) const;

 private:
  std::string path_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<ZipEntryInfo> entries_;
};

}  // namespace sagbench::io
