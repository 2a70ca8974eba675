// Launcher detection and device selection (see launch.h).
#include "distributed/launch.h"

#include <torch/cuda.h>

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace sagbench::distributed {
namespace {

using Getenv = std::function<const char*(const char*)>;

// The integer in `name`, or `fallback` when unset; a malformed value is a kConfig error.
int env_int(const Getenv& getenv, const char* name, int fallback) {
  const char* text = getenv(name);
  if (text == nullptr || *text == '\0') {
    return fallback;
  }
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  SAG_REQUIRE(*end == '\0' && value >= 0 && value < (1L << 24), kConfig,
              "launcher variable {}='{}' is not a process count or rank", name, text);
  return static_cast<int>(value);
}

bool has(const Getenv& getenv, const char* name) {
  const char* text = getenv(name);
  return text != nullptr && *text != '\0';
}

// One launcher's variable names; local_rank may be null.
struct LauncherVars {
  const char* launcher;
  const char* rank;
  const char* size;
  const char* local_rank;
};

constexpr LauncherVars kLaunchers[] = {
    {"openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
    {"pmi", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"},
    // srun exports the step's task count only inside a job step (not in the batch script).
    {"slurm", "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID"},
};

}  // namespace

LaunchInfo detect_launch(const Getenv& getenv) {
  LaunchInfo info;
  for (const LauncherVars& vars : kLaunchers) {
    if (!has(getenv, vars.rank) || !has(getenv, vars.size)) {
      continue;
    }
    info.launcher = vars.launcher;
    info.rank = env_int(getenv, vars.rank, 0);
    info.world_size = env_int(getenv, vars.size, 1);
    info.local_rank = env_int(getenv, vars.local_rank, -1);
    SAG_REQUIRE(info.world_size >= 1 && info.rank < info.world_size, kConfig,
                "launcher variables {}={} and {}={} are inconsistent (rank must be below size)", vars.rank,
                info.rank, vars.size, info.world_size);
    return info;
  }
  // PMIx alone (e.g. srun --mpi=pmix without Slurm's own variables) names the rank, not the size.
  if (has(getenv, "PMIX_RANK")) {
    info.launcher = "pmix";
    info.rank = env_int(getenv, "PMIX_RANK", 0);
    info.world_size = info.rank + 1;  // at least; MPI_Init gives the real size
    info.local_rank = -1;
  }
  return info;
}

LaunchInfo detect_launch() {
  return detect_launch([](const char* name) { return std::getenv(name); });
}

at::Device select_device(const std::string& requested, int local_rank) {
  const int local = local_rank < 0 ? 0 : local_rank;
  if (requested == "cpu") {
    return at::Device(at::kCPU);
  }
  const bool cuda = torch::cuda::is_available();
  const auto count = cuda ? static_cast<int>(torch::cuda::device_count()) : 0;
  if (requested == "auto") {
    return count > 0 ? at::Device(at::kCUDA, static_cast<at::DeviceIndex>(local % count))
                     : at::Device(at::kCPU);
  }
  if (requested == "cuda") {
    SAG_REQUIRE(count > 0, kConfig, "device 'cuda' requested but LibTorch sees no CUDA device");
    return at::Device(at::kCUDA, static_cast<at::DeviceIndex>(local % count));
  }
  SAG_REQUIRE(requested.rfind("cuda:", 0) == 0, kConfig, "device '{}' is not one of auto, cpu, cuda, cuda:N",
              requested);
  char* end = nullptr;
  const long index = std::strtol(requested.c_str() + 5, &end, 10);
  SAG_REQUIRE(*end == '\0' && end != requested.c_str() + 5 && index >= 0, kConfig,
              "device '{}' is not one of auto, cpu, cuda, cuda:N", requested);
  SAG_REQUIRE(index < count, kConfig, "device '{}' requested but LibTorch sees {} CUDA device(s)", requested,
              count);
  return at::Device(at::kCUDA, static_cast<at::DeviceIndex>(index));
}

}  // namespace sagbench::distributed
