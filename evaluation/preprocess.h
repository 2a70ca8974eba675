// Image preprocessing in front of the FID Inception, both exactly as upstream:
//   adm:         float [0,255] -> TF1 legacy bilinear resize to 299 -> (x-128)/128
//                (the ResizeBilinear/Sub/Mul nodes after ExpandDims:0 in the
//                2015-12-05 graph that guided-diffusion's evaluator.py feeds);
//   pytorch-fid: x/255 -> F.interpolate(bilinear, align_corners=False) -> 2x-1
//                (pytorch_fid.inception.InceptionV3.forward).
// Tested by tests/evaluation/preprocess_test.cpp (tf1_resize_2to3 fixture, hand cases).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace sagbench::eval {

enum class PreprocessMode { kAdm, kPytorchFid };

// "adm" / "pytorch-fid".
const char* preprocess_mode_name(PreprocessMode mode);
// Parses "adm" or "pytorch-fid"; anything else is a kConfig error.
PreprocessMode parse_preprocess_mode(const std::string& name);

// TF1 ResizeBilinear with align_corners=False and half_pixel_centers=False:
// output pixel i reads source coordinate s = i * (in / out) (float32), from
// rows floor(s) and min(ceil(s), in - 1) with weight s - floor(s), computed as
// top + (bottom - top) * lerp exactly as TF's kernel. x: (B, C, H, W) float32.
at::Tensor tf1_resize_bilinear(const at::Tensor& x, std::int64_t out_height, std::int64_t out_width);

// Checks a batch of images: 4-D (B, H, W, 3) uint8 with H, W >= 1; `what`
// names the source (file and array) in the error.
void check_image_batch(const at::Tensor& images_nhwc, const std::string& what);

// uint8 NHWC images -> (B, 3, 299, 299) float32 network input, on the images'
// device. A 299x299 input is not resized in adm mode (TF's resize is then the
// identity); pytorch-fid always calls interpolate, which is exact at scale 1.
at::Tensor preprocess_images(const at::Tensor& images_nhwc, PreprocessMode mode, std::int64_t size = 299);

}  // namespace sagbench::eval
