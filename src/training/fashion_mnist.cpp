// Fashion-MNIST idx reader (see fashion_mnist.h). gzread also reads plain
// (uncompressed) files transparently. Sizes are checked against a cap before
// any allocation so a corrupt header cannot request gigabytes.
#include "training/fashion_mnist.h"

#include <zlib.h>

#include <array>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "models/layers.h"

namespace sagbench::training {
namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;
constexpr std::uint32_t kLabelsMagic = 0x00000801;
constexpr std::int64_t kMaxItems = 10'000'000;
constexpr std::int64_t kMaxSide = 4096;
constexpr std::int64_t kMaxImageBytes = std::int64_t{1} << 30;  // Fashion-MNIST train: 47 MB

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

GzFile open_gz(const std::string& path) {
  GzFile file(gzopen(path.c_str(), "rb"));
  SAG_REQUIRE(file != nullptr, kIo, "{}: cannot open: {}", path, std::strerror(errno));
  return file;
}

// Reads exactly `bytes` or fails naming what was being read.
void read_exact(gzFile_s* file, const std::string& path, void* out, std::int64_t bytes, const char* what) {
  auto* dst = static_cast<unsigned char*>(out);
  while (bytes > 0) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::int64_t>(bytes, 1 << 30));
    const int got = gzread(file, dst, chunk);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      SAG_FAIL(kFormat, "{}: corrupt gzip data while reading {}: {}", path, what, message);
    }
    SAG_REQUIRE(got > 0, kFormat, "{}: truncated: file ends while reading {}", path, what);
    dst += got;
    bytes -= got;
  }
}

std::uint32_t read_be32(gzFile_s* file, const std::string& path, const char* what) {
  std::array<unsigned char, 4> b{};
  read_exact(file, path, b.data(), 4, what);
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

void expect_end(gzFile_s* file, const std::string& path) {
  unsigned char extra = 0;
  const int got = gzread(file, &extra, 1);
  SAG_REQUIRE(got == 0, kFormat, "{}: trailing bytes after the declared idx data", path);
}

}  // namespace

at::Tensor read_idx_images(const std::string& path) {
  GzFile file = open_gz(path);
  const std::uint32_t magic = read_be32(file.get(), path, "the idx magic");
  SAG_REQUIRE(magic == kImagesMagic, kFormat,
              "{}: bad idx magic 0x{:08x} (expected 0x{:08x}: uint8 idx3 images)", path, magic, kImagesMagic);
  const std::int64_t count = read_be32(file.get(), path, "the image count");
  const std::int64_t rows = read_be32(file.get(), path, "the row count");
  const std::int64_t cols = read_be32(file.get(), path, "the column count");
  SAG_REQUIRE(count <= kMaxItems && rows > 0 && cols > 0 && rows <= kMaxSide && cols <= kMaxSide &&
                  count * rows * cols <= kMaxImageBytes,
              kFormat, "{}: implausible idx3 shape {}x{}x{} (over 1 GiB or zero-sized)", path, count, rows,
              cols);
  at::Tensor images = at::empty({count, rows, cols}, at::kByte);
  read_exact(file.get(), path, images.data_ptr<std::uint8_t>(), count * rows * cols, "the image data");
  expect_end(file.get(), path);
  return images;
}

at::Tensor read_idx_labels(const std::string& path, std::int64_t num_classes) {
  GzFile file = open_gz(path);
  const std::uint32_t magic = read_be32(file.get(), path, "the idx magic");
  SAG_REQUIRE(magic == kLabelsMagic, kFormat,
              "{}: bad idx magic 0x{:08x} (expected 0x{:08x}: uint8 idx1 labels)", path, magic, kLabelsMagic);
  const std::int64_t count = read_be32(file.get(), path, "the label count");
  SAG_REQUIRE(count <= kMaxItems, kFormat, "{}: implausible label count {}", path, count);
  at::Tensor labels = at::empty({count}, at::kByte);
  read_exact(file.get(), path, labels.data_ptr<std::uint8_t>(), count, "the label data");
  expect_end(file.get(), path);
  if (count > 0) {
    const std::int64_t max_label = labels.max().item<std::int64_t>();
    SAG_REQUIRE(max_label < num_classes, kFormat, "{}: label {} outside [0, {})", path, max_label,
                num_classes);
  }
  return labels.to(at::kLong);
}

LabeledImages load_fashion_mnist(const std::string& dir, const std::string& split) {
  SAG_REQUIRE(split == "train" || split == "test", kConfig,
              "Fashion-MNIST split must be train or test, got '{}'", split);
  const std::string prefix = dir + "/" + (split == "train" ? "train" : "t10k");
  LabeledImages data;
  data.images = read_idx_images(prefix + "-images-idx3-ubyte.gz");
  data.labels = read_idx_labels(prefix + "-labels-idx1-ubyte.gz");
  SAG_REQUIRE(data.images.size(0) == data.labels.size(0), kFormat, "{}: {} images but {} labels", prefix,
              data.images.size(0), data.labels.size(0));
  return data;
}

at::Tensor to_model_input(const at::Tensor& images, std::int64_t size) {
  SAG_REQUIRE(images.dim() == 3 && images.scalar_type() == at::kByte, kShape,
              "images must be (N, H, W) uint8, got {} {}", models::describe_shape(images),
              c10::toString(images.scalar_type()));
  const std::int64_t pad_h = size - images.size(1);
  const std::int64_t pad_w = size - images.size(2);
  SAG_REQUIRE(pad_h >= 0 && pad_w >= 0 && pad_h % 2 == 0 && pad_w % 2 == 0, kConfig,
              "image_size {} cannot hold {}x{} images with an even zero margin", size, images.size(1),
              images.size(2));
  at::Tensor x = images.to(at::kFloat).div(127.5).sub(1.0).unsqueeze(1);
  return at::constant_pad_nd(x, {pad_w / 2, pad_w / 2, pad_h / 2, pad_h / 2}, -1.0);
}

at::Tensor to_uint8_nhwc(const at::Tensor& x) {
  SAG_REQUIRE(x.dim() == 4, kShape, "images must be (N, C, H, W), got {}", models::describe_shape(x));
  return x.detach()
      .to(at::kCPU, at::kFloat)
      .add(1.0)
      .mul(127.5)
      .clamp(0, 255)
      .to(at::kByte)
      .permute({0, 2, 3, 1})
      .contiguous();
}

}  // namespace sagbench::training
