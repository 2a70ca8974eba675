// Named beta schedules: linear (numpy.linspace arithmetic) and cosine
// (betas_for_alpha_bar), following guided-diffusion get_named_beta_schedule.
// Tested by tests/diffusion/beta_schedule_test.cpp.
#include "diffusion/beta_schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace sagbench::diffusion {
namespace {

constexpr double kPi = 3.141592653589793;  // math.pi
constexpr double kMaxBeta = 0.999;         // betas_for_alpha_bar's max_beta

double cosine_alpha_bar(double t) {
  // Same operation order as upstream: (t + 0.008) / 1.008 * math.pi / 2.
  const double c = std::cos((t + 0.008) / 1.008 * kPi / 2);
  return c * c;
}

void require_steps(std::int64_t num_steps, const std::string& name) {
  SAG_REQUIRE(num_steps >= 1, kConfig, "diffusion_steps must be >= 1 for the '{}' schedule (got {})", name,
              num_steps);
}

}  // namespace

const std::vector<std::string>& beta_schedule_names() {
  static const std::vector<std::string> names = {"linear", "cosine"};
  return names;
}

std::vector<double> linear_beta_schedule(std::int64_t num_steps) {
  require_steps(num_steps, "linear");
  const double scale = 1000.0 / static_cast<double>(num_steps);
  const double beta_start = scale * 0.0001;
  const double beta_end = scale * 0.02;
  std::vector<double> betas(static_cast<std::size_t>(num_steps));
  if (num_steps == 1) {
    betas[0] = beta_start;  // numpy.linspace with num=1 returns only `start`
    return betas;
  }
  // numpy.linspace: step = (stop - start) / (num - 1); y_i = i * step + start; y_last = stop.
  const double step = (beta_end - beta_start) / static_cast<double>(num_steps - 1);
  for (std::int64_t i = 0; i < num_steps; ++i) {
    betas[static_cast<std::size_t>(i)] = static_cast<double>(i) * step + beta_start;
  }
  betas.back() = beta_end;
  return betas;
}

std::vector<double> cosine_beta_schedule(std::int64_t num_steps) {
  require_steps(num_steps, "cosine");
  std::vector<double> betas(static_cast<std::size_t>(num_steps));
  const double steps = static_cast<double>(num_steps);
  for (std::int64_t i = 0; i < num_steps; ++i) {
    const double t1 = static_cast<double>(i) / steps;
    const double t2 = static_cast<double>(i + 1) / steps;
    betas[static_cast<std::size_t>(i)] =
        std::min(1.0 - cosine_alpha_bar(t2) / cosine_alpha_bar(t1), kMaxBeta);
  }
  return betas;
}

std::vector<double> named_beta_schedule(const std::string& name, std::int64_t num_steps) {
  if (name == "linear") {
    return linear_beta_schedule(num_steps);
  }
  if (name == "cosine") {
    return cosine_beta_schedule(num_steps);
  }
  SAG_FAIL(kConfig, "unknown noise_schedule '{}' (allowed: linear, cosine)", name);
}

}  // namespace sagbench::diffusion
