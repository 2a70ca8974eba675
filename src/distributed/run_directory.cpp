// Run directories of experiment configurations (see run_directory.h).
#include "distributed/run_directory.h"

#include <filesystem>

#include "core/atomic_write.h"
#include "core/error.h"

namespace sagbench::distributed {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kMaxRecords = 100000;  // a bound on the numbered-name search, far above any real use

// Writes `text` as <dir>/<stem>-N<suffix> with the first free N.
void write_numbered(const fs::path& dir, const std::string& stem, const std::string& suffix,
                    const std::string& text) {
  for (int n = 1; n < kMaxRecords; ++n) {
    const fs::path path = dir / (stem + "-" + std::to_string(n) + suffix);
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      write_file_atomic(path.string(), text, Replace::kNever);
      return;
    }
  }
  SAG_FAIL(kIo, "too many {}-N{} records in '{}'", stem, suffix, dir.string());
}

}  // namespace

RunDirectory prepare_run_directory(const std::string& path, const std::string& config_yaml,
                                   const ShardManifest& manifest, json provenance) {
  RunDirectory run;
  run.path = path;
  run.shard_dir = (fs::path(path) / "shards").string();
  std::error_code ec;
  fs::create_directories(path, ec);
  SAG_REQUIRE(fs::is_directory(path, ec), kIo, "cannot create run directory '{}': {}", path,
              ec ? ec.message() : "not a directory");
  // The manifest check comes first: a foreign directory is refused before anything is written.
  ShardStore::create_or_open(run.shard_dir, manifest);
  provenance["config_yaml"] = config_yaml;
  const fs::path config_path = fs::path(path) / "config.yaml";
  run.resumed = fs::exists(config_path, ec);
  if (run.resumed) {
    write_numbered(path, "provenance.resume", ".json", provenance.dump(2) + "\n");
  } else {
    write_file_atomic(config_path.string(), config_yaml, Replace::kNever);
    write_file_atomic((fs::path(path) / "provenance.json").string(), provenance.dump(2) + "\n",
                      Replace::kNever);
  }
  return run;
}

json finished_metrics(const std::string& run_dir, const std::string& config_hash,
                      const std::string& evaluation_key) {
  const fs::path path = fs::path(run_dir) / "metrics.json";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return nullptr;
  }
  try {
    json metrics = json::parse(read_file(path.string()));
    if (metrics.at("config_hash").get<std::string>() == config_hash &&
        metrics.at("evaluation_key").get<std::string>() == evaluation_key) {
      return metrics;
    }
  } catch (const std::exception&) {
    // An unreadable record is not a finished evaluation: it is redone (and kept, see write_metrics).
  }
  return nullptr;
}

void write_metrics(const std::string& run_dir, const json& metrics) {
  const fs::path path = fs::path(run_dir) / "metrics.json";
  std::error_code ec;
  if (fs::exists(path, ec)) {
    write_numbered(run_dir, "metrics.replaced", ".json", read_file(path.string()));
  }
  write_file_atomic(path.string(), metrics.dump(2) + "\n");
}

}  // namespace sagbench::distributed
