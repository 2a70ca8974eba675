// Two tiers of errors (as in faiss): SAG_CHECK for internal invariants, which
// abort with file:line and rank; sagbench::Error for user mistakes (bad key,
// missing file, wrong shape, corrupt archive), which main() prints as one clear
// line with a non-zero exit. Throw user errors with SAG_FAIL / SAG_REQUIRE.
// Tested by tests/core/error_test.cpp.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace sagbench {

// The category lets main() choose an exit code and lets tests assert on kind.
enum class ErrorKind { kConfig, kIo, kFormat, kShape, kNumeric, kRuntime };

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Process rank used in invariant-failure messages (set once by the launcher).
void set_process_rank(int rank);
int process_rank();

[[noreturn]] void invariant_failed(const char* file, int line, const char* condition,
                                   const std::string& message);

}  // namespace sagbench

// User-facing error: SAG_FAIL(kind, "format {}", args...).
#define SAG_FAIL(kind, ...) throw ::sagbench::Error(::sagbench::ErrorKind::kind, ::fmt::format(__VA_ARGS__))

// User-facing precondition: SAG_REQUIRE(cond, kind, "format {}", args...).
#define SAG_REQUIRE(cond, kind, ...) \
  do {                               \
    if (!(cond)) {                   \
      SAG_FAIL(kind, __VA_ARGS__);   \
    }                                \
  } while (0)

// Internal invariant: aborts with file:line and rank when false.
#define SAG_CHECK(cond, ...)                                                                  \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      ::sagbench::invariant_failed(__FILE__, __LINE__, #cond, ::fmt::format("" __VA_ARGS__)); \
    }                                                                                         \
  } while (0)
