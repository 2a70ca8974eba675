// A progress line for long work: "label 1200/50000 (2.4%) 37.5 img/s, elapsed
// 32s, ETA 21m41s". On a TTY it is redrawn in place (carriage return, at most
// every tty_interval_s); otherwise one plain line is written every
// plain_interval_s, so log files stay readable. Only rank 0 prints.
// The rate is the mean since start (count / elapsed), ETA = remaining / rate.
// Tested by tests/core/progress_test.cpp with an injected clock and writer.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace sagbench {

struct ProgressOptions {
  std::string unit = "it";                         // what is counted: "img", "batch", ...
  double plain_interval_s = 30.0;                  // non-TTY: a line at most this often
  double tty_interval_s = 0.2;                     // TTY: redraw at most this often
  std::optional<bool> tty;                         // default: whether stderr is a terminal
  std::optional<bool> enabled;                     // default: rank 0 and log level info or lower
  std::function<double()> clock_s;                 // default: steady clock, seconds
  std::function<void(const std::string&)> writer;  // default: stderr
};

class Progress {
 public:
  // `total` 0 means unknown (no percentage, no ETA).
  Progress(std::string label, int64_t total, ProgressOptions options = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Adds `count` finished items (thread-safe) and prints when due.
  void advance(int64_t count = 1);
  // Prints the final line (once; the destructor calls it too).
  void finish();

  int64_t count() const;
  // The current line, without control characters.
  std::string line() const;

 private:
  std::string line_locked(double now_s) const;
  void emit_locked(const std::string& text);

  std::string label_;
  int64_t total_;
  ProgressOptions options_;
  bool tty_ = false;
  bool enabled_ = false;
  bool writes_stderr_ = false;
  mutable std::mutex mutex_;
  int64_t count_ = 0;
  double start_s_ = 0;
  double last_print_s_ = 0;
  bool finished_ = false;
};

// "850ms", "42s", "3m07s", "2h05m".
std::string format_duration(double seconds);

}  // namespace sagbench
