// The heartbeat file changes while its rank works and stops changing (and
// disappears) when it is done (distributed/heartbeat.h).
#include "distributed/heartbeat.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "support/fixtures.h"

namespace sagbench::distributed {
namespace {

TEST(Heartbeat, ChangesWhileBeatingAndIsRemovedAfterwards) {
  const std::string dir = sagbench::testing::make_temp_dir("heartbeat");
  const std::string path = dir + "/.heartbeat";
  const Heartbeat watcher(path, /*beating=*/false);
  EXPECT_EQ(watcher.probe(), "");
  {
    const Heartbeat worker(path, /*beating=*/true, /*interval_s=*/0.01);
    const std::string first = watcher.probe();
    EXPECT_NE(first, "");
    std::string later = first;
    for (int i = 0; i < 200 && later == first; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      later = watcher.probe();
    }
    EXPECT_NE(later, first);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(watcher.probe(), "");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sagbench::distributed
