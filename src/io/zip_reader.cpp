// ZipReader over libzip (see zip_reader.h). The archive is opened with
// ZIP_CHECKCONS so local headers are checked against the central directory;
// declared sizes are checked against the file size (and the deflate bound)
// before anything is allocated, and CRC-32 is verified when an entry is read
// to its end. Tested by tests/io/zip_test.cpp.
#include "io/zip_reader.h"

#include <zip.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "core/error.h"

namespace sagbench::io {
namespace {

// Deflate cannot expand data by more than 1032:1 (RFC 1951 worst case for
// runs), so a declared size above this is a lie we refuse before allocating.
constexpr std::uint64_t kMaxDeflateRatio = 1032;
constexpr std::uint64_t kDeflateSlackBytes = 1024;
constexpr std::uint64_t kSeekMinBytes = 1 << 20;

std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

class LibzipEntryStream final : public ZipEntryStream {
 public:
  LibzipEntryStream(zip_file_t* file, const std::string& archive, const ZipEntryInfo& info)
      : file_(file), archive_(archive), info_(info) {}
  ~LibzipEntryStream() override { zip_fclose(file_); }
  LibzipEntryStream(const LibzipEntryStream&) = delete;
  LibzipEntryStream& operator=(const LibzipEntryStream&) = delete;

  void read_exact(void* dst, std::uint64_t bytes) override {
    SAG_REQUIRE(bytes <= info_.size - position_, kFormat,
                "{}: entry '{}' ends at {} bytes, read of {} bytes at offset {} goes past it", archive_,
                info_.name, info_.size, bytes, position_);
    auto* out = static_cast<std::uint8_t*>(dst);
    std::uint64_t done = 0;
    while (done < bytes) {
      zip_int64_t got = zip_fread(file_, out + done, bytes - done);
      if (got < 0) {
        fail("read failed");
      }
      SAG_REQUIRE(got > 0, kFormat, "{}: entry '{}' is truncated at {} of {} declared bytes", archive_,
                  info_.name, position_ + done, info_.size);
      done += static_cast<std::uint64_t>(got);
    }
    position_ += bytes;
    if (position_ == info_.size) {
      verify_end();
    }
  }

  void skip(std::uint64_t bytes) override {
    SAG_REQUIRE(bytes <= info_.size - position_, kFormat,
                "{}: entry '{}' ends at {} bytes, skip of {} bytes at offset {} goes past it", archive_,
                info_.name, info_.size, bytes, position_);
    if (bytes == 0) {
      return;
    }
    // Long skips over stored entries seek directly (the CRC is then not
    // checked); short ones, and any over deflated data, decode and discard.
    if (!info_.deflated && bytes > kSeekMinBytes) {
      if (zip_fseek(file_, static_cast<zip_int64_t>(position_ + bytes), SEEK_SET) != 0) {
        fail("seek failed");
      }
      position_ += bytes;
      seeked_ = true;
      return;
    }
    std::vector<std::uint8_t> scratch(static_cast<std::size_t>(std::min<std::uint64_t>(bytes, 1 << 20)));
    std::uint64_t left = bytes;
    while (left > 0) {
      std::uint64_t chunk = std::min<std::uint64_t>(left, scratch.size());
      read_exact(scratch.data(), chunk);
      left -= chunk;
    }
  }

  std::uint64_t position() const override { return position_; }

 private:
  // libzip checks the CRC when the decoder reports end of data; ask for one
  // more byte so a corrupt entry fails here rather than silently.
  void verify_end() {
    if (seeked_) {
      return;
    }
    std::uint8_t extra = 0;
    zip_int64_t got = zip_fread(file_, &extra, 1);
    if (got < 0) {
      fail("integrity check failed");
    }
    SAG_REQUIRE(got == 0, kFormat, "{}: entry '{}' holds more data than its declared {} bytes", archive_,
                info_.name, info_.size);
  }

  [[noreturn]] void fail(const char* what) const {
    SAG_FAIL(kFormat, "{}: entry '{}': {} at offset {}: {}", archive_, info_.name, what, position_,
             zip_error_strerror(zip_file_get_error(file_)));
  }

  zip_file_t* file_;
  std::string archive_;
  ZipEntryInfo info_;
  std::uint64_t position_ = 0;
  bool seeked_ = false;
};

}  // namespace

struct ZipReader::Impl {
  zip_t* archive = nullptr;
  std::unordered_map<std::string, std::size_t> index_of;  // name -> position in entries_
  std::vector<zip_uint64_t> zip_index;                    // libzip index per entry
  ~Impl() {
    if (archive != nullptr) {
      zip_discard(archive);
    }
  }
};

ZipReader::ZipReader(const std::string& path) : path_(path), impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  SAG_REQUIRE(std::filesystem::is_regular_file(path, ec), kIo, "{}: no such file", path);
  const std::uint64_t file_bytes = std::filesystem::file_size(path, ec);
  SAG_REQUIRE(!ec, kIo, "{}: cannot stat: {}", path, ec.message());

