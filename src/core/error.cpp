// Error kinds and the invariant-failure path (see error.h).
#include "core/error.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace sagbench {
namespace {
std::atomic<int> g_rank{0};
}

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConfig:
      return "config error";
    case ErrorKind::kIo:
      return "i/o error";
    case ErrorKind::kFormat:
      return "format error";
    case ErrorKind::kShape:
      return "shape error";
    case ErrorKind::kNumeric:
      return "numeric error";
    case ErrorKind::kRuntime:
      return "runtime error";
  }
  return "error";
}

void set_process_rank(int rank) {
  g_rank = rank;
}
int process_rank() {
  return g_rank;
}

void invariant_failed(const char* file, int line, const char* condition, const std::string& message) {
  std::fprintf(stderr, "[rank %d] internal error at %s:%d: check `%s` failed%s%s\n", g_rank.load(), file,
               line, condition, message.empty() ? "" : ": ", message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace sagbench
