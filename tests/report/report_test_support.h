// Synthetic run directories for the report tests: metrics.json files in the
// layout `sagbench run` writes (<output_dir>/<experiment>/<configuration>/).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/atomic_write.h"
#include "support/fixtures.h"

namespace sagbench::report::testing {

namespace fs = std::filesystem;
using nlohmann::json;

inline void write_metrics(const fs::path& dir, const json& metrics) {
  fs::create_directories(dir);
  write_file_atomic((dir / "metrics.json").string(), metrics.dump(2));
}

// A metrics.json of `sagbench run`; `sweep_value` set makes it a row of the
// sweep "sag_s{}" over guidance.sag.s.
inline json run_metrics(const std::string& experiment, const std::string& configuration, json metrics,
                        const std::optional<std::string>& sweep_value = std::nullopt) {
  json j = {{"experiment", experiment},
            {"configuration", configuration},
            {"metrics", std::move(metrics)},
            {"sample_count", 1000},
            {"reference_count", 10000},
            {"samples", {{"file", "samples_1000x32x32x3.npz"}, {"sha256", "ab12"}, {"count", 1000}}},
            {"evaluator", {{"extractor", "fid-inception"}, {"preprocessing", "adm"}, {"weights", "w.pth"}}},
            {"overrides", json::array()},
            {"world_size", 1},
            {"provenance", {{"git", "0123abc"}}}};
  if (sweep_value) {
    j["sweep"] = {{"name", "sag_s{}"}, {"key", "guidance.sag.s"}, {"value", *sweep_value}};
    j["overrides"] = {"guidance.sag.s=" + *sweep_value};
  }
  return j;
}

// <root>/quickstart/ with two listed configurations and a four-point sweep
// written in an order that is neither alphabetical nor numeric; the best FID
// is sag_s0.5 (18.25), whose published values are FID 20.31 and precision 0.66.
inline fs::path make_quickstart(const fs::path& root) {
  const fs::path exp = root / "quickstart";
  json base = run_metrics("quickstart", "base",
                          {{"fid", 30.0},
                           {"sfid", 9.5},
                           {"inception_score", 7.1234},
                           {"inception_score_std", 0.25},
                           {"precision", 0.6},
                           {"recall", 0.58}});
  base["published"] = {{"metrics", {{"fid", 31.5}}}, {"source", "SAG README, Table 1"}};
  write_metrics(exp / "base", base);
  write_metrics(exp / "cfg_a", run_metrics("quickstart", "cfg_a", {{"fid", 25.0}, {"precision", 0.61}}));
  write_metrics(exp / "sag_s10", run_metrics("quickstart", "sag_s10",
                                             {{"fid", 40.0}, {"precision", 0.7}, {"recall", 0.4}}, "10"));
  write_metrics(exp / "sag_s1", run_metrics("quickstart", "sag_s1",
                                            {{"fid", 20.5}, {"precision", 0.66}, {"recall", 0.55}}, "1"));
  json best =
      run_metrics("quickstart", "sag_s0.5", {{"fid", 18.25}, {"precision", 0.65}, {"recall", 0.57}}, "0.5");
  best["published"] = {{"metrics", {{"fid", 20.31}, {"precision", 0.66}}}, {"source", "SAG README, Table 1"}};
  write_metrics(exp / "sag_s0.5", best);
  write_metrics(exp / "sag_s2", run_metrics("quickstart", "sag_s2",
                                            {{"fid", 22.0}, {"precision", 0.68}, {"recall", 0.5}}, "2"));
  return exp;
}

}  // namespace sagbench::report::testing
