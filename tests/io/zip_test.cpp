// Tests for ZipReader (libzip) and ZipWriter: archives written by libzip
// itself (stored and deflated) read back; damaged archives (truncated,
// central-directory bytes flipped, CRC mismatch, lying sizes) give kFormat
// errors naming the archive; every fixture .npz opens.
#include <gtest/gtest.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>

#include "core/error.h"
#include "io/zip_reader.h"
#include "io/zip_writer.h"
#include "support/fixtures.h"

namespace sagbench::io {
namespace {
namespace fs = std::filesystem;
using sagbench::testing::fixture_path;
using sagbench::testing::make_temp_dir;

std::vector<std::uint8_t> pseudo_random_bytes(std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> bytes(count);
  for (auto& b : bytes) {
    b = static_cast<std::uint8_t>(rng() % 7);  // low entropy so deflate shrinks it
  }
  return bytes;
}

// Writes an archive with libzip (an independent writer) holding `entries`.
void write_with_libzip(const std::string& path,
                       const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& entries,
                       bool deflate) {
  int code = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  ASSERT_NE(archive, nullptr);
  for (const auto& [name, bytes] : entries) {
    zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    ASSERT_NE(source, nullptr);
    zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE);
    ASSERT_GE(index, 0);
    ASSERT_EQ(zip_set_file_compression(archive, static_cast<zip_uint64_t>(index),
                                       deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0),
              0);
  }
  ASSERT_EQ(zip_close(archive), 0) << zip_strerror(archive);
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Position of the last occurrence of a 4-byte little-endian signature.
std::size_t rfind_signature(const std::vector<std::uint8_t>& bytes, std::uint32_t signature) {
  for (std::size_t i = bytes.size() - 4; i-- > 0;) {
    std::uint32_t value = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) |
                          (static_cast<std::uint32_t>(bytes[i + 3]) << 24);
    if (value == signature) {
      return i;
    }
  }
  return std::string::npos;
}

void expect_format_error_naming(const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected a kFormat error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

class ZipReaderTest : public ::testing::TestWithParam<bool> {};

TEST_P(ZipReaderTest, ReadsEntriesWrittenByLibzip) {
  const bool deflate = GetParam();
  std::string dir = make_temp_dir("zip_reader");
  std::string path = dir + "/a.zip";
  auto first = pseudo_random_bytes(3 << 20, 1);  // long enough for skip() to seek
  auto second = pseudo_random_bytes(17, 2);
  write_with_libzip(path, {{"first.bin", first}, {"dir/second.bin", second}, {"empty", {}}}, deflate);

  ZipReader reader(path);
  ASSERT_EQ(reader.entries().size(), 3u);
  EXPECT_EQ(reader.entries()[0].name, "first.bin");
  EXPECT_EQ(reader.entries()[1].name, "dir/second.bin");
  EXPECT_EQ(reader.at("first.bin").size, first.size());
  EXPECT_EQ(reader.at("first.bin").deflated, deflate);
  if (deflate) {
    EXPECT_LT(reader.at("first.bin").compressed_size, first.size());
  }
  EXPECT_EQ(reader.read_all("first.bin"), first);
  EXPECT_EQ(reader.read_all("dir/second.bin"), second);
  EXPECT_TRUE(reader.read_all("empty").empty());
  EXPECT_EQ(reader.find("missing"), nullptr);
  expect_format_error_naming([&] { reader.at("missing"); }, "missing");

  // Streaming: skip then read a window, and reads past the end are refused.
  auto stream = reader.open("first.bin");
  stream->skip(1000);
  std::vector<std::uint8_t> window(5000);
  stream->read_exact(window.data(), window.size());
  EXPECT_EQ(stream->position(), 6000u);
  EXPECT_TRUE(std::equal(window.begin(), window.end(), first.begin() + 1000));
  stream->skip(2 << 20);
  stream->read_exact(window.data(), window.size());
  EXPECT_EQ(stream->position(), 6000u + (2 << 20) + 5000u);
  EXPECT_TRUE(std::equal(window.begin(), window.end(), first.begin() + 6000 + (2 << 20)));
  expect_format_error_naming([&] { stream->skip(first.size()); }, "first.bin");
  expect_format_error_naming([&] { reader.read_all("first.bin", 100); }, "first.bin");
}

INSTANTIATE_TEST_SUITE_P(StoredAndDeflated, ZipReaderTest, ::testing::Values(false, true));

TEST(ZipReader, MissingFileIsIoError) {
  try {
    ZipReader reader("/nonexistent/archive.zip");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/archive.zip"), std::string::npos);
  }
}

TEST(ZipReader, NotAZipIsFormatError) {
  std::string path = make_temp_dir("zip_reader") + "/not.zip";
  write_file(path, pseudo_random_bytes(4096, 3));
  expect_format_error_naming([&] { ZipReader reader(path); }, path);
}

TEST(ZipReader, TruncatedArchivesAreFormatErrors) {
  std::string dir = make_temp_dir("zip_reader");
  std::string path = dir + "/full.zip";
  write_with_libzip(path, {{"a", pseudo_random_bytes(20000, 4)}, {"b", pseudo_random_bytes(20000, 5)}}, true);
  auto bytes = read_file(path);
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    std::string cut = dir + "/cut" + std::to_string(keep) + ".zip";
    write_file(cut, std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + keep));
    expect_format_error_naming([&] { ZipReader reader(cut); }, cut);
  }
}

