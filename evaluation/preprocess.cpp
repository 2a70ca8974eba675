// Preprocessing modes of the FID Inception (see preprocess.h). The TF1 resize
// builds its source indices and weights on the host in float32, exactly as
// TF's compute_interpolation_weights, then gathers rows and columns on the
// images' device and interpolates with TF's operation order.
#include "evaluation/preprocess.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "io/tensor_file.h"

namespace sagbench::eval {

namespace {

struct ResizeTaps {
  at::Tensor lower;  // int64 (out)
  at::Tensor upper;  // int64 (out)
  at::Tensor lerp;   // float32 (out)
};

ResizeTaps tf1_taps(std::int64_t in_size, std::int64_t out_size, const at::Device& device) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  std::vector<std::int64_t> lower(out_size), upper(out_size);
  std::vector<float> lerp(out_size);
  for (std::int64_t i = 0; i < out_size; ++i) {
    const float src = static_cast<float>(i) * scale;
    const float src_floor = std::floor(src);
    lower[i] = std::max<std::int64_t>(static_cast<std::int64_t>(src_floor), 0);
    upper[i] = std::min<std::int64_t>(static_cast<std::int64_t>(std::ceil(src)), in_size - 1);
    lerp[i] = src - src_floor;
  }
  auto to_device = [&](auto& v, at::ScalarType type) {
    return at::from_blob(v.data(), {out_size}, at::TensorOptions().dtype(type))
        .to(device, /*non_blocking=*/false,
            /*copy=*/true);
  };
  return {to_device(lower, at::kLong), to_device(upper, at::kLong), to_device(lerp, at::kFloat)};
}

}  // namespace

const char* preprocess_mode_name(PreprocessMode mode) {
  return mode == PreprocessMode::kAdm ? "adm" : "pytorch-fid";
}

PreprocessMode parse_preprocess_mode(const std::string& name) {
  if (name == "adm") {
    return PreprocessMode::kAdm;
  }
  if (name == "pytorch-fid") {
    return PreprocessMode::kPytorchFid;
  }
  SAG_FAIL(kConfig, "unknown preprocessing mode '{}' (expected adm or pytorch-fid)", name);
}

at::Tensor tf1_resize_bilinear(const at::Tensor& x, std::int64_t out_height, std::int64_t out_width) {
  SAG_CHECK(x.dim() == 4 && x.scalar_type() == at::kFloat, "tf1_resize_bilinear takes (B,C,H,W) float32");
  SAG_CHECK(out_height > 0 && out_width > 0, "output size {}x{}", out_height, out_width);
  const ResizeTaps ys = tf1_taps(x.size(2), out_height, x.device());
  const ResizeTaps xs = tf1_taps(x.size(3), out_width, x.device());
  const at::Tensor top_rows = x.index_select(2, ys.lower);
  const at::Tensor bottom_rows = x.index_select(2, ys.upper);
  const at::Tensor x_lerp = xs.lerp.view({1, 1, 1, out_width});
  const at::Tensor y_lerp = ys.lerp.view({1, 1, out_height, 1});
  auto horizontal = [&](const at::Tensor& rows) {
    const at::Tensor left = rows.index_select(3, xs.lower);
    const at::Tensor right = rows.index_select(3, xs.upper);
    return left + (right - left) * x_lerp;
  };
  const at::Tensor top = horizontal(top_rows);
  const at::Tensor bottom = horizontal(bottom_rows);
  return top + (bottom - top) * y_lerp;
}

void check_image_batch(const at::Tensor& images, const std::string& what) {
  SAG_REQUIRE(images.defined(), kShape, "{}: no image tensor", what);
  SAG_REQUIRE(images.scalar_type() == at::kByte, kFormat,
              "{}: images must be uint8 (values 0..255), got dtype {}", what,
              std::string(io::dtype_name(images.scalar_type())));
  SAG_REQUIRE(images.dim() == 4 && images.size(3) == 3, kShape,
              "{}: images must be N x H x W x 3 (NHWC, RGB), got shape {}", what,
              std::string(c10::str(images.sizes())));
  SAG_REQUIRE(images.size(1) >= 1 && images.size(2) >= 1, kShape, "{}: empty images of shape {}", what,
              std::string(c10::str(images.sizes())));
}

at::Tensor preprocess_images(const at::Tensor& images, PreprocessMode mode, std::int64_t size) {
  check_image_batch(images, "preprocess_images");
  const at::Tensor x = images.permute({0, 3, 1, 2}).to(at::kFloat).contiguous();
  if (mode == PreprocessMode::kAdm) {
    const bool same_size = x.size(2) == size && x.size(3) == size;
    const at::Tensor resized = same_size ? x : tf1_resize_bilinear(x, size, size);
    // (x - 128) / 128: the graph's Sub and Mul(1/128); 1/128 is exact in float.
    return (resized - 128.0).mul_(1.0 / 128.0);
  }
  const at::Tensor unit = x / 255.0;
  const at::Tensor resized =
      at::upsample_bilinear2d(unit, {size, size}, /*align_corners=*/false, c10::nullopt, c10::nullopt);
  return resized.mul(2.0).sub_(1.0);
}

}  // namespace sagbench::eval
