// NCCL for tensors on the GPU, over a host communicator (MPI, or the single
// process) that carries bytes, host tensors and the bootstrap: rank 0's
// ncclGetUniqueId is broadcast through the host, then every rank joins with a
// non-blocking ncclCommInitRankConfig on its device. Collectives run on a
// private stream after a device synchronisation (so LibTorch's pending work is
// done) and are polled (ncclCommGetAsyncError, cudaStreamQuery) under a
// WaitClock; a timeout aborts the NCCL communicator and fails. Compiled
// whenever NCCL is found; without a usable CUDA device nccl_usable() is false
// and the GPU tests skip. Tested by tests/distributed/nccl_communicator_test.cpp.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "distributed/communicator.h"

namespace sagbench::distributed {

// Built with NCCL and LibTorch sees a CUDA device.
bool nccl_usable();
// Why not, for messages ("built without NCCL", "LibTorch sees no CUDA device").
std::string nccl_unusable_reason();

// `device` is this rank's CUDA device. kConfig error when !nccl_usable().
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> host, at::Device device);

// "2.28.9", or "none" when built without NCCL.
std::string nccl_library_version();

}  // namespace sagbench::distributed
