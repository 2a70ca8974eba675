// Atomic whole-file writes: temporary file + fsync + rename/link (see atomic_write.h).
#include "core/atomic_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace sagbench {
namespace {
namespace fs = std::filesystem;

// Writes all bytes to fd, retrying short writes; returns errno or 0.
int write_all(int fd, std::string_view bytes) {
  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      return written < 0 ? errno : EIO;
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
  return 0;
}

}  // namespace

void sync_parent_directory(const std::string& path) {
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) {
    dir = ".";
  }
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void write_file_atomic(const std::string& path, std::string_view bytes, Replace replace) {
  SAG_REQUIRE(!path.empty(), kIo, "cannot write a file with an empty path");
  static std::atomic<unsigned> counter{0};
  const fs::path target(path);
  const std::string temp_path =
      (target.parent_path() / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                               std::to_string(counter++)))
          .string();
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  SAG_REQUIRE(fd >= 0, kIo, "cannot write '{}': cannot create a temporary file beside it: {}", path,
              std::strerror(errno));
  int error = write_all(fd, bytes);
  if (error == 0 && ::fsync(fd) != 0) {
    error = errno;
  }
  if (::close(fd) != 0 && error == 0) {
    error = errno;
  }
  if (error == 0) {
    if (replace == Replace::kNever) {
      // link() fails with EEXIST instead of replacing: no race with another writer.
      error = ::link(temp_path.c_str(), path.c_str()) == 0 ? 0 : errno;
    } else {
      error = ::rename(temp_path.c_str(), path.c_str()) == 0 ? 0 : errno;
    }
  }
  if (error != 0 || replace == Replace::kNever) {
    ::unlink(temp_path.c_str());
  }
  SAG_REQUIRE(error != EEXIST || replace != Replace::kNever, kIo, "refusing to overwrite existing file '{}'",
              path);
  SAG_REQUIRE(error == 0, kIo, "cannot write '{}': {}", path, std::strerror(error));
  sync_parent_directory(path);
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  SAG_REQUIRE(fs::is_regular_file(path, ec), kIo, "cannot read '{}': {}", path,
              fs::exists(path, ec) ? "not a regular file" : "no such file");
  std::ifstream in(path, std::ios::binary);
  SAG_REQUIRE(in.good(), kIo, "cannot read '{}': {}", path, std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  SAG_REQUIRE(!in.bad(), kIo, "error while reading '{}'", path);
  return buffer.str();
}

}  // namespace sagbench
