// Leveled logging to stderr: one line per message, "HH:MM:SS level: text",
// prefixed with "[rank R] " when the world has more than one process, written
// whole under a mutex so that lines of threads and ranks never interleave.
// Use the macros, which format only when the level is enabled:
//   SAG_LOG_INFO("sampled {} images in {:.1f} s", n, elapsed_s);
// Tested by tests/core/log_test.cpp.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <string>

namespace sagbench::logging {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error" (kConfig error otherwise).
Level parse_level(const std::string& name);
const char* level_name(Level level);

void set_level(Level level);
Level level();
inline bool enabled(Level at) {
  return static_cast<int>(at) >= static_cast<int>(level());
}

// This process's place in the world; also sets sagbench::process_rank().
void set_rank(int rank, int world_size);
int rank();
int world_size();
// Reads the rank and size a launcher exports (Open MPI, PMIx, MPICH/PMI,
// Slurm), so that log prefixes and rank-0-only output work before MPI starts.
// Leaves rank 0 of 1 when none is set.
void set_rank_from_environment();

// The line as it is written (without the newline), for tests and sinks.
std::string format_line(Level level, const std::string& message);

// Writes one message (a newline is added). Messages below the level are dropped.
void write(Level level, const std::string& message);

// A progress line is drawn in place on stderr (no newline yet): the next log
// line first erases it, so the two never share a terminal line.
void set_status_line_open(bool open);

// Replaces stderr as the destination of whole lines (nullptr restores stderr).
using Sink = std::function<void(Level level, const std::string& line)>;
void set_sink(Sink sink);

}  // namespace sagbench::logging

#define SAG_LOG_AT(level, ...)                                       \
  do {                                                               \
    if (::sagbench::logging::enabled(level)) {                       \
      ::sagbench::logging::write(level, ::fmt::format(__VA_ARGS__)); \
    }                                                                \
  } while (0)
#define SAG_LOG_DEBUG(...) SAG_LOG_AT(::sagbench::logging::Level::kDebug, __VA_ARGS__)
#define SAG_LOG_INFO(...) SAG_LOG_AT(::sagbench::logging::Level::kInfo, __VA_ARGS__)
#define SAG_LOG_WARN(...) SAG_LOG_AT(::sagbench::logging::Level::kWarn, __VA_ARGS__)
#define SAG_LOG_ERROR(...) SAG_LOG_AT(::sagbench::logging::Level::kError, __VA_ARGS__)
