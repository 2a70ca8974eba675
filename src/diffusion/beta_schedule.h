// Named beta schedules of the forward diffusion process as float64 tables,
// following guided-diffusion's get_named_beta_schedule / betas_for_alpha_bar:
// "linear" (Ho et al., scaled by 1000/T) and "cosine" (Nichol & Dhariwal 2021,
// eq. 17, betas clipped at 0.999). The arithmetic mirrors numpy's linspace and
// Python's float order of operations so the tables agree with upstream to the
// last bit or two. Tested by tests/diffusion/beta_schedule_test.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sagbench::diffusion {

// The schedule names get_named_beta_schedule accepts.
const std::vector<std::string>& beta_schedule_names();

// Betas of `name` over `num_steps` steps. Unknown name or num_steps < 1 ->
// sagbench::Error(kConfig) naming the schedule and the allowed values.
std::vector<double> named_beta_schedule(const std::string& name, std::int64_t num_steps);

// Linear: beta_i = start + i * (end - start) / (T - 1), start = 1e-4 * 1000/T,
// end = 0.02 * 1000/T; the last entry is `end` exactly (as numpy.linspace).
std::vector<double> linear_beta_schedule(std::int64_t num_steps);

// Cosine: beta_i = min(1 - abar((i+1)/T) / abar(i/T), 0.999) with
// abar(t) = cos((t + 0.008) / 1.008 * pi / 2)^2.
std::vector<double> cosine_beta_schedule(std::int64_t num_steps);

}  // namespace sagbench::diffusion
