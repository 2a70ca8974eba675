// Timestep respacing: which steps of the base process a shorter sampler keeps,
// following guided-diffusion respace.py space_timesteps. Section counts
// ("250", "10,15,20") split the base steps into equal sections and take evenly
// strided steps in each, rounding with Python's round (half to even, hence
// std::nearbyint); "ddimN" keeps range(0, T, s) for the first integer stride s
// that yields exactly N steps. Tested by tests/diffusion/respacing_test.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sagbench::diffusion {

// The kept base timesteps, sorted ascending and unique. An empty spec keeps
// every step (create_gaussian_diffusion's default). Malformed specs, sections
// that cannot hold their count, or an impossible ddimN throw
// sagbench::Error(kConfig) quoting the spec.
std::vector<std::int64_t> space_timesteps(std::int64_t num_timesteps, const std::string& spec);

// The same from explicit section counts (the list form of the spec).
std::vector<std::int64_t> space_timesteps(std::int64_t num_timesteps,
                                          const std::vector<std::int64_t>& section_counts);

}  // namespace sagbench::diffusion
