// Tests of the sample preview (src/training/preview.h): class rows come out
// in the documented order and shape, the same seed gives the same samples,
// the grid tiles samples without mixing them, and the PGM is well-formed.
#include "training/preview.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/atomic_write.h"
#include "core/error.h"
#include "support/fixtures.h"

namespace sagbench::training {
namespace {

TEST(PreviewTest, SamplesEveryClassDeterministically) {
  const TrainConfig config = config::bind<TrainConfig>(config::parse_document(R"(
kind: diffusion
unet: {image_size: 32, in_channels: 1, num_channels: 32, num_res_blocks: 1, channel_mult: [1, 2],
       attention_resolutions: [16], num_head_channels: 32, class_cond: true, num_classes: 11, learn_sigma: true}
diffusion: {steps: 100}
)"));
  at::manual_seed(4);
  models::UNetModel model(config.unet);
  const at::Tensor a = sample_classes(model, config, 2, "ddim4", 9, at::kCPU);
  const at::Tensor b = sample_classes(model, config, 2, "ddim4", 9, at::kCPU);
  ASSERT_EQ(a.sizes(), (std::vector<std::int64_t>{20, 1, 32, 32}));
  EXPECT_TRUE(at::equal(a, b));
  EXPECT_LE(a.abs().max().item<float>(), 1.0f);  // clip_denoised
  EXPECT_FALSE(at::equal(a, sample_classes(model, config, 2, "ddim4", 10, at::kCPU)));
  TrainConfig unconditional = config;
  unconditional.unet.class_cond = false;
  EXPECT_THROW(sample_classes(model, unconditional, 2, "ddim4", 9, at::kCPU), Error);
}

TEST(PreviewTest, GridTilesAndPgmIsWellFormed) {
  // Sample k is filled with the value of level 10 * k.
  at::Tensor samples = at::empty({6, 1, 4, 5});
  for (std::int64_t k = 0; k < 6; ++k) {
    samples[k].fill_((10.0 * static_cast<double>(k) + 0.5) / 127.5 - 1.0);
  }
  const at::Tensor grid = tile_grid(samples, 2, 3);
  ASSERT_EQ(grid.sizes(), (std::vector<std::int64_t>{8, 15}));
  EXPECT_EQ(grid[0][0].item<int>(), 0);
  EXPECT_EQ(grid[3][14].item<int>(), 20);  // row 0, column 2
  EXPECT_EQ(grid[4][5].item<int>(), 40);   // row 1, column 1
  EXPECT_THROW(tile_grid(samples, 2, 2), Error);
  const std::string path = testing::make_temp_dir("preview") + "/grid.pgm";
  write_pgm(path, grid);
  const std::string bytes = read_file(path);
  const std::string header = "P5\n15 8\n255\n";
  ASSERT_EQ(bytes.size(), header.size() + 8 * 15);
  EXPECT_EQ(bytes.substr(0, header.size()), header);
  EXPECT_EQ(static_cast<unsigned char>(bytes[header.size() + 4 * 15 + 5]), 40);
}

}  // namespace
}  // namespace sagbench::training
