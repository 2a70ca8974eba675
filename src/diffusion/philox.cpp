// Philox4x32-10 (Salmon et al. SC'11, Random123's philox4x32_10) and the
// Box-Muller transform in float64.
// Tested by tests/diffusion/philox_test.cpp (Random123 known answers).
#include "diffusion/philox.h"

#include <cmath>

namespace sagbench::diffusion {
namespace {

constexpr std::uint32_t kMultiplier0 = 0xD2511F53u;
constexpr std::uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;  // golden ratio
constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1
constexpr double kTwoPi = 6.283185307179586;
constexpr double kTwoToMinus32 = 1.0 / 4294967296.0;

PhiloxCounter philox_round(const PhiloxCounter& c, const PhiloxKey& k) {
  const std::uint64_t product0 = static_cast<std::uint64_t>(kMultiplier0) * c[0];
  const std::uint64_t product1 = static_cast<std::uint64_t>(kMultiplier1) * c[2];
  const auto hi0 = static_cast<std::uint32_t>(product0 >> 32);
  const auto lo0 = static_cast<std::uint32_t>(product0);
  const auto hi1 = static_cast<std::uint32_t>(product1 >> 32);
  const auto lo1 = static_cast<std::uint32_t>(product1);
  return {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}

}  // namespace

PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kWeyl0;
      key[1] += kWeyl1;
    }
    counter = philox_round(counter, key);
  }
  return counter;
}

double uniform_open_closed(std::uint32_t word) {
  return (static_cast<double>(word) + 1.0) * kTwoToMinus32;
}

double uniform_closed_open(std::uint32_t word) {
  return static_cast<double>(word) * kTwoToMinus32;
}

std::array<double, 2> box_muller(std::uint32_t word1, std::uint32_t word2) {
  const double radius = std::sqrt(-2.0 * std::log(uniform_open_closed(word1)));
  const double angle = kTwoPi * uniform_closed_open(word2);
  return {radius * std::cos(angle), radius * std::sin(angle)};
}

}  // namespace sagbench::diffusion
