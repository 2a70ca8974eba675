// The PNG contact sheet of a run: the first samples of a samples npz (arr_0,
// uint8 NHWC with 1 or 3 channels) tiled row-major on a grid with a 2-pixel
// gray border, written atomically with OpenCV. `sagbench run` writes one
// per configuration (samples_grid.png beside the merged npz).
// Tested by tests/cli/sample_grid_test.cpp.
#pragma once

#include <cstdint>
#include <string>

namespace sagbench::cli {

// True when this build can write PNG files (OpenCV found at configure time).
bool can_write_png();

// Tiles the first min(count, N) images of `samples_npz` into `columns`
// columns and writes `png_path` (kConfig error without OpenCV; kIo on a bad
// npz or an unwritable path). An upscale > 1 enlarges pixels (nearest).
void write_sample_grid(const std::string& samples_npz, const std::string& png_path, std::int64_t count = 64,
                       std::int64_t columns = 8, int upscale = 1);

}  // namespace sagbench::cli
