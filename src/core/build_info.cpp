// Build identity (see build_info.h); the only file that includes the generated
// header, so a new commit recompiles this file alone.
#include "core/build_info.h"

#include "sagbench_git_info.h"

namespace sagbench {

std::string version() {
  return SAGBENCH_VERSION;
}

std::string git_sha() {
  return SAGBENCH_GIT_SHA;
}

std::optional<bool> git_dirty() {
  const int dirty = SAGBENCH_GIT_DIRTY;
  if (dirty < 0) {
    return std::nullopt;
  }
  return dirty == 1;
}

std::string version_line() {
  const std::string sha = git_sha();
  std::string line = version() + " (git " + (sha.size() > 12 ? sha.substr(0, 12) : sha);
  const std::optional<bool> dirty = git_dirty();
  if (dirty.has_value() && *dirty) {
    line += ", dirty";
  }
  return line + ")";
}

}  // namespace sagbench
