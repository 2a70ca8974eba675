// MPI communicator (see mpi_communicator.h). Buffers above 1 GiB are moved in
// 1 GiB pieces (MPI counts are int); gathered rows travel as a contiguous row
// datatype so counts stay in rows.
#include "distributed/mpi_communicator.h"

#include "core/error.h"

#if defined(SAGBENCH_HAVE_MPI)

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>

#include "core/log.h"

namespace sagbench::distributed {
namespace {

constexpr std::int64_t kPieceBytes = std::int64_t{1} << 30;

void check_mpi(int code, const std::string& what) {
  if (code == MPI_SUCCESS) {
    return;
  }
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  SAG_FAIL(kRuntime, "rank {}: MPI error in '{}': {}", logging::rank(), what, std::string(text, length));
}

MPI_Datatype mpi_reduce_type(at::ScalarType type) {
  return type == at::kDouble ? MPI_DOUBLE : MPI_INT64_T;
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized == 0) {
      int provided = 0;
      check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_mpi_ = true;
    }
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    check_mpi(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
    MPI_Comm node = MPI_COMM_NULL;
    check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "split_type");
    check_mpi(MPI_Comm_rank(node, &local_rank_), "MPI_Comm_rank(node)");
    check_mpi(MPI_Comm_size(node, &local_size_), "MPI_Comm_size(node)");
    MPI_Comm_free(&node);
    logging::set_rank(rank_, size_);
  }

  ~MpiCommunicator() override {
    MPI_Comm_free(&comm_);
    if (owns_mpi_) {
      MPI_Finalize();
    }
  }

