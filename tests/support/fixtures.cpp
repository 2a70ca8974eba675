// Fixture lookup for the test suites (see fixtures.h).
#include "support/fixtures.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

namespace sagbench::testing {
namespace fs = std::filesystem;
namespace {

std::string from_env(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

}  // namespace

std::string fixture_path(const std::string& name) {
  fs::path path = fs::path(from_env("SAGBENCH_FIXTURES_DIR", SAGBENCH_FIXTURES_DIR_DEFAULT)) / name;
  EXPECT_TRUE(fs::exists(path)) << "missing fixture " << path;
  return path.string();
}

std::string build_fixture_path(const std::string& name) {
  fs::path path =
      fs::path(from_env("SAGBENCH_BUILD_FIXTURES_DIR", SAGBENCH_BUILD_FIXTURES_DIR_DEFAULT)) / name;
  EXPECT_TRUE(fs::exists(path)) << "missing unpacked fixture " << path;
  return path.string();
}

std::string make_temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  fs::path dir = fs::temp_directory_path() /
                 ("sagbench_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace sagbench::testing
