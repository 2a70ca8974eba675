// NCCL communicator (see nccl_communicator.h). Rows are gathered with grouped
// ncclSend/ncclRecv of bytes (NCCL has no gatherv); sums with ncclAllReduce;
// the barrier is an all-reduce of one float on the device.
#include "distributed/nccl_communicator.h"

#include <torch/cuda.h>

#include "core/error.h"

#if defined(SAGBENCH_HAVE_NCCL)

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/log.h"

namespace sagbench::distributed {
namespace {

void check_cuda(cudaError_t code, const std::string& what) {
  SAG_REQUIRE(code == cudaSuccess, kRuntime, "rank {}: CUDA error in '{}': {}", logging::rank(), what,
              cudaGetErrorString(code));
}

void check_nccl(ncclResult_t code, const std::string& what) {
  SAG_REQUIRE(code == ncclSuccess || code == ncclInProgress, kRuntime, "rank {}: NCCL error in '{}': {}",
              logging::rank(), what, ncclGetErrorString(code));
}

ncclDataType_t reduce_type(at::ScalarType type) {
  return type == at::kDouble ? ncclFloat64 : ncclInt64;
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(std::unique_ptr<Communicator> host, at::Device device)
      : host_(std::move(host)), device_(device) {
    SAG_CHECK(device_.is_cuda() && device_.has_index(), "NCCL needs an indexed CUDA device");
    check_cuda(cudaSetDevice(device_.index()), "cudaSetDevice");
    ncclUniqueId id;
    if (host_->rank() == 0) {
      check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    }
    const WaitPolicy bootstrap;
    const std::string bytes = host_->broadcast(std::string(reinterpret_cast<const char*>(&id), sizeof(id)), 0,
                                               "NCCL unique id", bootstrap);
    std::memcpy(&id, bytes.data(), sizeof(id));
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;  // returns at once; settle() bounds the wait for the other ranks
    check_nccl(ncclCommInitRankConfig(&comm_, host_->world_size(), id, host_->rank(), &config), "init");
    WaitClock clock("NCCL communicator init", bootstrap);
    settle("NCCL communicator init", clock);
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check_cuda(cudaMalloc(&barrier_value_, sizeof(float)), "cudaMalloc");
  }

  ~NcclCommunicator() override {
    if (comm_ != nullptr) {
      // Finalize flushes outstanding work; it is bounded like every wait, then aborted.
      ncclResult_t state = ncclCommFinalize(comm_);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (state == ncclInProgress && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (ncclCommGetAsyncError(comm_, &state) != ncclSuccess) {
          break;
        }
      }
      if (state == ncclSuccess) {
        ncclCommDestroy(comm_);
      } else {
        ncclCommAbort(comm_);
      }
    }
    if (stream_ != nullptr) {
      cudaStreamDestroy(stream_);
    }
    cudaFree(barrier_value_);
  }

  Backend backend() const override { return Backend::kNccl; }
  int rank() const override { return host_->rank(); }
  int world_size() const override { return host_->world_size(); }
  int local_rank() const override { return host_->local_rank(); }
  int local_size() const override { return host_->local_size(); }

  void barrier(const std::string& what, const WaitPolicy& wait) override {
    run(what, wait, [&] {
      check_nccl(ncclAllReduce(barrier_value_, barrier_value_, 1, ncclFloat32, ncclSum, comm_, stream_),
                 what);
    });
  }

  std::string broadcast(const std::string& bytes, int root, const std::string& what,
                        const WaitPolicy& wait) override {
    return host_->broadcast(bytes, root, what, wait);
  }

  std::vector<std::string> all_gather(const std::string& bytes, const std::string& what,
                                      const WaitPolicy& wait) override {
    return host_->all_gather(bytes, what, wait);
  }

  at::Tensor gather_rows(const at::Tensor& local, int root, const std::string& what,
                         const WaitPolicy& wait) override {
    check_gather_input(local, what);
    if (!local.is_cuda()) {
      return host_->gather_rows(local, root, what, wait);
    }
    const std::string layout =
        fmt::format("{} {}", c10::toString(local.scalar_type()), fmt::join(local.sizes().slice(1), "x"));
    const std::vector<std::string> layouts =
        host_->all_gather(layout + " " + std::to_string(local.size(0)), what, wait);
    std::vector<std::int64_t> rows;
    for (int r = 0; r < world_size(); ++r) {
      const std::size_t split = layouts[r].rfind(' ');
      SAG_REQUIRE(layouts[r].substr(0, split) == layout, kShape,
                  "{}: rank {} holds rows of {}, rank {} of {}", what, r, layouts[r].substr(0, split), rank(),
                  layout);
      rows.push_back(std::stoll(layouts[r].substr(split + 1)));
    }
    std::int64_t total = 0;
    for (const std::int64_t n : rows) {
      total += n;
    }
    std::vector<std::int64_t> shape(local.sizes().begin(), local.sizes().end());
    shape[0] = rank() == root ? total : 0;
    at::Tensor out = at::empty(shape, local.options());
    std::size_t bytes_per_row = local.element_size();
    for (std::int64_t d = 1; d < local.dim(); ++d) {
      bytes_per_row *= static_cast<std::size_t>(local.size(d));
    }
    run(what, wait, [&] {
      check_nccl(ncclGroupStart(), what);
      if (rank() == root) {
        std::size_t offset = 0;
        auto* base = static_cast<char*>(out.data_ptr());
        for (int r = 0; r < world_size(); ++r) {
          const std::size_t bytes = static_cast<std::size_t>(rows[r]) * bytes_per_row;
          if (r == root) {
            check_cuda(
                cudaMemcpyAsync(base + offset, local.data_ptr(), bytes, cudaMemcpyDeviceToDevice, stream_),
                what);
          } else if (bytes > 0) {
            check_nccl(ncclRecv(base + offset, bytes, ncclUint8, r, comm_, stream_), what);
          }
          offset += bytes;
        }
      } else if (local.size(0) > 0) {
        check_nccl(ncclSend(local.data_ptr(), local.nbytes(), ncclUint8, root, comm_, stream_), what);
      }
      check_nccl(ncclGroupEnd(), what);
    });
    return rank() == root ? out : at::Tensor();
  }

  at::Tensor all_reduce_sum(const at::Tensor& local, const std::string& what,
                            const WaitPolicy& wait) override {
    check_reduce_input(local, what);
    if (!local.is_cuda()) {
      return host_->all_reduce_sum(local, what, wait);
    }
    at::Tensor out = at::empty_like(local);
    run(what, wait, [&] {
      check_nccl(ncclAllReduce(local.data_ptr(), out.data_ptr(), static_cast<std::size_t>(local.numel()),
                               reduce_type(local.scalar_type()), ncclSum, comm_, stream_),
                 what);
    });
    return out;
  }

  [[noreturn]] void abort(int exit_code) override {
    if (comm_ != nullptr) {
      ncclCommAbort(comm_);
      comm_ = nullptr;
    }
    host_->abort(exit_code);
    std::_Exit(exit_code);  // host_->abort does not return; this satisfies [[noreturn]]
  }

  nlohmann::json describe() const override {
    nlohmann::json record = host_->describe();
    record["backend"] = "nccl";
    record["host_backend"] = backend_name(host_->backend());
    record["nccl_version"] = nccl_library_version();
    record["device"] = device_.str();
    return record;
  }

 private:
  // Waits until the non-blocking communicator has finished its last call.
  void settle(const std::string& what, WaitClock& clock) {
    for (;;) {
      ncclResult_t state = ncclSuccess;
      check_nccl(ncclCommGetAsyncError(comm_, &state), what);
      if (state == ncclSuccess) {
        return;
      }
      SAG_REQUIRE(state == ncclInProgress, kRuntime, "rank {}: NCCL error in '{}': {} ({})", rank(), what,
                  ncclGetErrorString(state), ncclGetLastError(comm_));
      clock.pause();
    }
  }

  // Enqueues `body` on the private stream after LibTorch's work and polls it
  // to completion; a timeout or an error aborts the communicator.
  template <class Body>
  void run(const std::string& what, const WaitPolicy& wait, Body body) {
    SAG_REQUIRE(comm_ != nullptr, kRuntime, "rank {}: '{}' after the NCCL communicator was aborted", rank(),
                what);
    try {
      check_cuda(cudaSetDevice(device_.index()), what);
      check_cuda(cudaDeviceSynchronize(), what);
      WaitClock clock(what, wait);
      body();
      settle(what, clock);
      for (;;) {
        const cudaError_t state = cudaStreamQuery(stream_);
        if (state == cudaSuccess) {
          break;
        }
        SAG_REQUIRE(state == cudaErrorNotReady, kRuntime, "rank {}: CUDA error in '{}': {}", rank(), what,
                    cudaGetErrorString(state));
        settle(what, clock);
        clock.pause();
      }
    } catch (const Error&) {
      ncclCommAbort(comm_);
      comm_ = nullptr;
      throw;
    }
  }

  std::unique_ptr<Communicator> host_;
  at::Device device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  void* barrier_value_ = nullptr;
};

}  // namespace

bool nccl_usable() {
  return torch::cuda::is_available() && torch::cuda::device_count() > 0;
}

std::string nccl_unusable_reason() {
  return nccl_usable() ? "usable" : "LibTorch sees no CUDA device";
}

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> host, at::Device device) {
  SAG_REQUIRE(nccl_usable(), kConfig, "the NCCL backend needs a CUDA device: {}", nccl_unusable_reason());
  return std::make_unique<NcclCommunicator>(std::move(host), device);
}

std::string nccl_library_version() {
  int version = 0;
  if (ncclGetVersion(&version) != ncclSuccess) {
    return "unknown";
  }
  // NCCL >= 2.9 encodes major*10000 + minor*100 + patch (older: major*1000 + minor*100 + patch).
  const int major_scale = version >= 20900 ? 10000 : 1000;
  return fmt::format("{}.{}.{}", version / major_scale, (version % major_scale) / 100, version % 100);
}

}  // namespace sagbench::distributed

#else  // built without NCCL

namespace sagbench::distributed {

bool nccl_usable() {
  return false;
}

std::string nccl_unusable_reason() {
  return "this sagbench was built without NCCL";
}

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator>, at::Device) {
  SAG_FAIL(kConfig, "the NCCL backend is not available: {}", nccl_unusable_reason());
}

std::string nccl_library_version() {
  return "none";
}

}  // namespace sagbench::distributed

#endif
