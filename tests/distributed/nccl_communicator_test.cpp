// The NCCL communicator with world size 1 on a GPU: barrier, gathering CUDA
// rows and sums match the single-process results exactly (no arithmetic is
// involved in a one-rank gather; a one-rank sum adds nothing). Skipped
// without a CUDA device visible to LibTorch (distributed/nccl_communicator.h).
#include "distributed/nccl_communicator.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace sagbench::distributed {
namespace {

TEST(NcclCommunicator, WorldOfOneMatchesTheSingleProcessPath) {
  if (!nccl_usable()) {
    GTEST_SKIP() << nccl_unusable_reason();
  }
  const at::Device device(at::kCUDA, 0);
  auto comm = make_nccl_communicator(make_single_communicator(), device);
  const WaitPolicy wait;
  EXPECT_EQ(comm->backend(), Backend::kNccl);
  comm->barrier("barrier", wait);
  const at::Tensor rows = at::randn({5, 7}, at::kFloat).to(device);
  const at::Tensor gathered = comm->gather_rows(rows, 0, "rows", wait);
  EXPECT_TRUE(gathered.is_cuda());
  EXPECT_TRUE(at::equal(gathered.cpu(), rows.cpu()));
  const at::Tensor sums = at::tensor({1.25, -3.5}, at::kDouble).to(device);
  EXPECT_TRUE(at::equal(comm->all_reduce_sum(sums, "sums", wait).cpu(), sums.cpu()));
  // Host tensors go through the host communicator.
  const at::Tensor host = at::arange(4, at::kLong).reshape({2, 2});
  EXPECT_TRUE(at::equal(comm->gather_rows(host, 0, "host rows", wait), host));
  EXPECT_NE(comm->describe()["nccl_version"].get<std::string>(), "none");
}

TEST(NcclCommunicator, UnusableWithoutADeviceIsAConfigError) {
  if (nccl_usable()) {
    GTEST_SKIP() << "a CUDA device is present";
  }
  try {
    make_nccl_communicator(make_single_communicator(), at::Device(at::kCUDA, 0));
    FAIL() << "NCCL communicator without a device";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
  }
}

}  // namespace
}  // namespace sagbench::distributed
