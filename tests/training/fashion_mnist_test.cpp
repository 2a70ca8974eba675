// Tests of the Fashion-MNIST idx reader (src/training/fashion_mnist.h) on
// hand-built gzip'd idx files: round trip, bad magic, truncation, trailing
// bytes, labels out of range, count mismatch, plain files; the [-1, 1] padding
// transform and its inverse; and the installed dataset when present.
#include "training/fashion_mnist.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "support/fixtures.h"

namespace sagbench::training {
namespace {

std::vector<unsigned char> be32(std::uint32_t v) {
  return {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
          static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
}

void write_gz(const std::string& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
}

// idx3 header for n x rows x cols, followed by `pixels` (may be short or long on purpose).
std::vector<unsigned char> idx3(std::uint32_t magic, std::uint32_t n, std::uint32_t rows, std::uint32_t cols,
                                const std::vector<unsigned char>& pixels) {
  std::vector<unsigned char> out;
  for (std::uint32_t v : {magic, n, rows, cols}) {
    const auto b = be32(v);
    out.insert(out.end(), b.begin(), b.end());
  }
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

std::vector<unsigned char> idx1(std::uint32_t magic, const std::vector<unsigned char>& labels) {
  std::vector<unsigned char> out = be32(magic);
  const auto n = be32(static_cast<std::uint32_t>(labels.size()));
  out.insert(out.end(), n.begin(), n.end());
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

std::vector<unsigned char> ramp(std::size_t n) {
  std::vector<unsigned char> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<unsigned char>((i * 37) % 256);
  }
  return v;
}

// Runs fn and returns the sagbench::Error it throws (fails the test otherwise).
template <class Fn>
Error error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no sagbench::Error thrown";
  return Error(ErrorKind::kRuntime, "none");
}

TEST(FashionMnistTest, ReadsImagesAndLabelsRoundTrip) {
  const std::string dir = testing::make_temp_dir("idx_roundtrip");
  const std::vector<unsigned char> pixels = ramp(3 * 4 * 6);
  write_gz(dir + "/img.gz", idx3(0x803, 3, 4, 6, pixels));
  write_gz(dir + "/lab.gz", idx1(0x801, {9, 0, 4}));
  const at::Tensor images = read_idx_images(dir + "/img.gz");
  ASSERT_EQ(images.sizes(), (std::vector<std::int64_t>{3, 4, 6}));
  EXPECT_EQ(images[1][2][5].item<int>(), pixels[1 * 24 + 2 * 6 + 5]);
  EXPECT_EQ(images[2][3][5].item<int>(), pixels.back());
  const at::Tensor labels = read_idx_labels(dir + "/lab.gz");
  ASSERT_EQ(labels.scalar_type(), at::kLong);
  EXPECT_EQ(labels[0].item<int>(), 9);
  EXPECT_EQ(labels[2].item<int>(), 4);
}

TEST(FashionMnistTest, ReadsUncompressedFiles) {
  const std::string dir = testing::make_temp_dir("idx_plain");
  const auto bytes = idx1(0x801, {1, 2});
  std::ofstream(dir + "/lab", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  EXPECT_EQ(read_idx_labels(dir + "/lab")[1].item<int>(), 2);
}

TEST(FashionMnistTest, BadMagicNamesTheFile) {
  const std::string dir = testing::make_temp_dir("idx_magic");
  write_gz(dir + "/img.gz", idx3(0x801, 1, 2, 2, ramp(4)));
  const Error e = error_of([&] { read_idx_images(dir + "/img.gz"); });
  EXPECT_EQ(e.kind(), ErrorKind::kFormat);
  EXPECT_NE(std::string(e.what()).find(dir + "/img.gz"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("magic"), std::string::npos) << e.what();
}

TEST(FashionMnistTest, TruncatedDataAndHeaderAreErrors) {
  const std::string dir = testing::make_temp_dir("idx_trunc");
  write_gz(dir + "/short.gz", idx3(0x803, 3, 4, 4, ramp(3 * 16 - 1)));
  Error e = error_of([&] { read_idx_images(dir + "/short.gz"); });
  EXPECT_EQ(e.kind(), ErrorKind::kFormat);
  EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("short.gz"), std::string::npos) << e.what();
  write_gz(dir + "/header.gz", {0, 0, 8});
  EXPECT_EQ(error_of([&] { read_idx_images(dir + "/header.gz"); }).kind(), ErrorKind::kFormat);
  // A gzip stream cut in the middle (compressed bytes removed).
  write_gz(dir + "/full.gz", idx3(0x803, 4, 8, 8, ramp(256)));
  std::ifstream in(dir + "/full.gz", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir + "/cut.gz", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_EQ(error_of([&] { read_idx_images(dir + "/cut.gz"); }).kind(), ErrorKind::kFormat);
}

TEST(FashionMnistTest, TrailingBytesImplausibleSizesAndBadLabelsAreErrors) {
  const std::string dir = testing::make_temp_dir("idx_bad");
  write_gz(dir + "/long.gz", idx3(0x803, 1, 2, 2, ramp(5)));
  EXPECT_EQ(error_of([&] { read_idx_images(dir + "/long.gz"); }).kind(), ErrorKind::kFormat);
  write_gz(dir + "/huge.gz", idx3(0x803, 0xFFFFFFFF, 28, 28, {}));
  EXPECT_EQ(error_of([&] { read_idx_images(dir + "/huge.gz"); }).kind(), ErrorKind::kFormat);
  write_gz(dir + "/lab.gz", idx1(0x801, {3, 10}));
  const Error e = error_of([&] { read_idx_labels(dir + "/lab.gz"); });
  EXPECT_NE(std::string(e.what()).find("label 10"), std::string::npos) << e.what();
  EXPECT_EQ(error_of([&] { read_idx_labels(dir + "/missing.gz"); }).kind(), ErrorKind::kIo);
}

TEST(FashionMnistTest, LoadChecksCountsAgree) {
  const std::string dir = testing::make_temp_dir("idx_split");
  write_gz(dir + "/t10k-images-idx3-ubyte.gz", idx3(0x803, 2, 28, 28, ramp(2 * 784)));
  write_gz(dir + "/t10k-labels-idx1-ubyte.gz", idx1(0x801, {1, 2}));
  const LabeledImages data = load_fashion_mnist(dir, "test");
  EXPECT_EQ(data.images.size(0), 2);
  write_gz(dir + "/t10k-labels-idx1-ubyte.gz", idx1(0x801, {1, 2, 3}));
  EXPECT_EQ(error_of([&] { load_fashion_mnist(dir, "test"); }).kind(), ErrorKind::kFormat);
  EXPECT_EQ(error_of([&] { load_fashion_mnist(dir, "validation"); }).kind(), ErrorKind::kConfig);
}

TEST(FashionMnistTest, ModelInputIsPaddedAndScaled) {
  at::Tensor images = at::zeros({2, 28, 28}, at::kByte);
  images[0][0][0] = 255;
  images[1][27][27] = 51;
  const at::Tensor x = to_model_input(images, 32);
  ASSERT_EQ(x.sizes(), (std::vector<std::int64_t>{2, 1, 32, 32}));
  EXPECT_FLOAT_EQ(x[0][0][2][2].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(x[0][0][0][0].item<float>(), -1.0f);  // padding is black
  EXPECT_NEAR(x[1][0][29][29].item<float>(), 51 / 127.5 - 1, 1e-6);
  EXPECT_EQ(x.min().item<float>(), -1.0f);
  // The inverse gives the padded uint8 image back within one level (truncation).
  const at::Tensor back = to_uint8_nhwc(x);
  ASSERT_EQ(back.sizes(), (std::vector<std::int64_t>{2, 32, 32, 1}));
  const at::Tensor diff =
      (back.slice(1, 2, 30).slice(2, 2, 30).select(3, 0).to(at::kInt) - images.to(at::kInt)).abs();
  EXPECT_LE(diff.max().item<int>(), 1);
  EXPECT_THROW(to_model_input(images, 31), Error);
  EXPECT_THROW(to_model_input(images.to(at::kFloat), 32), Error);
}

TEST(FashionMnistTest, InstalledDatasetHasTheDocumentedShape) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  const LabeledImages test = load_fashion_mnist(dir, "test");
  EXPECT_EQ(test.images.sizes(), (std::vector<std::int64_t>{10000, 28, 28}));
  // Ten balanced classes (1000 each in the test split).
  EXPECT_EQ(at::bincount(test.labels).eq(1000).all().item<bool>(), true);
}

}  // namespace
}  // namespace sagbench::training
