// Tests for NpzReader / NpzWriter: round trips of every dtype and order,
// np.savez positional names, streamed multi-batch write and batched read
// (stored, deflated and ZIP64 archives), every fixture .npz, and damaged
// archives (truncated, central directory flipped, bad npy magic, lying sizes)
// giving kFormat errors that name the file.
#include "io/npz.h"

#include <gtest/gtest.h>
#include <zip.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

#include "core/error.h"
#include "support/fixtures.h"

namespace sagbench::io {
namespace {
namespace fs = std::filesystem;
using sagbench::testing::fixture_path;
using sagbench::testing::make_temp_dir;

void expect_error(ErrorKind kind, const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected an error mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Re-packs every entry of `source` into `target` with deflate, using libzip
// (an independent writer), as np.savez_compressed would store them.
void deflate_copy(const std::string& source, const std::string& target) {
  ZipReader reader(source);
  std::vector<std::vector<std::uint8_t>> contents;
  for (const auto& entry : reader.entries()) {
    contents.push_back(reader.read_all(entry.name));
  }
  int code = 0;
  zip_t* archive = zip_open(target.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  ASSERT_NE(archive, nullptr);
  for (std::size_t i = 0; i < contents.size(); ++i) {
    zip_source_t* src = zip_source_buffer(archive, contents[i].data(), contents[i].size(), 0);
    const zip_int64_t index = zip_file_add(archive, reader.entries()[i].name.c_str(), src, 0);
    ASSERT_GE(index, 0);
    ASSERT_EQ(zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 9), 0);
  }
  ASSERT_EQ(zip_close(archive), 0);
}

at::Tensor sample_tensor(at::ScalarType dtype, at::IntArrayRef shape, std::int64_t offset = 0) {
  at::Tensor base = at::arange(offset, offset + c10::multiply_integers(shape), at::kLong).reshape(shape);
  if (dtype == at::kBool) {
    return base.remainder(3).eq(1);
  }
  return base.remainder(97).to(dtype);
}

TEST(Npz, RoundTripsEveryDtypeInOrder) {
  const std::string path = make_temp_dir("npz") + "/all.npz";
  const std::vector<at::ScalarType> dtypes = {at::kByte, at::kChar,  at::kShort,  at::kInt, at::kLong,
                                              at::kHalf, at::kFloat, at::kDouble, at::kBool};
  TensorDict dict;
  for (std::size_t i = 0; i < dtypes.size(); ++i) {
    // Names deliberately not sorted, to check archive order is kept.
    dict.insert("t" + std::to_string(dtypes.size() - i),
                sample_tensor(dtypes[i], {3, 1 + static_cast<int>(i)}));
  }
  dict.insert("scalar", at::scalar_tensor(2.5, at::kDouble));
  dict.insert("empty", at::zeros({0, 3}, at::kFloat));
  write_npz(path, dict);
  const TensorDict loaded = read_npz(path);
  ASSERT_EQ(loaded.names(), dict.names());
  for (const auto& [name, tensor] : dict.items()) {
    EXPECT_EQ(loaded.at(name).scalar_type(), tensor.scalar_type()) << name;
    EXPECT_TRUE(at::equal(loaded.at(name), tensor)) << name;
  }
}

TEST(Npz, PositionalNamesAndFortranOrder) {
  const std::string path = make_temp_dir("npz") + "/positional.npz";
  const at::Tensor a = sample_tensor(at::kFloat, {4, 5});
  const at::Tensor b = sample_tensor(at::kInt, {2, 3, 4});
  {
    NpzWriter writer(path);
    writer.add(a);
    writer.add("named", b, /*fortran_order=*/true);
    writer.add(b);
    writer.finish();
  }
  NpzReader reader(path);
  EXPECT_EQ(reader.names(), (std::vector<std::string>{"arr_0", "named", "arr_1"}));
  EXPECT_EQ(savez_name(7), "arr_7");
  EXPECT_TRUE(reader.header("named").fortran_order);
  EXPECT_TRUE(at::equal(reader.read("named"), b));
  EXPECT_TRUE(at::equal(reader.read("arr_0"), a));
  EXPECT_TRUE(at::equal(reader.read("arr_1"), b));
  expect_error(
      ErrorKind::kShape, [&] { reader.read_rows("named", 0, 1); }, "Fortran");
  expect_error(
      ErrorKind::kFormat, [&] { reader.read("missing"); }, path);
}

class NpzStreaming : public ::testing::TestWithParam<bool> {};

TEST_P(NpzStreaming, MultiBatchWriteAndBatchedRead) {
  const bool deflated = GetParam();
  const std::string dir = make_temp_dir("npz_stream");
  const std::string stored_path = dir + "/stream.npz";
  const std::vector<std::int64_t> shape = {37, 8, 8, 3};  // images, NHWC uint8
  const at::Tensor full = sample_tensor(at::kByte, shape);
  const at::Tensor labels = sample_tensor(at::kLong, {37});
  {
    ZipWriterOptions options;
    options.force_zip64 = true;  // the > 4 GiB code path, exercised cheaply
    NpzWriter writer(stored_path, options);
    NpzArrayWriter images = writer.begin_array("images", at::kByte, shape);
    for (std::int64_t start = 0; start < shape[0];) {
      const std::int64_t count = std::min<std::int64_t>(start % 2 == 0 ? 10 : 3, shape[0] - start);
      images.append(full.slice(0, start, start + count));
      start += count;
    }
    EXPECT_EQ(images.rows_written(), 37);
    images.finish();
    writer.add("labels", labels);
    writer.finish();
  }
  std::string path = stored_path;
  if (deflated) {
    path = dir + "/stream_deflated.npz";
    deflate_copy(stored_path, path);
  }
  NpzReader reader(path);
  EXPECT_EQ(reader.header("images").shape, shape);
  EXPECT_TRUE(at::equal(reader.read("images"), full));
  // Sequential batches (one stream), then a jump back and a jump forward.
  for (std::int64_t start = 0; start < shape[0]; start += 16) {
    const std::int64_t count = std::min<std::int64_t>(16, shape[0] - start);
    EXPECT_TRUE(at::equal(reader.read_rows("images", start, count), full.slice(0, start, start + count)));
  }
  EXPECT_TRUE(at::equal(reader.read_rows("images", 5, 2), full.slice(0, 5, 7)));
  EXPECT_TRUE(at::equal(reader.read_rows("labels", 30, 7), labels.slice(0, 30, 37)));
  EXPECT_TRUE(at::equal(reader.read_rows("images", 36, 1), full.slice(0, 36, 37)));
  EXPECT_EQ(reader.read_rows("images", 37, 0).size(0), 0);
  expect_error(
      ErrorKind::kShape, [&] { reader.read_rows("images", 30, 8); }, "images");
  expect_error(
      ErrorKind::kShape, [&] { reader.read_rows("images", -1, 1); }, "images");
}

INSTANTIATE_TEST_SUITE_P(StoredAndDeflated, NpzStreaming, ::testing::Values(false, true));

TEST(Npz, StreamingWriterChecksRows) {
  const std::string path = make_temp_dir("npz_stream") + "/checks.npz";
  NpzWriter writer(path);
  NpzArrayWriter array = writer.begin_array("x", at::kFloat, {4, 2});
  expect_error(
      ErrorKind::kShape,
      [&] {
        array.append(at::zeros({1, 2}, at::kDouble));
      },
      "'x'");
  expect_error(
      ErrorKind::kShape,
      [&] {
        array.append(at::zeros({1, 3}, at::kFloat));
      },
      "'x'");
  expect_error(
      ErrorKind::kShape, [&] { array.append(at::zeros({2}, at::kFloat)); }, "'x'");
  expect_error(
      ErrorKind::kShape,
      [&] {
        array.append(at::zeros({5, 2}, at::kFloat));
      },
      "'x'");
  array.append(at::zeros({3, 2}, at::kFloat));
  expect_error(
      ErrorKind::kShape, [&] { array.finish(); }, "declared 4 rows but 3");
  expect_error(
      ErrorKind::kShape, [&] { writer.finish(); }, path);
  expect_error(
      ErrorKind::kRuntime, [&] { writer.add("y", at::zeros({1})); }, "'y'");
  array.append(at::ones({1, 2}, at::kFloat));
  array.finish();
  expect_error(
      ErrorKind::kFormat, [&] { writer.begin_array("z", at::kBFloat16, {1}); }, "'z'");
  expect_error(
      ErrorKind::kShape,
      [&] {
        writer.begin_array("w", at::kFloat, {-1, 2});
      },
      "'w'");
  writer.finish();
  // The rejected appends wrote nothing.
  const at::Tensor expected = at::cat({at::zeros({3, 2}), at::ones({1, 2})});
  EXPECT_TRUE(at::equal(NpzReader(path).read("x"), expected));
}

TEST(Npz, AbandonedWriterLeavesNoFile) {
  const std::string path = make_temp_dir("npz") + "/abandoned.npz";
  {
    NpzWriter writer(path);
    writer.add("a", at::ones({3}));
    expect_error(
        ErrorKind::kFormat, [&] { writer.add("b", at::ones({3}, at::kBFloat16)); }, path);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(Npz, EveryFixtureLoadsAndBatchesAgree) {
  int archives = 0;
  for (const auto& item : fs::directory_iterator(fs::path(fixture_path("README.md")).parent_path())) {
    if (item.path().extension() != ".npz") {
      continue;
    }
    const std::string path = item.path().string();
    const TensorDict dict = read_npz(path);
    NpzReader reader(path);
    ASSERT_EQ(dict.names(), reader.names()) << path;
    for (const auto& [name, tensor] : dict.items()) {
      EXPECT_EQ(tensor.sizes().vec(), reader.header(name).shape) << path << " " << name;
      if (tensor.dim() > 0 && tensor.size(0) > 1) {
        const std::int64_t half = tensor.size(0) / 2;
        const at::Tensor joined =
            at::cat({reader.read_rows(name, 0, half), reader.read_rows(name, half, tensor.size(0) - half)});
        EXPECT_TRUE(at::equal(joined, tensor)) << path << " " << name;
      }
    }
    ++archives;
  }
  EXPECT_GE(archives, 8);
  // Shapes and dtypes as numpy reports them (np.load by hand).
  const TensorDict metrics = read_npz(fixture_path("metrics_vectors.npz"));
  EXPECT_EQ(metrics.at("pr_ref").sizes(), (std::vector<std::int64_t>{1000, 8}));
  EXPECT_EQ(metrics.at("pr_ref").scalar_type(), at::kFloat);
  EXPECT_EQ(metrics.at("precision").dim(), 0);
  EXPECT_EQ(metrics.at("precision").scalar_type(), at::kDouble);
  const TensorDict features = read_npz(fixture_path("fid_inception_random_features.npz"));
  EXPECT_EQ(features.at("images_32").sizes(), (std::vector<std::int64_t>{4, 32, 32, 3}));
  EXPECT_EQ(features.at("images_32").scalar_type(), at::kByte);
}

TEST(Npz, DamagedArchivesAreFormatErrorsNamingTheFile) {
  const std::string dir = make_temp_dir("npz_damaged");
  const std::string good = fixture_path("adm_tiny_uncond_forward.npz");
  const auto bytes = read_file(good);
  const auto read_everything = [](const std::string& path) { read_npz(path); };

  const std::string truncated = dir + "/truncated.npz";
  write_file(truncated, std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + bytes.size() * 2 / 3));
  expect_error(
      ErrorKind::kFormat, [&] { read_everything(truncated); }, truncated);

  // Flip bytes inside the central directory, located by the end record
  // (the last 22 bytes, as the archive has no comment).
  const std::size_t end_record = bytes.size() - 22;
  ASSERT_EQ(bytes[end_record], 0x50);
  std::uint64_t data_end = 0;
  for (int i = 3; i >= 0; --i) {
    data_end = (data_end << 8) | bytes[end_record + 16 + i];
  }
  ASSERT_LT(data_end + 60, end_record);
  for (std::uint64_t at : {data_end + 20, data_end + 28, data_end + 42 + 3}) {
    auto damaged = bytes;
    damaged[at] ^= 0xa5;
    const std::string flipped = dir + "/flipped" + std::to_string(at) + ".npz";
    write_file(flipped, damaged);
    expect_error(
        ErrorKind::kFormat, [&] { read_everything(flipped); }, flipped);
  }

  // Valid ZIP, invalid contents: bad npy magic, a header declaring more data
  // than the entry holds, and an entry that is not an array.
  const std::string bad_magic = dir + "/bad_magic.npz";
  {
    ZipWriter writer(bad_magic);
    writer.add_entry("x.npy", "NOTNUMPYDATA", 12);
    writer.finish();
  }
  expect_error(
      ErrorKind::kFormat, [&] { read_everything(bad_magic); }, bad_magic);
  const std::string lying = dir + "/lying.npz";
  {
    ZipWriter writer(lying);
    const auto header = format_npy_header(at::kFloat, {1000000, 1000000}, false);
    writer.add_entry("x.npy", header.data(), header.size());
    writer.finish();
  }
  expect_error(
      ErrorKind::kFormat, [&] { read_everything(lying); }, lying);
  const std::string not_array = dir + "/not_array.npz";
  {
    ZipWriter writer(not_array);
    writer.add_entry("readme.txt", "hi", 2);
    writer.finish();
  }
  expect_error(
      ErrorKind::kFormat, [&] { read_everything(not_array); }, not_array);
}

// Opt-in (SAGBENCH_LARGE_IO_TESTS=1; writes and reads ~4.8 GB of disk, ~1
// minute): a real > 4 GiB streamed entry, so ZIP64 is triggered by size
// rather than forced, read back batch by batch with bounded memory and, when
// numpy is present, checked by Python's zipfile (CRC of the whole entry) and
// numpy's header reader.
TEST(NpzLarge, StreamsAnEntryPastFourGiB) {
  const char* flag = std::getenv("SAGBENCH_LARGE_IO_TESTS");
  if (flag == nullptr || std::string(flag) != "1") {
    GTEST_SKIP() << "set SAGBENCH_LARGE_IO_TESTS=1 to run";
  }
  const std::string path = make_temp_dir("npz_large") + "/images.npz";
  const std::vector<std::int64_t> shape = {24576, 256, 256, 3};  // 4.83e9 bytes > 2^32
  constexpr std::int64_t kBatch = 256;
  // Row r, byte j holds (r * 7 + j) mod 251, so every row differs; built with
  // int16 adds and one conditional subtract to keep the check cheaper than the I/O.
  const at::Tensor cols = at::arange(256 * 256 * 3, at::kLong).remainder(251).to(at::kShort).view({1, -1});
  const auto batch_values = [&cols](std::int64_t start, std::int64_t count) {
    const at::Tensor rows = (at::arange(start, start + count, at::kLong) * 7).remainder(251).to(at::kShort);
    at::Tensor sum = rows.view({count, 1}) + cols;
    sum.sub_(at::ge(sum, 251).to(at::kShort) * 251);
    return sum.to(at::kByte).view({count, 256, 256, 3});
  };
  using Clock = std::chrono::steady_clock;
  double write_s = 0;  // time inside the writer only (not generating values)
  {
    NpzWriter writer(path);
    NpzArrayWriter images = writer.begin_array("images", at::kByte, shape);
    for (std::int64_t start = 0; start < shape[0]; start += kBatch) {
      const at::Tensor batch = batch_values(start, std::min(kBatch, shape[0] - start));
      const auto t0 = Clock::now();
      images.append(batch);
      write_s += std::chrono::duration<double>(Clock::now() - t0).count();
    }
    const auto t0 = Clock::now();
    images.finish();
    writer.finish();
    write_s += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  double read_s = 0;  // time inside read_rows only
  NpzReader reader(path);
  EXPECT_EQ(reader.header("images").shape, shape);
  for (std::int64_t start = 0; start < shape[0]; start += kBatch) {
    const std::int64_t count = std::min(kBatch, shape[0] - start);
    const auto t0 = Clock::now();
    const at::Tensor rows = reader.read_rows("images", start, count);
    read_s += std::chrono::duration<double>(Clock::now() - t0).count();
    ASSERT_TRUE(at::equal(rows, batch_values(start, count))) << start;
  }
  const double gb = static_cast<double>(c10::multiply_integers(shape)) / 1e9;
  std::cout << "wrote " << gb << " GB in " << write_s << " s (" << gb / write_s << " GB/s), read in "
            << read_s << " s (" << gb / read_s << " GB/s)\n";
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0) {
    const std::string check =
        "/usr/bin/python3 -c \"import sys, zipfile, numpy as np\n"
        "z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None\n"
        "f = z.open('images.npy'); v = np.lib.format.read_magic(f)\n"
        "shape, fortran, dtype = np.lib.format._read_array_header(f, v)\n"
        "assert shape == (24576, 256, 256, 3) and not fortran and dtype == np.uint8, shape\n"
        "f.seek(f.tell() + 24575 * 196608); last = np.frombuffer(f.read(196608), np.uint8)\n"
        "assert np.array_equal(last, (24575 * 7 + np.arange(196608)) % 251)\" " +
        path;
    EXPECT_EQ(std::system(check.c_str()), 0) << check;
  }
  fs::remove(path);
}

}  // namespace
}  // namespace sagbench::io
