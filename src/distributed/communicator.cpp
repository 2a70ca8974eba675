// The bounded wait clock, the single-process communicator and the backend
// choice (see communicator.h).
#include "distributed/communicator.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "distributed/launch.h"
#include "distributed/mpi_communicator.h"
#include "distributed/nccl_communicator.h"

namespace sagbench::distributed {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

class SingleCommunicator : public Communicator {
 public:
  Backend backend() const override { return Backend::kSingle; }
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  void barrier(const std::string&, const WaitPolicy&) override {}
  std::string broadcast(const std::string& bytes, int root, const std::string& what,
                        const WaitPolicy&) override {
    SAG_CHECK(root == 0, "{}: root {} outside a world of 1", what, root);
    return bytes;
  }
  std::vector<std::string> all_gather(const std::string& bytes, const std::string&,
                                      const WaitPolicy&) override {
    return {bytes};
  }
  at::Tensor gather_rows(const at::Tensor& local, int root, const std::string& what,
                         const WaitPolicy&) override {
    check_gather_input(local, what);
    SAG_CHECK(root == 0, "{}: root {} outside a world of 1", what, root);
    return local.clone();
  }
  at::Tensor all_reduce_sum(const at::Tensor& local, const std::string& what, const WaitPolicy&) override {
    check_reduce_input(local, what);
    return local.clone();
  }
  [[noreturn]] void abort(int exit_code) override { std::exit(exit_code); }
  nlohmann::json describe() const override { return {{"backend", "single"}, {"world_size", 1}}; }
};

}  // namespace

WaitClock::WaitClock(std::string what, const WaitPolicy& policy)
    : what_(std::move(what)),
      policy_(policy),
      start_s_(now_s()),
      last_progress_s_(start_s_),
      last_probe_s_(start_s_) {
  if (policy_.progress) {
    last_probe_value_ = policy_.progress();
  }
}

double WaitClock::waited_s() const {
  return now_s() - start_s_;
}

void WaitClock::pause() {
  std::this_thread::sleep_for(std::chrono::duration<double>(sleep_s_));
  sleep_s_ = std::min(sleep_s_ * 2, 0.02);
  const double now = now_s();
  if (policy_.progress && now - last_probe_s_ >= policy_.probe_interval_s) {
    last_probe_s_ = now;
    std::string value = policy_.progress();
    if (value != last_probe_value_) {
      last_probe_value_ = std::move(value);
      last_progress_s_ = now;
    }
  }
  SAG_REQUIRE(now - last_progress_s_ < policy_.timeout_s, kRuntime,
              "rank {}: '{}' timed out after {:.0f} s without progress (distributed.timeout_s = {:g}); "
              "another rank has probably died: see its log",
              logging::rank(), what_, now - start_s_, policy_.timeout_s);
}

const char* backend_name(Backend backend) {
  switch (backend) {
    case Backend::kSingle:
      return "single";
    case Backend::kMpi:
      return "mpi";
    case Backend::kNccl:
      return "nccl";
  }
  return "?";
}

void check_gather_input(const at::Tensor& local, const std::string& what) {
  SAG_REQUIRE(local.defined() && local.dim() >= 1 && local.is_contiguous(), kShape,
              "{}: gather needs a defined contiguous tensor of rank >= 1", what);
}

void check_reduce_input(const at::Tensor& local, const std::string& what) {
  SAG_REQUIRE(local.defined() && local.is_contiguous() &&
                  (local.scalar_type() == at::kDouble || local.scalar_type() == at::kLong),
              kShape, "{}: reductions take contiguous float64 or int64 tensors", what);
}

void agree(Communicator& comm, const std::string& what, const WaitPolicy& wait,
           const std::function<void()>& action) {
  std::string failure;  // "<kind index> <message>", empty on success
  try {
    action();
  } catch (const SharedError&) {
    throw;  // already agreed inside `action`
  } catch (const Error& e) {
    failure = fmt::format("{} {}", static_cast<int>(e.kind()), e.what());
  }
  const std::vector<std::string> outcomes = comm.all_gather(failure, what, wait);
  for (int r = 0; r < comm.world_size(); ++r) {
    const std::string& outcome = outcomes[static_cast<std::size_t>(r)];
    if (outcome.empty()) {
      continue;
    }
    const std::size_t space = outcome.find(' ');
    const auto kind = static_cast<ErrorKind>(std::stoi(outcome.substr(0, space)));
    const std::string message = outcome.substr(space + 1);
    throw SharedError(kind, r == 0 ? message : fmt::format("rank {}: {}", r, message));
  }
}

std::unique_ptr<Communicator> make_single_communicator() {
  return std::make_unique<SingleCommunicator>();
}

std::unique_ptr<Communicator> make_communicator(const std::string& backend) {
  const LaunchInfo launch = detect_launch();
  SAG_REQUIRE(backend == "auto" || backend == "single" || backend == "mpi" || backend == "nccl", kConfig,
              "distributed.backend '{}' is not one of auto, single, mpi, nccl", backend);
  SAG_REQUIRE(!(backend == "single" && launch.multi_process()), kConfig,
              "launched as rank {} of {} by {}, but distributed.backend is 'single' (every process would "
              "compute every shard)",
              launch.rank, launch.world_size, launch.launcher);
  const bool multi = launch.multi_process() || launch.launcher == "pmix";
  std::unique_ptr<Communicator> host;
  if (backend == "mpi" || multi) {
    host = make_mpi_communicator();
  } else {
    host = make_single_communicator();
  }
  const bool want_nccl = backend == "nccl" || (backend == "auto" && host->world_size() > 1 && nccl_usable());
  if (!want_nccl) {
    return host;
  }
  SAG_REQUIRE(nccl_usable(), kConfig,
              "distributed.backend 'nccl' needs a build with NCCL and a CUDA device visible to LibTorch ({})",
              nccl_unusable_reason());
  const at::Device device = select_device("cuda", host->local_rank());
  return make_nccl_communicator(std::move(host), device);
}

}  // namespace sagbench::distributed
