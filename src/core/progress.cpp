// TTY-aware progress line (see progress.h).
#include "core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/log.h"

namespace sagbench {
namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void write_stderr(const std::string& text) {
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

std::string format_rate(double per_s) {
  if (per_s >= 100) {
    return fmt::format("{:.0f}", per_s);
  }
  if (per_s >= 10) {
    return fmt::format("{:.1f}", per_s);
  }
  return fmt::format("{:.2f}", per_s);
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) {
    return "?";
  }
  if (seconds < 1) {
    return fmt::format("{}ms", static_cast<int64_t>(seconds * 1000));
  }
  const int64_t whole = static_cast<int64_t>(seconds);
  if (whole < 60) {
    return fmt::format("{}s", whole);
  }
  if (whole < 3600) {
    return fmt::format("{}m{:02}s", whole / 60, whole % 60);
  }
  return fmt::format("{}h{:02}m", whole / 3600, (whole % 3600) / 60);
}

Progress::Progress(std::string label, int64_t total, ProgressOptions options)
    : label_(std::move(label)), total_(total), options_(std::move(options)) {
  SAG_CHECK(total_ >= 0, "progress total {} is negative", total_);
  if (!options_.clock_s) {
    options_.clock_s = steady_seconds;
  }
  if (!options_.writer) {
    options_.writer = write_stderr;
    writes_stderr_ = true;
  }
  tty_ = options_.tty.value_or(::isatty(STDERR_FILENO) == 1);
  enabled_ = options_.enabled.value_or(process_rank() == 0 && logging::enabled(logging::Level::kInfo));
  start_s_ = options_.clock_s();
  last_print_s_ = start_s_;
}

Progress::~Progress() {
  finish();
}

void Progress::advance(int64_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  count_ += count;
  if (!enabled_ || finished_) {
    return;
  }
  const double now_s = options_.clock_s();
  const double interval_s = tty_ ? options_.tty_interval_s : options_.plain_interval_s;
  if (now_s - last_print_s_ >= interval_s) {
    last_print_s_ = now_s;
    emit_locked(line_locked(now_s));
  }
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) {
    return;
  }
  finished_ = true;
  if (!enabled_) {
    return;
  }
  const std::string text = line_locked(options_.clock_s());
  if (tty_) {
    options_.writer("\r" + text + "\x1b[K\n");
    if (writes_stderr_) {
      logging::set_status_line_open(false);
    }
  } else {
    options_.writer(text + "\n");
  }
}

int64_t Progress::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return count_;
}

std::string Progress::line() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return line_locked(options_.clock_s());
}

std::string Progress::line_locked(double now_s) const {
  const double elapsed_s = now_s - start_s_;
  std::string text = label_ + " ";
  if (total_ > 0) {
    text += fmt::format("{}/{} ({:.1f}%)", count_, total_, 100.0 * static_cast<double>(count_) / total_);
  } else {
    text += fmt::format("{} {}", count_, options_.unit);
  }
  if (elapsed_s <= 0 || count_ == 0) {
    return text + fmt::format(", elapsed {}", format_duration(std::max(elapsed_s, 0.0)));
  }
  const double rate = static_cast<double>(count_) / elapsed_s;
  text += fmt::format(" {} {}/s, elapsed {}", format_rate(rate), options_.unit, format_duration(elapsed_s));
  if (total_ > 0 && count_ < total_) {
    text += ", ETA " + format_duration(static_cast<double>(total_ - count_) / rate);
  }
  return text;
}

void Progress::emit_locked(const std::string& text) {
  if (tty_) {
    options_.writer("\r" + text + "\x1b[K");
    if (writes_stderr_) {
      logging::set_status_line_open(true);
    }
  } else {
    options_.writer(text + "\n");
  }
}

}  // namespace sagbench
