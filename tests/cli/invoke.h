// Runs the sagbench application in-process, as `sagbench ARGS...` would,
// capturing what it prints. Shared by the CLI test suites.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/app.h"

namespace sagbench::cli::testing {

struct AppRun {
  int exit_code = 0;
  std::string out;
  std::string err;
};

inline AppRun invoke(std::vector<std::string> args) {
  args.insert(args.begin(), "sagbench");
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  AppRun result;
  result.exit_code = run_app(static_cast<int>(argv.size()), argv.data());
  result.out = ::testing::internal::GetCapturedStdout();
  result.err = ::testing::internal::GetCapturedStderr();
  return result;
}

}  // namespace sagbench::cli::testing
