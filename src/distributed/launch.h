// How this process was started, from the variables launchers export (Open MPI's
// mpirun, PMIx, MPICH/Hydra's PMI, Slurm's srun), so that MPI is initialised
// only when a launcher started several processes and the same binary runs
// alone without mpirun; and which device a rank computes on (local rank r ->
// CUDA device r mod count). Tested by tests/distributed/launch_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>

namespace sagbench::distributed {

struct LaunchInfo {
  std::string launcher = "none";  // "openmpi", "pmi", "pmix", "slurm" or "none"
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // -1 when the launcher does not say (MPI derives it)

  bool multi_process() const { return world_size > 1; }
};

// `getenv` is injectable for tests. Inconsistent values (rank >= size, non-numbers)
// are a kConfig error naming the variable.
LaunchInfo detect_launch(const std::function<const char*(const char*)>& getenv);
LaunchInfo detect_launch();

// requested "auto" | "cpu" | "cuda" | "cuda:N". auto: CUDA device
// local_rank mod count when LibTorch sees CUDA devices, else the CPU; "cuda"
// without a device is a kConfig error; "cuda" maps the local rank as auto does;
// "cuda:N" is taken as given.
at::Device select_device(const std::string& requested, int local_rank);

}  // namespace sagbench::distributed
