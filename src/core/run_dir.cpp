// Run directories (see run_dir.h): mkdir is the atomic claim of a new name, so
// two processes racing for <name> end up in different directories.
#include "core/run_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/atomic_write.h"
#include "core/error.h"
#include "core/log.h"
#include "core/provenance.h"

namespace sagbench {
namespace {
namespace fs = std::filesystem;

constexpr int kMaxSuffix = 100000;  // a bound on the search, far above any real use

std::string candidate_name(const std::string& name, int suffix) {
  return suffix == 1 ? name : name + "-" + std::to_string(suffix);
}

bool holds_config(const fs::path& dir, const std::string& config_yaml) {
  std::error_code ec;
  const fs::path config = dir / "config.yaml";
  return fs::is_regular_file(config, ec) && read_file(config.string()) == config_yaml;
}

std::string provenance_text(const RunDirRequest& request) {
  const nlohmann::json record = request.provenance.has_value() ? *request.provenance : collect_provenance();
  return record.dump(2) + "\n";
}

void write_new_run(const fs::path& dir, const RunDirRequest& request) {
  write_file_atomic((dir / "config.yaml").string(), request.config_yaml, Replace::kNever);
  std::string overrides;
  for (const std::string& item : request.overrides) {
    overrides += item + "\n";
  }
  write_file_atomic((dir / "overrides.txt").string(), overrides, Replace::kNever);
  write_file_atomic((dir / "provenance.json").string(), provenance_text(request), Replace::kNever);
}

void write_resume_record(const fs::path& dir, const RunDirRequest& request) {
  const std::string text = provenance_text(request);
  for (int n = 1; n < kMaxSuffix; ++n) {
    const fs::path path = dir / ("provenance.resume-" + std::to_string(n) + ".json");
    std::error_code ec;
    if (fs::exists(path, ec)) {
      continue;
    }
    try {
      write_file_atomic(path.string(), text, Replace::kNever);
      return;
    } catch (const Error&) {
      if (!fs::exists(path, ec)) {
        throw;  // a real write failure, not a concurrent resume that took the name
      }
    }
  }
  SAG_FAIL(kIo, "too many resume records in '{}'", dir.string());
}

}  // namespace

RunDir open_run_dir(const RunDirRequest& request) {
  const std::string& name = request.name;
  SAG_REQUIRE(!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..", kConfig,
              "run name '{}' must be one non-empty path component (no '/')", name);
  std::error_code ec;
  fs::create_directories(request.parent, ec);
  SAG_REQUIRE(fs::is_directory(request.parent), kIo, "cannot create run folder '{}': {}", request.parent,
              ec ? ec.message() : "not a directory");
  for (int suffix = 1; suffix < kMaxSuffix; ++suffix) {
    const fs::path dir = fs::path(request.parent) / candidate_name(name, suffix);
    if (::mkdir(dir.c_str(), 0755) == 0) {
      write_new_run(dir, request);
      SAG_LOG_INFO("run directory {}", dir.string());
      return {dir.string(), false};
    }
    SAG_REQUIRE(errno == EEXIST, kIo, "cannot create run directory '{}': {}", dir.string(),
                std::strerror(errno));
    if (request.allow_resume && holds_config(dir, request.config_yaml)) {
      write_resume_record(dir, request);
      SAG_LOG_INFO("resuming run directory {} (same config)", dir.string());
      return {dir.string(), true};
    }
  }
  SAG_FAIL(kIo, "no free run directory name for '{}' in '{}'", name, request.parent);
}

}  // namespace sagbench
