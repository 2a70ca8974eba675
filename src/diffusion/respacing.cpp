// Timestep respacing (guided-diffusion respace.py space_timesteps): section
// counts with round-half-to-even, ddimN with an integer stride.
// Tested by tests/diffusion/respacing_test.cpp.
#include "diffusion/respacing.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "core/error.h"

namespace sagbench::diffusion {
namespace {

// Parses a non-negative decimal integer (the whole string); false otherwise.
bool parse_count(const std::string& text, std::int64_t& value) {
  if (text.empty() || text.size() > 12) {
    return false;
  }
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  return true;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) {
    return "";
  }
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::vector<std::int64_t> ddim_timesteps(std::int64_t num_timesteps, const std::string& spec) {
  std::int64_t desired = 0;
  SAG_REQUIRE(parse_count(spec.substr(4), desired), kConfig,
              "timestep_respacing '{}': expected 'ddimN' with N a positive integer", spec);
  // Upstream tries strides 1 .. T-1 and keeps the first with len(range(0, T, s)) == N.
  for (std::int64_t stride = 1; stride < num_timesteps; ++stride) {
    const std::int64_t count = (num_timesteps + stride - 1) / stride;
    if (count == desired) {
      std::vector<std::int64_t> steps;
      for (std::int64_t t = 0; t < num_timesteps; t += stride) {
        steps.push_back(t);
      }
      return steps;
    }
  }
  SAG_FAIL(kConfig,
           "timestep_respacing '{}': cannot divide {} steps into {} ddim steps with an integer stride", spec,
           num_timesteps, desired);
}

}  // namespace

std::vector<std::int64_t> space_timesteps(std::int64_t num_timesteps,
                                          const std::vector<std::int64_t>& section_counts) {
  SAG_REQUIRE(num_timesteps >= 1, kConfig, "cannot respace a process of {} steps", num_timesteps);
  SAG_REQUIRE(!section_counts.empty(), kConfig, "timestep_respacing: no section counts given");
  const auto sections = static_cast<std::int64_t>(section_counts.size());
  const std::int64_t size_per = num_timesteps / sections;
  const std::int64_t extra = num_timesteps % sections;
  std::set<std::int64_t> kept;
  std::int64_t start = 0;
  for (std::int64_t i = 0; i < sections; ++i) {
    const std::int64_t size = size_per + (i < extra ? 1 : 0);
    const std::int64_t count = section_counts[static_cast<std::size_t>(i)];
    SAG_REQUIRE(count >= 0 && count <= size, kConfig,
                "timestep_respacing: cannot divide section {} of {} steps into {} steps", i, size, count);
    const double stride = count <= 1 ? 1.0 : static_cast<double>(size - 1) / static_cast<double>(count - 1);
    // Accumulate like upstream (cur_idx += frac_stride) so that ties round the same way.
    double position = 0.0;
    for (std::int64_t k = 0; k < count; ++k) {
      kept.insert(start + static_cast<std::int64_t>(std::nearbyint(position)));
      position += stride;
    }
    start += size;
  }
  return {kept.begin(), kept.end()};
}

std::vector<std::int64_t> space_timesteps(std::int64_t num_timesteps, const std::string& spec) {
  const std::string text = trim(spec);
  if (text.empty()) {
    return space_timesteps(num_timesteps, std::vector<std::int64_t>{num_timesteps});
  }
  if (text.rfind("ddim", 0) == 0) {
    return ddim_timesteps(num_timesteps, text);
  }
  std::vector<std::int64_t> counts;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = text.find(',', begin);
    const std::string item =
        trim(text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
    std::int64_t count = 0;
    SAG_REQUIRE(
        parse_count(item, count), kConfig,
        "timestep_respacing '{}': '{}' is not a step count (expected e.g. '250', '10,15,20' or 'ddim25')",
        spec, item);
    counts.push_back(count);
    if (comma == std::string::npos) {
      break;
    }
    begin = comma + 1;
  }
  return space_timesteps(num_timesteps, counts);
}

}  // namespace sagbench::diffusion
