// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11): a counter-based generator, so the random numbers of (seed, sample,
// step, element) are a pure function of those integers, independent of batch
// size, batch position, rank or device. Standard normals come from Box-Muller
// on pairs of 32-bit words computed in float64. Tested by
// tests/diffusion/philox_test.cpp (Random123 known-answer vectors, moments).
#pragma once

#include <array>
#include <cstdint>

namespace sagbench::diffusion {

using PhiloxCounter = std::array<std::uint32_t, 4>;
using PhiloxKey = std::array<std::uint32_t, 2>;

// One Philox4x32 block with 10 rounds (Random123's philox4x32_10).
PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key);

// Uniform in (0, 1] from one word: (w + 1) * 2^-32 (never 0, so log is finite).
double uniform_open_closed(std::uint32_t word);
// Uniform in [0, 1) from one word: w * 2^-32.
double uniform_closed_open(std::uint32_t word);

// Two standard normals from two words (Box-Muller, float64):
// r = sqrt(-2 ln u1), (r cos 2 pi u2, r sin 2 pi u2).
std::array<double, 2> box_muller(std::uint32_t word1, std::uint32_t word2);

}  // namespace sagbench::diffusion