TEST(ZipReader, FlippedCentralDirectoryBytesAreFormatErrors) {
  std::string dir = make_temp_dir("zip_reader");
  std::string path = dir + "/full.zip";
  auto payload = pseudo_random_bytes(5000, 6);
  write_with_libzip(path, {{"entry.bin", payload}}, false);
  const auto bytes = read_file(path);
  const std::size_t central = rfind_signature(bytes, 0x02014b50);
  ASSERT_NE(central, std::string::npos);
  // Offsets inside the central record: sizes (20, 24) and local-header offset (42).
  for (std::size_t field : {20u, 24u, 42u}) {
    auto damaged = bytes;
    damaged[central + field + 3] ^= 0x7f;
    std::string bad = dir + "/flip" + std::to_string(field) + ".zip";
    write_file(bad, damaged);
    expect_format_error_naming(
        [&] {
          ZipReader reader(bad);
          reader.read_all("entry.bin");
        },
        bad);
  }
}

TEST(ZipReader, CrcMismatchIsFormatError) {
  std::string dir = make_temp_dir("zip_reader");
  std::string path = dir + "/crc.zip";
  auto payload = pseudo_random_bytes(5000, 7);
  write_with_libzip(path, {{"entry.bin", payload}}, false);
  auto bytes = read_file(path);
  // Stored data follow the 30-byte local header and the 9-byte name.
  bytes[30 + 9 + 2500] ^= 0x01;
  std::string bad = dir + "/crc_bad.zip";
  write_file(bad, bytes);
  ZipReader reader(bad);
  expect_format_error_naming([&] { reader.read_all("entry.bin"); }, "entry.bin");
}

TEST(ZipReader, HugeDeclaredSizeIsRefusedBeforeAllocating) {
  std::string dir = make_temp_dir("zip_reader");
  std::string path = dir + "/huge.zip";
  write_with_libzip(path, {{"entry.bin", pseudo_random_bytes(5000, 8)}}, true);
  auto bytes = read_file(path);
  const std::size_t central = rfind_signature(bytes, 0x02014b50);
  ASSERT_NE(central, std::string::npos);
  // Uncompressed size of the local (offset 22) and central (offset 24) records
  // -> 0xfffffff0 (about 4 GiB), consistently, so only the deflate bound catches it.
  for (std::size_t i = 0; i < 4; ++i) {
    bytes[22 + i] = i == 0 ? 0xf0 : 0xff;
    bytes[central + 24 + i] = i == 0 ? 0xf0 : 0xff;
  }
  std::string bad = dir + "/huge_bad.zip";
  write_file(bad, bytes);
  expect_format_error_naming(
      [&] {
        ZipReader reader(bad);
        reader.read_all("entry.bin");
      },
      bad);
}

