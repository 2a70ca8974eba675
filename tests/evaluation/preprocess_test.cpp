// Tests for evaluation/preprocess.h: TF1 legacy resize and the pytorch-fid
// half-pixel resize on hand-computed cases, and input checks. The fixture
// case tf1_resize_2to3 is in inception_parity_test.cpp.
#include "evaluation/preprocess.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace sagbench::eval {
namespace {

TEST(Preprocess, Tf1ResizeUsesNoHalfPixelCentres) {
  // 2 -> 3: source coordinates 0, 2/3, 4/3 (the last clamps to row 1).
  const at::Tensor x = at::tensor({0.0f, 255.0f, 255.0f, 0.0f}).view({1, 1, 2, 2});
  const at::Tensor y = tf1_resize_bilinear(x, 3, 3);
  EXPECT_FLOAT_EQ(y[0][0][0][0].item<float>(), 0.0f);
  EXPECT_NEAR(y[0][0][0][1].item<float>(), 170.0f, 1e-4);
  EXPECT_FLOAT_EQ(y[0][0][0][2].item<float>(), 255.0f);
  EXPECT_FLOAT_EQ(y[0][0][2][2].item<float>(), 0.0f);  // clamped to the last source row and column
  EXPECT_FLOAT_EQ(y[0][0][2][0].item<float>(), 255.0f);
  // Centre: rows 0 and 1 at x = 2/3 give 170 and 85, blended at y = 2/3.
  EXPECT_NEAR(y[0][0][1][1].item<float>(), 170.0f + (85.0f - 170.0f) * (2.0f / 3.0f), 1e-4);
}

TEST(Preprocess, Tf1ResizeSameSizeIsIdentity) {
  at::manual_seed(1);
  const at::Tensor x = at::rand({2, 3, 5, 7}) * 255;
  EXPECT_TRUE(at::equal(tf1_resize_bilinear(x, 5, 7), x));
}

TEST(Preprocess, AdmModeScalesAroundOneHundredTwentyEight) {
  const at::Tensor img = at::tensor({0, 128, 255}, at::kByte).view({1, 1, 1, 3}).expand({1, 299, 299, 3});
  const at::Tensor x = preprocess_images(img.contiguous(), PreprocessMode::kAdm);
  ASSERT_EQ(x.sizes(), (std::vector<std::int64_t>{1, 3, 299, 299}));
  EXPECT_EQ(x[0][0][5][5].item<float>(), -1.0f);
  EXPECT_EQ(x[0][1][5][5].item<float>(), 0.0f);
  EXPECT_EQ(x[0][2][5][5].item<float>(), 127.0f / 128.0f);
}

TEST(Preprocess, PytorchFidModeUsesHalfPixelBilinear) {
  // A 1x2 image (0, 255) upsampled to width 4: source x = -0.25, 0.25, 0.75,
  // 1.25 -> clamped: 0, 0.25, 0.75, 1 of 255 -> 2x - 1.
  const at::Tensor img = at::tensor({0, 0, 0, 255, 255, 255}, at::kByte).view({1, 1, 2, 3});
  const at::Tensor x = preprocess_images(img, PreprocessMode::kPytorchFid, 4);
  const std::vector<float> expected = {-1.0f, -0.5f, 0.5f, 1.0f};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(x[0][0][0][i].item<float>(), expected[i], 1e-6) << i;
  }
}

TEST(Preprocess, BadImagesAreErrors) {
  EXPECT_THROW(preprocess_images(at::zeros({1, 8, 8, 3}), PreprocessMode::kAdm), Error);  // float
  EXPECT_THROW(preprocess_images(at::zeros({1, 8, 8, 1}, at::kByte), PreprocessMode::kAdm), Error);
  EXPECT_THROW(preprocess_images(at::zeros({8, 8, 3}, at::kByte), PreprocessMode::kAdm), Error);
  try {
    check_image_batch(at::zeros({2, 3, 8, 8}, at::kByte), "samples.npz:arr_0");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kShape);
    EXPECT_NE(std::string(e.what()).find("samples.npz:arr_0"), std::string::npos);
  }
  EXPECT_THROW(parse_preprocess_mode("tf2"), Error);
  EXPECT_EQ(parse_preprocess_mode("pytorch-fid"), PreprocessMode::kPytorchFid);
}

}  // namespace
}  // namespace sagbench::eval
