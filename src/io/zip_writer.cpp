// ZipWriter (see zip_writer.h). Every local header carries a ZIP64 extra field
// with 32-bit sizes set to 0xFFFFFFFF (as Python's zipfile does for
// np.savez's force_zip64), so an entry may grow past 4 GiB without knowing its
// size up front; sizes and CRC are patched in place when the entry ends.
// The central directory uses ZIP64 fields only where values overflow (or
// always with force_zip64). Timestamps are fixed (1980-01-01) so output is
// reproducible. Tested by tests/io/zip_test.cpp.
#include "io/zip_writer.h"

#include <zlib.h>

#include <algorithm>

#include "core/error.h"

namespace sagbench::io {
namespace {

constexpr std::uint32_t kLocalSignature = 0x04034b50;
constexpr std::uint32_t kCentralSignature = 0x02014b50;
constexpr std::uint32_t kEndSignature = 0x06054b50;
constexpr std::uint32_t kEnd64Signature = 0x06064b50;
constexpr std::uint32_t kEnd64LocatorSignature = 0x07064b50;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint16_t kVersionZip64 = 45;
constexpr std::uint16_t kMadeByUnix = (3 << 8) | kVersionZip64;
constexpr std::uint16_t kDosDate1980 = (1 << 5) | 1;  // 1980-01-01
constexpr std::uint16_t kFlagUtf8 = 1 << 11;
constexpr std::uint32_t kMax32 = 0xFFFFFFFFu;
constexpr std::uint16_t kMax16 = 0xFFFFu;
constexpr std::uint32_t kUnixFileMode = 0100644u;

// Little-endian field serializer.
class Bytes {
 public:
  Bytes& u16(std::uint16_t v) { return put(v, 2); }
  Bytes& u32(std::uint32_t v) { return put(v, 4); }
  Bytes& u64(std::uint64_t v) { return put(v, 8); }
  Bytes& str(const std::string& s) {
    data_.insert(data_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& raw(const std::vector<std::uint8_t>& b) {
    data_.insert(data_.end(), b.begin(), b.end());
    return *this;
  }
  const std::vector<std::uint8_t>& data() const { return data_; }

 private:
  Bytes& put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
      data_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    return *this;
  }
  std::vector<std::uint8_t> data_;
};

bool is_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::uint32_t crc32_update(std::uint32_t crc, const std::uint8_t* data, std::uint64_t bytes) {
  constexpr std::uint64_t kChunk = std::uint64_t{1} << 30;  // zlib takes 32-bit lengths
  while (bytes > 0) {
    const std::uint64_t n = std::min(bytes, kChunk);
    crc = static_cast<std::uint32_t>(::crc32(crc, data, static_cast<uInt>(n)));
    data += n;
    bytes -= n;
  }
  return crc;
}

}  // namespace

ZipWriter::ZipWriter(const std::string& path, ZipWriterOptions options) : options_(options), file_(path) {}

void ZipWriter::begin_entry(const std::string& name) {
  SAG_CHECK(!finished_, "begin_entry after finish");
  SAG_CHECK(!open_, "begin_entry('{}') while another entry is open", name);
  SAG_REQUIRE(!name.empty() && name.size() < kMax16, kFormat, "{}: invalid ZIP entry name '{}'", path(),
              name);
  SAG_REQUIRE(names_.insert(name).second, kFormat, "{}: duplicate ZIP entry name '{}'", path(), name);
  Entry entry;
  entry.name = name;
  entry.local_offset = file_.size();
  Bytes header;
  header.u32(kLocalSignature)
      .u16(kVersionZip64)
      .u16(is_ascii(name) ? 0 : kFlagUtf8)
      .u16(0)  // stored
      .u16(0)
      .u16(kDosDate1980)
      .u32(0)  // CRC, patched in end_entry
      .u32(kMax32)
      .u32(kMax32)
      .u16(static_cast<std::uint16_t>(name.size()))
      .u16(20)
      .str(name)
      .u16(kZip64ExtraId)
      .u16(16)
      .u64(0)   // uncompressed size, patched
      .u64(0);  // compressed size, patched
  file_.write(header.data().data(), header.data().size());
  entries_.push_back(entry);
  open_ = true;
}

void ZipWriter::append(const void* data, std::uint64_t bytes) {
  SAG_CHECK(open_, "append without an open entry");
  Entry& entry = entries_.back();
  entry.crc32 = crc32_update(entry.crc32, static_cast<const std::uint8_t*>(data), bytes);
  file_.write(data, bytes);
  entry.size += bytes;
}

void ZipWriter::end_entry() {
  SAG_CHECK(open_, "end_entry without an open entry");
  const Entry& entry = entries_.back();
  const auto crc = Bytes().u32(entry.crc32).data();
  file_.write_at(entry.local_offset + 14, crc.data(), crc.size());
  const auto sizes = Bytes().u64(entry.size).u64(entry.size).data();
  file_.write_at(entry.local_offset + 30 + entry.name.size() + 4, sizes.data(), sizes.size());
  open_ = false;
}

void ZipWriter::add_entry(const std::string& name, const void* data, std::uint64_t bytes) {
  begin_entry(name);
  append(data, bytes);
  end_entry();
}

void ZipWriter::write_central_directory() {
  const std::uint64_t central_offset = file_.size();
  const bool force = options_.force_zip64;
  for (const Entry& entry : entries_) {
    const bool size64 = force || entry.size >= kMax32;
    const bool offset64 = force || entry.local_offset >= kMax32;
    Bytes extra;
    if (size64 || offset64) {
      Bytes fields;
      if (size64) {
        fields.u64(entry.size).u64(entry.size);
      }
      if (offset64) {
        fields.u64(entry.local_offset);
      }
      extra.u16(kZip64ExtraId).u16(static_cast<std::uint16_t>(fields.data().size())).raw(fields.data());
    }
    const auto size32 = size64 ? kMax32 : static_cast<std::uint32_t>(entry.size);
    Bytes record;
    record.u32(kCentralSignature)
        .u16(kMadeByUnix)
        .u16(kVersionZip64)  // as in the local header, which always has a ZIP64 extra
        .u16(is_ascii(entry.name) ? 0 : kFlagUtf8)
        .u16(0)
        .u16(0)
        .u16(kDosDate1980)
        .u32(entry.crc32)
        .u32(size32)
        .u32(size32)
        .u16(static_cast<std::uint16_t>(entry.name.size()))
        .u16(static_cast<std::uint16_t>(extra.data().size()))
        .u16(0)  // comment
        .u16(0)  // disk
        .u16(0)  // internal attributes
        .u32(kUnixFileMode << 16)
        .u32(offset64 ? kMax32 : static_cast<std::uint32_t>(entry.local_offset))
        .str(entry.name)
        .raw(extra.data());
    file_.write(record.data().data(), record.data().size());
  }
  const std::uint64_t central_bytes = file_.size() - central_offset;
  const std::uint64_t count = entries_.size();
  const bool end64 = force || count >= kMax16 || central_bytes >= kMax32 || central_offset >= kMax32;
  Bytes end;
  if (end64) {
    const std::uint64_t end64_offset = file_.size();
    end.u32(kEnd64Signature)
        .u64(44)  // size of the rest of this record
        .u16(kMadeByUnix)
        .u16(kVersionZip64)
        .u32(0)
        .u32(0)
        .u64(count)
        .u64(count)
        .u64(central_bytes)
        .u64(central_offset);
    end.u32(kEnd64LocatorSignature).u32(0).u64(end64_offset).u32(1);
  }
  const auto count16 = end64 ? kMax16 : static_cast<std::uint16_t>(count);
  end.u32(kEndSignature)
      .u16(0)
      .u16(0)
      .u16(count16)
      .u16(count16)
      .u32(end64 ? kMax32 : static_cast<std::uint32_t>(central_bytes))
      .u32(end64 ? kMax32 : static_cast<std::uint32_t>(central_offset))
      .u16(0);
  file_.write(end.data().data(), end.data().size());
}

void ZipWriter::finish() {
  SAG_CHECK(!finished_, "finish called twice on {}", path());
  SAG_CHECK(!open_, "finish with entry '{}' still open", entries_.back().name);
  write_central_directory();
  file_.commit();
  finished_ = true;
}

}  // namespace sagbench::io
