// samples_grid.png: tile placement, border, channel order, count limits and
// errors (sample_grid.h). Skips the pixel checks in builds without OpenCV.
#include "cli/sample_grid.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "io/npz.h"
#include "support/fixtures.h"

#ifdef SAGBENCH_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace sagbench::cli {
namespace {

std::string write_samples(const std::string& dir, const at::Tensor& images) {
  const std::string path = dir + "/samples.npz";
  io::NpzWriter writer(path);
  writer.add("arr_0", images);
  writer.finish();
  return path;
}

// Image i is filled with the value 10 * (i + 1) in channel 0 and 200 - i elsewhere.
at::Tensor numbered_images(std::int64_t n, std::int64_t h, std::int64_t w, std::int64_t c) {
  at::Tensor images = at::empty({n, h, w, c}, at::kByte);
  for (std::int64_t i = 0; i < n; ++i) {
    images[i].fill_(200 - i);
    images[i].select(2, 0).fill_(10 * (i + 1));
  }
  return images;
}

TEST(SampleGrid, TilesTheFirstSamplesRowMajorWithABorder) {
  if (!can_write_png()) {
    GTEST_SKIP() << "built without OpenCV";
  }
#ifdef SAGBENCH_HAVE_OPENCV
  const std::string dir = sagbench::testing::make_temp_dir("sample_grid");
  const std::string npz = write_samples(dir, numbered_images(7, 4, 5, 3));
  write_sample_grid(npz, dir + "/grid.png", /*count=*/5, /*columns=*/3, /*upscale=*/1);
  const cv::Mat grid = cv::imread(dir + "/grid.png", cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(grid.empty());
  // 5 of 7 images in 3 columns: 2 rows; 2-pixel borders around every tile.
  EXPECT_EQ(grid.rows, 2 * (4 + 2) + 2);
  EXPECT_EQ(grid.cols, 3 * (5 + 2) + 2);
  for (int i = 0; i < 5; ++i) {
    const int y = 2 + (i / 3) * 6, x = 2 + (i % 3) * 7;
    const cv::Vec3b bgr = grid.at<cv::Vec3b>(y + 1, x + 2);
    EXPECT_EQ(bgr[2], 10 * (i + 1)) << "red = channel 0 of image " << i;
    EXPECT_EQ(bgr[0], 200 - i) << "blue = channel 2 of image " << i;
  }
  EXPECT_EQ(grid.at<cv::Vec3b>(0, 0)[1], 128);              // border
  EXPECT_EQ(grid.at<cv::Vec3b>(8 + 1, 2 * 7 + 3)[1], 128);  // the sixth tile is empty
#endif
}

TEST(SampleGrid, GrayImagesAndUpscaling) {
  if (!can_write_png()) {
    GTEST_SKIP() << "built without OpenCV";
  }
#ifdef SAGBENCH_HAVE_OPENCV
  const std::string dir = sagbench::testing::make_temp_dir("sample_grid_gray");
  const std::string npz = write_samples(dir, numbered_images(2, 3, 3, 1));
  write_sample_grid(npz, dir + "/grid.png", 64, 8, 2);
  const cv::Mat grid = cv::imread(dir + "/grid.png", cv::IMREAD_UNCHANGED);
  ASSERT_EQ(grid.channels(), 1);
  EXPECT_EQ(grid.rows, 2 * (3 + 4));
  EXPECT_EQ(grid.cols, 2 * (2 * 5 + 2));
  EXPECT_EQ(grid.at<unsigned char>(2 * 2, 2 * 2), 10);
  EXPECT_EQ(grid.at<unsigned char>(2 * 2, 2 * 7), 20);
#endif
}

TEST(SampleGrid, BadInputIsAClearError) {
  const std::string dir = sagbench::testing::make_temp_dir("sample_grid_errors");
  EXPECT_THROW(write_sample_grid(dir + "/missing.npz", dir + "/grid.png"), Error);
  const std::string npz = write_samples(dir, at::zeros({2, 3, 3, 2}, at::kByte));
  EXPECT_THROW(write_sample_grid(npz, dir + "/grid.png"), Error);  // two channels
  EXPECT_THROW(write_sample_grid(npz, dir + "/grid.png", 0), Error);
  EXPECT_FALSE(std::filesystem::exists(dir + "/grid.png"));
}

}  // namespace
}  // namespace sagbench::cli
