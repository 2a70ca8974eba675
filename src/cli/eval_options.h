// The evaluator options shared by `sagbench eval`, `ref`, `fid` and
// `features`: an optional YAML file with an `evaluator:` section
// (configs/evaluators/*.yaml), `evaluator.key=value` overrides, and flags for
// the common keys, applied in that order over the code defaults (which are
// the ADM evaluator's). Tested through tests/cli/eval_commands_test.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evaluation/evaluator_config.h"

namespace CLI {
class App;
}

namespace sagbench::cli {

struct EvaluatorFlags {
  std::string config;                  // YAML file with an `evaluator:` section
  std::vector<std::string> overrides;  // evaluator.key=value
  std::string weights, mode, device, precision, distance_precision, cache_dir;
  std::int64_t batch_size = 0;  // 0: unset
};

// Adds --config, --weights, --mode, --device, --precision, --batch-size,
// --distance-precision (when `with_distances`) and --cache. Commands take the
// overrides as trailing positional `evaluator.key=value` arguments.
void add_evaluator_flags(CLI::App* cmd, EvaluatorFlags& flags, bool with_distances);

// The resolved config (kConfig errors name the file, key or flag).
eval::EvaluatorConfig resolve_evaluator_config(const EvaluatorFlags& flags);

// `path`, or when it exists path-2, path-3, ... before the extension: result
// files are never overwritten.
std::string unused_path(const std::string& path);

}  // namespace sagbench::cli
