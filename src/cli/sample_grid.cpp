// The PNG contact sheet of a samples npz (see sample_grid.h).
#include "cli/sample_grid.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#include "core/atomic_write.h"
#include "core/error.h"
#include "io/npz.h"

#ifdef SAGBENCH_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace sagbench::cli {

bool can_write_png() {
#ifdef SAGBENCH_HAVE_OPENCV
  return true;
#else
  return false;
#endif
}

void write_sample_grid(const std::string& samples_npz, const std::string& png_path, std::int64_t count,
                       std::int64_t columns, int upscale) {
  SAG_REQUIRE(count > 0 && columns > 0 && upscale > 0, kConfig,
              "sample grid: count, columns and upscale must be positive");
#ifdef SAGBENCH_HAVE_OPENCV
  io::NpzReader reader(samples_npz);
  SAG_REQUIRE(reader.contains("arr_0"), kIo, "{}: no arr_0 (samples) array", samples_npz);
  const std::vector<std::int64_t>& shape = reader.header("arr_0").shape;
  SAG_REQUIRE(shape.size() == 4 && (shape[3] == 1 || shape[3] == 3), kShape,
              "{}: arr_0 must be (N, H, W, 1 or 3) images for a grid", samples_npz);
  const std::int64_t n = std::min(count, shape[0]);
  SAG_REQUIRE(n > 0, kShape, "{}: no samples to tile", samples_npz);
  const at::Tensor images = reader.read_rows("arr_0", 0, n).to(at::kByte).contiguous();
  const std::int64_t h = shape[1], w = shape[2], c = shape[3];
  const std::int64_t cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  constexpr std::int64_t kBorder = 2;
  const std::int64_t sheet_h = rows * (h + kBorder) + kBorder, sheet_w = cols * (w + kBorder) + kBorder;
  at::Tensor sheet = at::full({sheet_h, sheet_w, c}, 128, at::kByte);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t y = kBorder + (i / cols) * (h + kBorder), x = kBorder + (i % cols) * (w + kBorder);
    sheet.narrow(0, y, h).narrow(1, x, w).copy_(images[i]);
  }
  const int type = c == 1 ? CV_8UC1 : CV_8UC3;
  cv::Mat mat(static_cast<int>(sheet_h), static_cast<int>(sheet_w), type, sheet.data_ptr());
  cv::Mat out;
  if (c == 3) {
    cv::cvtColor(mat, out, cv::COLOR_RGB2BGR);
  } else {
    out = mat;
  }
  if (upscale > 1) {
    cv::resize(out, out, cv::Size(), upscale, upscale, cv::INTER_NEAREST);
  }
  std::vector<unsigned char> bytes;
  SAG_REQUIRE(cv::imencode(".png", out, bytes), kIo, "{}: PNG encoding failed", png_path);
  write_file_atomic(png_path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
#else
  (void)samples_npz;
  SAG_FAIL(kConfig, "{}: this build has no OpenCV, so it cannot write PNG grids", png_path);
#endif
}

}  // namespace sagbench::cli
