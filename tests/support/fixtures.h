// Locating the upstream fixtures (../shared/fixtures) and the build-tree copy of
// unpacked archives. The paths come from the environment that ctest sets, with
// the compile-time defaults as fallback, so test binaries also run by hand.
#pragma once

#include <string>

namespace sagbench::testing {

// Path of a file in ../shared/fixtures; fails the test when absent.
std::string fixture_path(const std::string& name);
// Path of a file unpacked at configure time into build/fixtures.
std::string build_fixture_path(const std::string& name);
// A fresh empty directory under the system temp dir, unique per call.
std::string make_temp_dir(const std::string& tag);

}  // namespace sagbench::testing
