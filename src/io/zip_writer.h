// Streaming ZIP writer for stored (uncompressed) entries, as np.savez and
// torch.save write them (PKWARE APPNOTE 6.3: local headers, central directory,
// ZIP64 records). Entry bytes are appended incrementally with a running CRC-32
// (zlib), never held whole; ZIP64 fields are used whenever a size or offset
// needs them. Output goes to `path + ".tmp"` and is renamed on finish().
// Tested by tests/io/zip_test.cpp (read back by ZipReader and by numpy).
#pragma once

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

namespace sagbench::io {

struct ZipWriterOptions {
  // Write ZIP64 central records and end records even for small archives
  // (exercises the > 4 GiB code path cheaply in tests).
  bool force_zip64 = false;
};

class ZipWriter {
 public:
  explicit ZipWriter(const std::string& path, ZipWriterOptions options = {});
  // Without finish(), the temporary file is removed and `path` is untouched.
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  const std::string& path() const { return path_; }
  // Starts an entry; a duplicate name or an entry already open is an error.
  void begin_entry(const std::string& name);
  void append(const void* data, std::uint64_t bytes);
  void end_entry();
  // begin_entry + append + end_entry.
  void add_entry(const std::string& name, const void* data, std::uint64_t bytes);
  bool entry_open() const { return open_; }
  // Writes the central directory, closes and renames the file into place.
  void finish();

 private:
  struct Entry {
    std::string name;
    std::uint64_t local_offset = 0;
    std::uint64_t size = 0;
    std::uint32_t crc32 = 0;
  };

  void write_bytes(const void* data, std::size_t bytes);
  void write_at(std::uint64_t offset, const std::vector<std::uint8_t>& bytes);
  void write_central_directory();
  void close_file();

  std::string path_;
  std::string tmp_path_;
  ZipWriterOptions options_;
  std::FILE* file_ = nullptr;
  std::uint64_t offset_ = 0;
  std::vector<Entry> entries_;
  std::set<std::string> names_;
  bool open_ = false;
  bool finished_ = false;
};

}  // namespace sagbench::io
