// The degradation stage of Self-Attention Guidance as pure tensor functions:
// the attention mask (Hong et al. 2023, eq. 12-13: mean over heads, sum over
// queries, > psi, nearest upsampling), the Gaussian blur of torchvision's
// gaussian_blur as the SAG repository calls it (T.GaussianBlur(31, sigma):
// reflect padding, normalised exp(-0.5 (x/sigma)^2) weights), the masked mix
// and the re-noising with the predicted eps (attention_masking in the SAG
// repository's gaussian_diffusion.py). Tested by tests/guidance/sag_degrade_test.cpp
// and, through the first-step degraded inputs, sag_parity_test.cpp.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace sagbench::diffusion {
class GaussianDiffusion;
}

namespace sagbench::guidance {

// The (size,) float32 weights exp(-0.5 (x / sigma)^2) / sum over
// x = -(size - 1) / 2 .. (size - 1) / 2 (computed in float64, then rounded).
// kConfig unless size is odd and >= 1 and sigma is finite and > 0.
at::Tensor gaussian_kernel_1d(std::int64_t size, double sigma);

// Depthwise Gaussian blur of x (B, C, H, W): reflect padding (size - 1) / 2 on
// every side, then the separable kernel along W and along H (the same result
// as torchvision's 2-D outer-product kernel up to float32 rounding). kConfig
// when the kernel is larger than the image (the key is named blur_kernel_size).
at::Tensor gaussian_blur(const at::Tensor& x, std::int64_t kernel_size, double sigma);

// The SAG mask as a float {0, 1} tensor (B, 1, height, width) from an
// attention map (B * heads, T, T) indexed (query, key), batch-major, with
// T = grid_height * grid_width: mean over heads, sum over queries (the
// attention each key position receives), strictly greater than `threshold`,
// reshaped to the grid and nearest-upsampled to (height, width) (F.interpolate
// default). Every position is selected when threshold is -inf. kShape for a
// map that does not fit heads and grid.
at::Tensor attention_mask(const at::Tensor& map, std::int64_t heads, std::int64_t grid_height,
                          std::int64_t grid_width, double threshold, std::int64_t height, std::int64_t width);

// mask * blurred + (1 - mask) * x0, with a (B, 1, H, W) mask broadcast over
// channels. An undefined mask means "everywhere" (blur guidance): `blurred` itself.
at::Tensor masked_mix(const at::Tensor& x0, const at::Tensor& blurred, const at::Tensor& mask);

// The degraded input x~_t = sqrt(abar_t) x~0 + sqrt(1 - abar_t) eps of
// respaced index t, with x~0 = masked_mix(x0, blur(x0), mask): x0 is the
// (clipped) prediction of the reference pass and eps its predicted noise.
at::Tensor degraded_input(const diffusion::GaussianDiffusion& diffusion, std::int64_t t, const at::Tensor& x0,
                          const at::Tensor& eps, const at::Tensor& mask, std::int64_t kernel_size,
                          double sigma);

}  // namespace sagbench::guidance
