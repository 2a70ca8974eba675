// What this binary was built from: the project version and the git commit and
// dirty state of the source tree at build time (cmake/SagbenchGitInfo.cmake
// regenerates them at every build). Used by provenance and `sagbench --version`.
// Tested by tests/core/provenance_test.cpp.
#pragma once

#include <optional>
#include <string>

namespace sagbench {

std::string version();
// 40 hex digits, or "unknown" when the tree was not a git checkout.
std::string git_sha();
// Whether tracked files differed from the commit; nullopt when unknown.
std::optional<bool> git_dirty();
// "0.1.0 (git 1a2b3c4d5e6f, dirty)".
std::string version_line();

}  // namespace sagbench
