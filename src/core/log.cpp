// Leveled, rank-prefixed logging (see log.h).
#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include "core/error.h"

namespace sagbench::logging {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_rank{0};
std::atomic<int> g_world_size{1};
std::mutex g_mutex;
Sink g_sink;                 // guarded by g_mutex
bool g_status_open = false;  // guarded by g_mutex

// The first environment variable of `names` that holds a non-negative integer.
bool env_int(std::initializer_list<const char*> names, int& out) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
      continue;
    }
    char* end = nullptr;
    const long parsed = std::strtol(value, &end, 10);
    if (*end == '\0' && parsed >= 0 && parsed < (1L << 30)) {
      out = static_cast<int>(parsed);
      return true;
    }
  }
  return false;
}

}  // namespace

Level parse_level(const std::string& name) {
  for (Level level : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == level_name(level)) {
      return level;
    }
  }
  SAG_FAIL(kConfig, "unknown log level '{}' (expected debug, info, warn or error)", name);
}

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "?";
}

void set_level(Level level) {
  g_level = static_cast<int>(level);
}

Level level() {
  return static_cast<Level>(g_level.load());
}

void set_rank(int rank, int world_size) {
  SAG_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "rank {} of world size {}", rank, world_size);
  g_rank = rank;
  g_world_size = world_size;
  set_process_rank(rank);
}

int rank() {
  return g_rank;
}

int world_size() {
  return g_world_size;
}

void set_rank_from_environment() {
  int rank_value = 0;
  int size_value = 1;
  const bool has_rank =
      env_int({"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}, rank_value);
  const bool has_size = env_int({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}, size_value);
  if (has_rank && has_size && size_value >= 1 && rank_value < size_value) {
    set_rank(rank_value, size_value);
  }
}

std::string format_line(Level level, const std::string& message) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char clock[16];
  std::strftime(clock, sizeof(clock), "%H:%M:%S", &local);
  const std::string prefix = g_world_size > 1 ? fmt::format("[rank {}] ", g_rank.load()) : std::string();
  return fmt::format("{}{} {}: {}", prefix, clock, level_name(level), message);
}

void write(Level level, const std::string& message) {
  if (!enabled(level)) {
    return;
  }
  const std::string line = format_line(level, message);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_sink) {
    g_sink(level, line);
    return;
  }
  std::fprintf(stderr, "%s%s\n", g_status_open ? "\r\x1b[K" : "", line.c_str());
  g_status_open = false;
  std::fflush(stderr);
}

void set_status_line_open(bool open) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_status_open = open;
}

void set_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = std::move(sink);
}

}  // namespace sagbench::logging
