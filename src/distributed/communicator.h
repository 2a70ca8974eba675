// Collectives between the processes of one run behind one interface, with
// three implementations: a single process (make_single_communicator), MPI
// (CPU-side collectives and the NCCL bootstrap; mpi_communicator.h) and NCCL
// (tensors on the GPU, bytes through MPI; nccl_communicator.h). Every wait is
// bounded: collectives poll and fail with sagbench::Error(kRuntime) naming the
// collective after WaitPolicy::timeout_s without progress, so a rank that died
// never leaves the others hanging. Tested by tests/distributed/communicator_test.cpp
// (single process, wait clock) and tests/distributed/process_test.cpp (mpirun).
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"

namespace sagbench::distributed {

// How long a collective may wait. The clock restarts whenever the optional
// progress probe returns a new value (e.g. the shard directory's listing while
// other ranks are still sampling), so long but live phases never time out.
struct WaitPolicy {
  double timeout_s = 1800.0;
  std::function<std::string()> progress;
  double probe_interval_s = 1.0;
};

// One bounded wait: pause() sleeps briefly (growing from 50 us to 20 ms) and
// throws kRuntime naming `what` once timeout_s has passed without progress.
class WaitClock {
 public:
  WaitClock(std::string what, const WaitPolicy& policy);
  void pause();
  double waited_s() const;

 private:
  std::string what_;
  const WaitPolicy& policy_;
  double start_s_;
  double last_progress_s_;
  double last_probe_s_;
  std::string last_probe_value_;
  double sleep_s_ = 50e-6;
};

enum class Backend { kSingle, kMpi, kNccl };
const char* backend_name(Backend backend);

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual Backend backend() const = 0;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Rank and process count on this node: local rank r computes on GPU r.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;

  virtual void barrier(const std::string& what, const WaitPolicy& wait) = 0;
  // Root's bytes on every rank.
  virtual std::string broadcast(const std::string& bytes, int root, const std::string& what,
                                const WaitPolicy& wait) = 0;
  // Every rank's bytes, in rank order, on every rank.
  virtual std::vector<std::string> all_gather(const std::string& bytes, const std::string& what,
                                              const WaitPolicy& wait) = 0;
  // Rows of every rank's contiguous (n_r, ...) tensor concatenated in rank
  // order on `root` (same trailing shape and dtype everywhere; other ranks get
  // an undefined tensor). CUDA tensors go through NCCL, host ones through MPI.
  virtual at::Tensor gather_rows(const at::Tensor& local, int root, const std::string& what,
                                 const WaitPolicy& wait) = 0;
  // Elementwise sum over ranks of a float64 or int64 tensor, on every rank.
  virtual at::Tensor all_reduce_sum(const at::Tensor& local, const std::string& what,
                                    const WaitPolicy& wait) = 0;
  // Ends every process of the run with `exit_code`; the caller has logged why.
  [[noreturn]] virtual void abort(int exit_code) = 0;
  // For provenance: backend, world size, library versions.
  virtual nlohmann::json describe() const = 0;
};

// An error every rank raised together after agree(): rank 0 reports it and
// the other ranks exit quietly with the same status, without an abort.
class SharedError : public Error {
 public:
  using Error::Error;
};

// Runs `action` on every rank, then agrees on the outcome: when it threw a
// sagbench::Error on any rank, every rank throws SharedError carrying the
// lowest failing rank's kind and message ("rank r: ..." when r != 0).
void agree(Communicator& comm, const std::string& what, const WaitPolicy& wait,
           const std::function<void()>& action);

// The world of one process: every collective returns its own input.
std::unique_ptr<Communicator> make_single_communicator();

// backend "auto" | "single" | "mpi" | "nccl". auto: MPI when a launcher
// started several processes (launch.h), NCCL over it when CUDA devices are
// usable, else a single process. "nccl" also works for one process (its
// unique id needs no MPI then). An impossible request is a kConfig error.
std::unique_ptr<Communicator> make_communicator(const std::string& backend);

// Checks shared by the implementations (kShape errors naming `what`).
void check_gather_input(const at::Tensor& local, const std::string& what);
void check_reduce_input(const at::Tensor& local, const std::string& what);

}  // namespace sagbench::distributed
