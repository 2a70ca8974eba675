// Streaming ZIP writer for stored (uncompressed) entries, as np.savez and
// torch.save write them (PKWARE APPNOTE 6.3: local headers, central directory,
// ZIP64 records). Entry bytes are appended incrementally with a running CRC-32
// (zlib), never held whole; ZIP64 fields are used whenever a size or offset
// needs them. Output goes through AtomicFile (tmp + rename on finish()).
// Tested by tests/io/zip_test.cpp (read back by ZipReader and by numpy).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "io/atomic_file.h"

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
  ~ZipWriter() = default;
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  const std::string& path() const { return file_.path(); }
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

  void write_central_directory();

  ZipWriterOptions options_;
  AtomicFile file_;
  std::vector<Entry> entries_;
  std::set<std::string> names_;
  bool open_ = false;
  bool finished_ = false;
};

}  // namespace sagbench::io
