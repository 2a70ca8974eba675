// AtomicFile (see atomic_file.h): stdio with a 1 MiB buffer and 64-bit
// offsets (fseeko), so streamed files past 4 GiB patch headers in place.
// The rename is atomic on POSIX within one directory (the .tmp sits beside
// the target); the data and then the directory entry are fsync'ed. Tested
// through tests/io/zip_test.cpp and npy_test.cpp (abandoned and refused
// writes leave neither file nor .tmp).
#include "io/atomic_file.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/atomic_write.h"
#include "core/error.h"

namespace sagbench::io {

AtomicFile::AtomicFile(const std::string& path) : path_(path), tmp_path_(path + ".tmp") {
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  SAG_REQUIRE(file_ != nullptr, kIo, "{}: cannot create {}: {}", path_, tmp_path_, std::strerror(errno));
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    if (file_ != nullptr) {
      std::fclose(file_);
    }
    std::error_code ec;
    std::filesystem::remove(tmp_path_, ec);
  }
}

void AtomicFile::write(const void* data, std::uint64_t bytes) {
  SAG_CHECK(file_ != nullptr, "write to {} after commit", path_);
  constexpr std::uint64_t kChunk = std::uint64_t{1} << 30;
  const auto* src = static_cast<const std::uint8_t*>(data);
  for (std::uint64_t done = 0; done < bytes;) {
    const auto n = static_cast<std::size_t>(std::min(bytes - done, kChunk));
    SAG_REQUIRE(std::fwrite(src + done, 1, n, file_) == n, kIo, "{}: write failed: {}", tmp_path_,
                std::strerror(errno));
    done += n;
  }
  size_ += bytes;
}

void AtomicFile::seek(std::uint64_t offset) {
  SAG_REQUIRE(fseeko(file_, static_cast<off_t>(offset), SEEK_SET) == 0, kIo, "{}: seek failed: {}", tmp_path_,
              std::strerror(errno));
}

void AtomicFile::write_at(std::uint64_t offset, const void* data, std::uint64_t bytes) {
  SAG_CHECK(file_ != nullptr && offset + bytes <= size_, "write_at beyond the end of {}", path_);
  seek(offset);
  const std::uint64_t end = size_;
  write(data, bytes);
  size_ = end;
  seek(end);
}

void AtomicFile::commit() {
  SAG_CHECK(file_ != nullptr, "commit of {} twice", path_);
  // The data reaches the disk before the rename, so a crash never leaves a short file under `path`.
  const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  SAG_REQUIRE(flushed && closed, kIo, "{}: cannot complete write: {}", tmp_path_, std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(tmp_path_, path_, ec);
  SAG_REQUIRE(!ec, kIo, "{}: cannot rename {} into place: {}", path_, tmp_path_, ec.message());
  sync_parent_directory(path_);
  committed_ = true;
}

}  // namespace sagbench::io