TEST(ZipReader, EveryFixtureNpzOpens) {
  int archives = 0;
  for (const auto& item : fs::directory_iterator(fs::path(fixture_path("README.md")).parent_path())) {
    if (item.path().extension() != ".npz") {
      continue;
    }
    ZipReader reader(item.path().string());
    EXPECT_FALSE(reader.entries().empty()) << item.path();
    for (const auto& entry : reader.entries()) {
      auto stream = reader.open(entry.name);
      std::vector<std::uint8_t> magic(6);
      stream->read_exact(magic.data(), magic.size());
      EXPECT_EQ(magic[0], 0x93) << entry.name;
      EXPECT_EQ(std::string(magic.begin() + 1, magic.end()), "NUMPY") << entry.name;
    }
    ++archives;
  }
  EXPECT_GE(archives, 5);
}

class ZipWriterTest : public ::testing::TestWithParam<bool> {};

TEST_P(ZipWriterTest, StreamedEntriesReadBackByLibzip) {
  ZipWriterOptions options;
  options.force_zip64 = GetParam();
  std::string path = make_temp_dir("zip_writer") + "/out.zip";
  auto big = pseudo_random_bytes(1 << 20, 9);
  auto small = pseudo_random_bytes(3, 10);
  {
    ZipWriter writer(path, options);
    writer.begin_entry("big.bin");
    for (std::size_t at = 0; at < big.size(); at += 100000) {  // uneven chunks
      writer.append(big.data() + at, std::min<std::size_t>(100000, big.size() - at));
    }
    writer.end_entry();
    writer.add_entry("small.bin", small.data(), small.size());
    writer.add_entry("empty.bin", nullptr, 0);
    EXPECT_FALSE(fs::exists(path)) << "the final name appears only on finish()";
    writer.finish();
  }
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  ZipReader reader(path);  // ZIP_CHECKCONS compares local headers with the central directory
  ASSERT_EQ(reader.entries().size(), 3u);
  EXPECT_EQ(reader.entries()[0].name, "big.bin");
  EXPECT_FALSE(reader.entries()[0].deflated);
  EXPECT_EQ(reader.read_all("big.bin"), big);
  EXPECT_EQ(reader.read_all("small.bin"), small);
  EXPECT_TRUE(reader.read_all("empty.bin").empty());
  // The ZIP64 end record is present exactly when forced.
  const auto bytes = read_file(path);
  EXPECT_EQ(rfind_signature(bytes, 0x06064b50) != std::string::npos, GetParam());
}

INSTANTIATE_TEST_SUITE_P(PlainAndZip64, ZipWriterTest, ::testing::Values(false, true));

TEST(ZipWriter, AbandonedWriterLeavesNothing) {
  std::string path = make_temp_dir("zip_writer") + "/abandoned.zip";
  {
    ZipWriter writer(path);
    writer.begin_entry("a");
    writer.append("xyz", 3);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(ZipWriter, DuplicateNameIsRefused) {
  std::string path = make_temp_dir("zip_writer") + "/dup.zip";
  ZipWriter writer(path);
  writer.add_entry("a", "1", 1);
  expect_format_error_naming([&] { writer.begin_entry("a"); }, "'a'");
}

TEST(ZipWriter, UnwritableDirectoryIsIoError) {
  try {
    ZipWriter writer("/nonexistent/dir/out.zip");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/out.zip"), std::string::npos);
  }
}

}  // namespace
}  // namespace sagbench::io