  int code = 0;
  impl_->archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (impl_->archive == nullptr) {
    SAG_REQUIRE(code != ZIP_ER_OPEN && code != ZIP_ER_READ, kIo, "{}: cannot open: {}", path,
                zip_error_text(code));
    SAG_FAIL(kFormat, "{}: not a readable ZIP archive: {}", path, zip_error_text(code));
  }
  const zip_int64_t count = zip_get_num_entries(impl_->archive, 0);
  SAG_REQUIRE(count >= 0, kFormat, "{}: cannot count ZIP entries", path);
  entries_.reserve(static_cast<std::size_t>(count));
  for (zip_int64_t i = 0; i < count; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    zip_stat_t stat;
    zip_stat_init(&stat);
    SAG_REQUIRE(zip_stat_index(impl_->archive, index, ZIP_FL_ENC_RAW, &stat) == 0, kFormat,
                "{}: cannot read ZIP entry #{}: {}", path, i, zip_strerror(impl_->archive));
    const zip_uint64_t needed = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    SAG_REQUIRE((stat.valid & needed) == needed, kFormat, "{}: ZIP entry #{} lacks name or sizes", path, i);
    ZipEntryInfo info;
    info.name = stat.name;
    info.size = stat.size;
    info.compressed_size = stat.comp_size;
    SAG_REQUIRE(stat.comp_method == ZIP_CM_STORE || stat.comp_method == ZIP_CM_DEFLATE, kFormat,
                "{}: entry '{}' uses unsupported compression method {}", path, info.name, stat.comp_method);
    SAG_REQUIRE(!(stat.valid & ZIP_STAT_ENCRYPTION_METHOD) || stat.encryption_method == ZIP_EM_NONE, kFormat,
                "{}: entry '{}' is encrypted", path, info.name);
    info.deflated = stat.comp_method == ZIP_CM_DEFLATE;
    SAG_REQUIRE(info.compressed_size <= file_bytes, kFormat,
                "{}: entry '{}' declares {} compressed bytes but the file has only {}", path, info.name,
                info.compressed_size, file_bytes);
    if (info.deflated) {
      SAG_REQUIRE(info.size <= info.compressed_size * kMaxDeflateRatio + kDeflateSlackBytes, kFormat,
                  "{}: entry '{}' declares {} bytes from {} compressed bytes (beyond deflate's limit)", path,
                  info.name, info.size, info.compressed_size);
    } else {
      SAG_REQUIRE(info.size == info.compressed_size, kFormat,
                  "{}: stored entry '{}' declares {} bytes but occupies {}", path, info.name, info.size,
                  info.compressed_size);
    }
    SAG_REQUIRE(impl_->index_of.emplace(info.name, entries_.size()).second, kFormat,
                "{}: entry name '{}' appears twice in the archive", path, info.name);
    impl_->zip_index.push_back(index);
    entries_.push_back(std::move(info));
  }
}

ZipReader::~ZipReader() = default;

const ZipEntryInfo* ZipReader::find(const std::string& name) const {
  auto it = impl_->index_of.find(name);
  return it == impl_->index_of.end() ? nullptr : &entries_[it->second];
}

const ZipEntryInfo& ZipReader::at(const std::string& name) const {
  const ZipEntryInfo* info = find(name);
  SAG_REQUIRE(info != nullptr, kFormat, "{}: no entry named '{}' in the archive", path_, name);
  return *info;
}

std::unique_ptr<ZipEntryStream> ZipReader::open(const std::string& name) const {
  const ZipEntryInfo& info = at(name);
  const zip_uint64_t index = impl_->zip_index[impl_->index_of.at(name)];
  zip_file_t* file = zip_fopen_index(impl_->archive, index, 0);
  SAG_REQUIRE(file != nullptr, kFormat, "{}: cannot open entry '{}': {}", path_, name,
              zip_strerror(impl_->archive));
  return std::make_unique<LibzipEntryStream>(file, path_, info);
}

std::vector<std::uint8_t> ZipReader::read_all(const std::string& name, std::uint64_t max_bytes) const {
  const ZipEntryInfo& info = at(name);
  SAG_REQUIRE(info.size <= max_bytes, kFormat, "{}: entry '{}' declares {} bytes, more than the {} allowed",
              path_, name, info.size, max_bytes);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(info.size));
  auto stream = open(name);
  stream->read_exact(bytes.data(), info.size);
  if (info.size == 0) {
    stream->read_exact(nullptr, 0);
  }
  return bytes;
}

}  // namespace sagbench::io
