// The rank-0 heartbeat file (see heartbeat.h). A beat is a plain overwrite of
// a few bytes; a torn read only looks like one more change, which is progress.
#include "distributed/heartbeat.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sagbench::distributed {

Heartbeat::Heartbeat(std::string path, bool beating, double interval_s)
    : path_(std::move(path)), interval_s_(interval_s) {
  if (!beating) {
    return;
  }
  beat(0);
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    for (long count = 1;; ++count) {
      if (stop_signal_.wait_for(lock, std::chrono::duration<double>(interval_s_),
                                [this] { return stopping_; })) {
        return;
      }
      beat(count);
    }
  });
}

Heartbeat::~Heartbeat() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    stop_signal_.notify_all();
    thread_.join();
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
}

void Heartbeat::beat(long count) const {
  std::ofstream(path_, std::ios::trunc) << count << '\n';
}

std::string Heartbeat::probe() const {
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace sagbench::distributed
