// Run directories that never overwrite earlier results. open_run_dir() makes
// <parent>/<name>, or <name>-2, <name>-3, ... when taken, unless an existing
// one holds a byte-identical resolved config.yaml: that run is resumed (its
// finished shards are kept). A new directory gets config.yaml (the resolved
// config), overrides.txt and provenance.json; a resumed one gets
// provenance.resume-N.json. Every file is written atomically and never
// replaced. In a multi-process run, rank 0 opens it and shares the path.
// Tested by tests/core/run_dir_test.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sagbench {

struct RunDirRequest {
  std::string parent = "runs";               // folder that holds the runs
  std::string name;                          // run name: one path component
  std::string config_yaml;                   // the resolved config (config::to_yaml_string)
  std::vector<std::string> overrides;        // the `a.b=v` overrides as given
  bool allow_resume = true;                  // reuse a run of the identical config
  std::optional<nlohmann::json> provenance;  // default: collect_provenance()
};

struct RunDir {
  std::string path;
  bool resumed = false;
};

RunDir open_run_dir(const RunDirRequest& request);

}  // namespace sagbench
