// The single-process communicator, the bounded wait clock, agree(), launcher
// detection and device selection (distributed/communicator.h, launch.h). The
// MPI paths run in tests/distributed/process_test.cpp with real processes.
#include "distributed/communicator.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <chrono>
#include <map>

#include "core/error.h"
#include "distributed/launch.h"
#include "distributed/nccl_communicator.h"

namespace sagbench::distributed {
namespace {

TEST(SingleCommunicator, CollectivesReturnTheirInput) {
  const auto comm = make_single_communicator();
  const WaitPolicy wait;
  EXPECT_EQ(comm->world_size(), 1);
  EXPECT_EQ(comm->rank(), 0);
  comm->barrier("test", wait);
  EXPECT_EQ(comm->broadcast("abc", 0, "test", wait), "abc");
  EXPECT_EQ(comm->all_gather("xyz", "test", wait), std::vector<std::string>{"xyz"});
  const at::Tensor rows = at::arange(6, at::kFloat).reshape({3, 2});
  EXPECT_TRUE(at::equal(comm->gather_rows(rows, 0, "test", wait), rows));
  const at::Tensor sums = at::tensor({1.5, 2.5}, at::kDouble);
  EXPECT_TRUE(at::equal(comm->all_reduce_sum(sums, "test", wait), sums));
  EXPECT_THROW(comm->all_reduce_sum(at::ones({2}, at::kFloat), "float32", wait), Error);
  EXPECT_THROW(comm->gather_rows(at::ones({}, at::kFloat), 0, "scalar", wait), Error);
}

TEST(WaitClock, TimesOutWithoutProgressNamingTheCollective) {
  WaitPolicy policy;
  policy.timeout_s = 0.05;
  WaitClock clock("the barrier", policy);
  const auto start = std::chrono::steady_clock::now();
  try {
    for (;;) {
      clock.pause();
    }
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kRuntime);
    EXPECT_NE(std::string(e.what()).find("'the barrier' timed out"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(WaitClock, ProgressRestartsTheClock) {
  int probes = 0;
  bool moving = true;
  WaitPolicy policy;
  policy.timeout_s = 0.1;
  policy.probe_interval_s = 0.005;
  policy.progress = [&] { return std::to_string(moving ? ++probes : probes); };
  WaitClock clock("sampling", policy);
  // Three timeouts long with progress: no error.
  while (clock.waited_s() < 0.3) {
    clock.pause();
  }
  EXPECT_GT(probes, 3);
  moving = false;
  EXPECT_THROW(
      for (;;) { clock.pause(); }, Error);
}

TEST(Agree, AFailureOnAnyRankBecomesASharedErrorOfTheSameKind) {
  const auto comm = make_single_communicator();
  const WaitPolicy wait;
  EXPECT_NO_THROW(agree(*comm, "fine", wait, [] {}));
  try {
    agree(*comm, "step", wait, [] { SAG_FAIL(kIo, "disk full writing x"); });
    FAIL() << "no error";
  } catch (const SharedError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_EQ(std::string(e.what()), "disk full writing x");
  }
}

TEST(MakeCommunicator, SingleProcessWithoutALauncherAndBadBackendsRefused) {
  const LaunchInfo launch = detect_launch();
  if (launch.multi_process()) {
    GTEST_SKIP() << "running under a launcher";
  }
  EXPECT_EQ(make_communicator("auto")->backend(), Backend::kSingle);
  EXPECT_EQ(make_communicator("single")->world_size(), 1);
  EXPECT_THROW(make_communicator("gloo"), Error);
  if (!nccl_usable()) {
    try {
      make_communicator("nccl");
      FAIL() << "NCCL without a device";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    }
  }
}

std::function<const char*(const char*)> fake_env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    const auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(DetectLaunch, ReadsEachLaunchersVariables) {
  const LaunchInfo none = detect_launch(fake_env({}));
  EXPECT_EQ(none.launcher, "none");
  EXPECT_FALSE(none.multi_process());

  const LaunchInfo ompi = detect_launch(fake_env(
      {{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "8"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "2"}}));
  EXPECT_EQ(ompi.launcher, "openmpi");
  EXPECT_EQ(ompi.rank, 2);
  EXPECT_EQ(ompi.world_size, 8);
  EXPECT_EQ(ompi.local_rank, 2);

  const LaunchInfo hydra = detect_launch(fake_env({{"PMI_RANK", "1"}, {"PMI_SIZE", "4"}}));
  EXPECT_EQ(hydra.launcher, "pmi");
  EXPECT_EQ(hydra.local_rank, -1);  // MPI derives it

  const LaunchInfo srun = detect_launch(
      fake_env({{"SLURM_PROCID", "5"}, {"SLURM_STEP_NUM_TASKS", "16"}, {"SLURM_LOCALID", "1"}}));
  EXPECT_EQ(srun.launcher, "slurm");
  EXPECT_EQ(srun.rank, 5);
  EXPECT_EQ(srun.world_size, 16);
  EXPECT_EQ(srun.local_rank, 1);

  // An sbatch script (task count but no job step) is one process.
  EXPECT_FALSE(detect_launch(fake_env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "16"}})).multi_process());
}

TEST(DetectLaunch, InconsistentVariablesAreConfigErrors) {
  EXPECT_THROW(detect_launch(fake_env({{"OMPI_COMM_WORLD_RANK", "4"}, {"OMPI_COMM_WORLD_SIZE", "4"}})),
               Error);
  EXPECT_THROW(detect_launch(fake_env({{"PMI_RANK", "x"}, {"PMI_SIZE", "4"}})), Error);
}

TEST(SelectDevice, CpuAndAutoWithoutCudaAndMalformedNames) {
  EXPECT_EQ(select_device("cpu", 3), at::Device(at::kCPU));
  if (torch::cuda::is_available()) {
    const auto count = static_cast<int>(torch::cuda::device_count());
    EXPECT_EQ(select_device("auto", count + 1),
              at::Device(at::kCUDA, static_cast<at::DeviceIndex>(1 % count)));
  } else {
    EXPECT_EQ(select_device("auto", 1), at::Device(at::kCPU));
    EXPECT_THROW(select_device("cuda", 0), Error);
    EXPECT_THROW(select_device("cuda:0", 0), Error);
  }
  EXPECT_THROW(select_device("gpu", 0), Error);
  EXPECT_THROW(select_device("cuda:x", 0), Error);
}

}  // namespace
}  // namespace sagbench::distributed