  Backend backend() const override { return Backend::kMpi; }
  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }

  void barrier(const std::string& what, const WaitPolicy& wait) override {
    MPI_Request request;
    check_mpi(MPI_Ibarrier(comm_, &request), what);
    complete(&request, what, wait);
  }

  std::string broadcast(const std::string& bytes, int root, const std::string& what,
                        const WaitPolicy& wait) override {
    SAG_CHECK(root >= 0 && root < size_, "{}: root {} outside a world of {}", what, root, size_);
    std::uint64_t size = bytes.size();
    MPI_Request request;
    check_mpi(MPI_Ibcast(&size, 1, MPI_UINT64_T, root, comm_, &request), what);
    complete(&request, what, wait);
    std::string out = rank_ == root ? bytes : std::string(size, '\0');
    for (std::uint64_t done = 0; done < size;) {
      const auto piece = static_cast<int>(std::min<std::uint64_t>(size - done, kPieceBytes));
      check_mpi(MPI_Ibcast(out.data() + done, piece, MPI_BYTE, root, comm_, &request), what);
      complete(&request, what, wait);
      done += static_cast<std::uint64_t>(piece);
    }
    return out;
  }

  std::vector<std::string> all_gather(const std::string& bytes, const std::string& what,
                                      const WaitPolicy& wait) override {
    const std::vector<std::int64_t> sizes =
        gather_counts(static_cast<std::int64_t>(bytes.size()), what, wait);
    std::vector<int> counts(sizes.size());
    std::vector<int> offsets(sizes.size());
    std::int64_t total = 0;
    for (std::size_t r = 0; r < sizes.size(); ++r) {
      SAG_REQUIRE(total + sizes[r] < INT_MAX, kRuntime, "{}: {} bytes are too many for one all-gather", what,
                  total + sizes[r]);
      counts[r] = static_cast<int>(sizes[r]);
      offsets[r] = static_cast<int>(total);
      total += sizes[r];
    }
    std::string all(static_cast<std::size_t>(total), '\0');
    MPI_Request request;
    check_mpi(MPI_Iallgatherv(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, all.data(),
                              counts.data(), offsets.data(), MPI_BYTE, comm_, &request),
              what);
    complete(&request, what, wait);
    std::vector<std::string> out;
    for (std::size_t r = 0; r < sizes.size(); ++r) {
      out.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(counts[r])));
    }
    return out;
  }

  at::Tensor gather_rows(const at::Tensor& local, int root, const std::string& what,
                         const WaitPolicy& wait) override {
    check_gather_input(local, what);
    SAG_REQUIRE(local.device().is_cpu(), kRuntime, "{}: the MPI backend gathers host tensors only", what);
    // Every rank states its dtype and trailing shape; a mismatch fails on all ranks alike.
    const std::string layout =
        fmt::format("{} {}", c10::toString(local.scalar_type()), fmt::join(local.sizes().slice(1), "x"));
    const std::vector<std::string> layouts = all_gather(layout, what, wait);
    for (int r = 0; r < size_; ++r) {
      SAG_REQUIRE(layouts[r] == layout, kShape, "{}: rank {} holds rows of {}, rank {} of {}", what, r,
                  layouts[r], rank_, layout);
    }
    const std::vector<std::int64_t> rows = gather_counts(local.size(0), what, wait);
    std::int64_t row_bytes = local.element_size();
    for (std::int64_t d = 1; d < local.dim(); ++d) {
      row_bytes *= local.size(d);
    }
    SAG_REQUIRE(row_bytes < INT_MAX, kRuntime, "{}: rows of {} bytes are too large to gather", what,
                row_bytes);
    std::vector<int> counts(rows.size());
    std::vector<int> offsets(rows.size());
    std::int64_t total = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      SAG_REQUIRE(total + rows[r] < INT_MAX, kRuntime, "{}: too many rows ({})", what, total + rows[r]);
      counts[r] = static_cast<int>(rows[r]);
      offsets[r] = static_cast<int>(total);
      total += rows[r];
    }
    std::vector<std::int64_t> shape(local.sizes().begin(), local.sizes().end());
    shape[0] = rank_ == root ? total : 0;
    at::Tensor out = at::empty(shape, local.options());
    if (row_bytes == 0) {
      return rank_ == root ? out : at::Tensor();
    }
    MPI_Datatype row_type;
    check_mpi(MPI_Type_contiguous(static_cast<int>(row_bytes), MPI_BYTE, &row_type), what);
    MPI_Type_commit(&row_type);
    MPI_Request request;
    const int code = MPI_Igatherv(local.data_ptr(), static_cast<int>(local.size(0)), row_type, out.data_ptr(),
                                  counts.data(), offsets.data(), row_type, root, comm_, &request);
    MPI_Type_free(&row_type);
    check_mpi(code, what);
    complete(&request, what, wait);
    return rank_ == root ? out : at::Tensor();
  }

  at::Tensor all_reduce_sum(const at::Tensor& local, const std::string& what,
                            const WaitPolicy& wait) override {
    check_reduce_input(local, what);
    SAG_REQUIRE(local.device().is_cpu(), kRuntime, "{}: the MPI backend reduces host tensors only", what);
    SAG_REQUIRE(local.numel() < INT_MAX, kRuntime, "{}: {} elements are too many for one reduction", what,
                local.numel());
    at::Tensor out = at::empty_like(local);
    MPI_Request request;
    check_mpi(MPI_Iallreduce(local.data_ptr(), out.data_ptr(), static_cast<int>(local.numel()),
                             mpi_reduce_type(local.scalar_type()), MPI_SUM, comm_, &request),
              what);
    complete(&request, what, wait);
    return out;
  }

  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(comm_, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this satisfies [[noreturn]]
  }

  nlohmann::json describe() const override {
    int major = 0;
    int minor = 0;
    MPI_Get_version(&major, &minor);
    return {{"backend", "mpi"},
            {"world_size", size_},
            {"local_size", local_size_},
            {"mpi_standard", fmt::format("{}.{}", major, minor)},
            {"mpi_library", mpi_library_version()}};
  }

 private:
  void complete(MPI_Request* request, const std::string& what, const WaitPolicy& wait) {
    WaitClock clock(what, wait);
    for (;;) {
      int done = 0;
      check_mpi(MPI_Test(request, &done, MPI_STATUS_IGNORE), what);
      if (done != 0) {
        return;
      }
      clock.pause();
    }
  }

  std::vector<std::int64_t> gather_counts(std::int64_t value, const std::string& what,
                                          const WaitPolicy& wait) {
    std::vector<std::int64_t> values(static_cast<std::size_t>(size_));
    MPI_Request request;
    check_mpi(MPI_Iallgather(&value, 1, MPI_INT64_T, values.data(), 1, MPI_INT64_T, comm_, &request), what);
    complete(&request, what, wait);
    return values;
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owns_mpi_ = false;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() {
  return std::make_unique<MpiCommunicator>();
}

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string version(text, static_cast<std::size_t>(length));
  return version.substr(0, version.find_first_of("\r\n"));
}

}  // namespace sagbench::distributed

#else  // built without MPI

namespace sagbench::distributed {

std::unique_ptr<Communicator> make_mpi_communicator() {
  SAG_FAIL(kConfig, "this sagbench was built without MPI (install an MPI library and reconfigure)");
}

std::string mpi_library_version() {
  return "none";
}

}  // namespace sagbench::distributed

#endif
