// A liveness signal through the shared run directory for phases where one
// rank works alone (rank 0 merging shards, resolving the reference, computing
// metrics) while the others wait in a collective: the working rank's helper
// thread rewrites a small file every interval_s, and the waiting ranks use
// probe() as the progress of their WaitPolicy. A long merge or metric
// computation therefore never times out, while a dead rank 0 still does.
// Tested by tests/distributed/heartbeat_test.cpp.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace sagbench::distributed {

class Heartbeat {
 public:
  // Beats into `path` when `beating` (the working rank); otherwise only probes.
  Heartbeat(std::string path, bool beating, double interval_s = 2.0);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  // The file's current contents ("" while absent): changes at every beat.
  std::string probe() const;

 private:
  void beat(long count) const;

  std::string path_;
  double interval_s_;
  std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sagbench::distributed
