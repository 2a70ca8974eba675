// Loading the rows of `sagbench report` from metrics.json files (run_table.h).
// Every user mistake is a sagbench::Error naming the directory or file.
#include "report/run_table.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

#include "core/atomic_write.h"
#include "core/error.h"

namespace sagbench::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kMetricsFile = "metrics.json";

// "runs/exp/cfg/" and "runs/exp/cfg" name the same directory.
fs::path normalized(const std::string& dir) {
  fs::path path = fs::path(dir).lexically_normal();
  if (path.filename().empty() && path.has_parent_path()) {
    path = path.parent_path();
  }
  return path;
}

bool exists_in(const fs::path& dir, const char* name) {
  std::error_code ec;
  return fs::exists(dir / name, ec);
}

bool has_metrics(const fs::path& dir) {
  return fs::is_regular_file(dir / kMetricsFile);
}

// A configuration run directory that `sagbench run` started but did not evaluate.
bool looks_like_run_dir(const fs::path& dir) {
  return exists_in(dir, "config.yaml") || exists_in(dir, "provenance.json") || exists_in(dir, "shards");
}

std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::string string_field(const json& object, const char* key, const std::string& file) {
  if (!object.contains(key) || object[key].is_null()) {
    return "";
  }
  const json& value = object[key];
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_number()) {  // a sweep value written as a YAML number
    return value.dump();
  }
  SAG_FAIL(kFormat, "{}: \"{}\" must be a string, not {}", file, key, value.type_name());
}

std::optional<double> number_field(const json& object, const char* key, const std::string& file,
                                   const char* where) {
  if (!object.contains(key) || object[key].is_null()) {  // NaN is written as null
    return std::nullopt;
  }
  const json& value = object[key];
  SAG_REQUIRE(value.is_number(), kFormat, "{}: \"{}{}\" must be a number, not {}", file, where, key,
              value.type_name());
  return value.get<double>();
}

std::optional<std::int64_t> count_field(const json& object, const char* key, const std::string& file,
                                        const char* where) {
  if (!object.contains(key) || object[key].is_null()) {
    return std::nullopt;
  }
  const json& value = object[key];
  SAG_REQUIRE(value.is_number_integer(), kFormat, "{}: \"{}{}\" must be an integer, not {}", file, where, key,
              value.type_name());
  return value.get<std::int64_t>();
}

const json& object_field(const json& object, const char* key, const std::string& file) {
  static const json kEmpty = json::object();
  if (!object.contains(key) || object[key].is_null()) {
    return kEmpty;
  }
  SAG_REQUIRE(object[key].is_object(), kFormat, "{}: \"{}\" must be an object, not {}", file, key,
              object[key].type_name());
  return object[key];
}

MetricValues metric_values(const json& object, const std::string& file, const char* where) {
  MetricValues values;
  for (const MetricInfo& info : metric_infos()) {
    values[info.metric] = number_field(object, info.key, file, where);
  }
  return values;
}

void add_run_dir(const fs::path& dir, const LoadOptions& options, RunTable& table) {
  if (has_metrics(dir)) {
    table.rows.push_back(load_run(dir.string()));
  } else if (options.skip_unevaluated) {
    table.skipped.push_back(dir.string());
  } else {
    SAG_FAIL(kIo,
             "{}: no {} (the configuration has not been evaluated yet: finish it with `sagbench run`, "
             "or pass --skip-unevaluated)",
             dir.string(), kMetricsFile);
  }
}

void add_experiment_dir(const fs::path& dir, const LoadOptions& options, RunTable& table) {
  std::vector<fs::path> run_dirs;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && (has_metrics(entry.path()) || looks_like_run_dir(entry.path()))) {
      run_dirs.push_back(entry.path());
    }
  }
  SAG_REQUIRE(!run_dirs.empty(), kIo,
              "{}: no {} and no configuration subdirectories: neither a configuration run directory nor an "
              "experiment directory",
              dir.string(), kMetricsFile);
  std::sort(run_dirs.begin(), run_dirs.end());  // directory order is the file system's
  RunTable experiment;
  for (const fs::path& run_dir : run_dirs) {
    add_run_dir(run_dir, options, experiment);
  }
  sort_experiment_rows(experiment.rows);
  table.rows.insert(table.rows.end(), experiment.rows.begin(), experiment.rows.end());
  table.skipped.insert(table.skipped.end(), experiment.skipped.begin(), experiment.skipped.end());
}

}  // namespace

const std::array<MetricInfo, kMetricCount>& metric_infos() {
  static const std::array<MetricInfo, kMetricCount> infos = {{
      {Metric::kFid, "fid", "FID", 2},
      {Metric::kSfid, "sfid", "sFID", 2},
      {Metric::kInceptionScore, "inception_score", "IS", 2},
      {Metric::kPrecision, "precision", "Prec", 2},
      {Metric::kRecall, "recall", "Rec", 2},
  }};
  return infos;
}

const MetricInfo& metric_info(Metric metric) {
  return metric_infos()[static_cast<std::size_t>(metric)];
}

bool MetricValues::empty() const {
  return std::none_of(values.begin(), values.end(),
                      [](const std::optional<double>& v) { return v.has_value(); });
}

RunRow load_run(const std::string& run_dir) {
  const fs::path dir = normalized(run_dir);
  const fs::path path = dir / kMetricsFile;
  SAG_REQUIRE(fs::is_regular_file(path), kIo, "{}: no {} (the configuration has not been evaluated yet)",
              dir.string(), kMetricsFile);
  const std::string file = path.string();
  json j;
  try {
    j = json::parse(read_file(file));
  } catch (const json::exception& e) {
    SAG_FAIL(kFormat, "{}: not valid JSON: {}", file, e.what());
  }
  SAG_REQUIRE(j.is_object(), kFormat, "{}: must hold a JSON object, not {}", file, j.type_name());
  SAG_REQUIRE(j.contains("metrics"), kFormat, "{}: has no \"metrics\" object", file);

  RunRow row;
  row.run_dir = dir.string();
  row.experiment = string_field(j, "experiment", file);
  if (row.experiment.empty()) {  // written by `sagbench eval`, not by `sagbench run`
    row.experiment = dir.has_parent_path() ? dir.parent_path().filename().string() : "";
  }
  row.configuration = string_field(j, "configuration", file);
  if (row.configuration.empty()) {
    row.configuration = dir.filename().string();
  }
  const json& metrics = object_field(j, "metrics", file);
  row.metrics = metric_values(metrics, file, "metrics.");
  row.inception_score_std = number_field(metrics, "inception_score_std", file, "metrics.");

  const json& sweep = object_field(j, "sweep", file);
  row.sweep_name = string_field(sweep, "name", file);
  row.sweep_key = string_field(sweep, "key", file);
  row.sweep_value = string_field(sweep, "value", file);
  row.sweep_number = parse_number(row.sweep_value);

  const json& published = object_field(j, "published", file);
  row.published = metric_values(object_field(published, "metrics", file), file, "published.metrics.");
  row.published_source = string_field(published, "source", file);

  row.sample_count = count_field(j, "sample_count", file, "");
  if (!row.sample_count) {
    row.sample_count = count_field(object_field(j, "samples", file), "count", file, "samples.");
  }
  row.reference_count = count_field(j, "reference_count", file, "");
  const json& evaluator = object_field(j, "evaluator", file);
  row.extractor = string_field(evaluator, "extractor", file);
  row.preprocessing = string_field(evaluator, "preprocessing", file);
  return row;
}

void sort_experiment_rows(std::vector<RunRow>& rows) {
  // Listed configurations first (by name), then sweeps (by name), each by
  // numeric value; values that are not numbers follow, by text.
  auto key = [](const RunRow& r) {
    return std::make_tuple(r.is_sweep(), r.sweep_name, !r.sweep_number.has_value(),
                           r.sweep_number.value_or(0.0), r.sweep_value, r.configuration);
  };
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const RunRow& a, const RunRow& b) { return key(a) < key(b); });
}

RunTable load_run_table(const std::vector<std::string>& dirs, const LoadOptions& options) {
  SAG_REQUIRE(!dirs.empty(), kConfig, "no run directories given");
  RunTable table;
  for (const std::string& arg : dirs) {
    const fs::path dir = normalized(arg);
    SAG_REQUIRE(fs::is_directory(dir), kIo, "{}: not a directory", arg);
    if (has_metrics(dir) || looks_like_run_dir(dir)) {
      add_run_dir(dir, options, table);
    } else {
      add_experiment_dir(dir, options, table);
    }
  }
  // One row per directory and per (experiment, configuration): the sweep
  // plots and tables would otherwise show a configuration twice.
  std::map<std::string, std::string> seen_dirs;
  std::map<std::pair<std::string, std::string>, std::string> seen_names;
  for (const RunRow& row : table.rows) {
    std::error_code ec;
    const std::string canonical = fs::weakly_canonical(row.run_dir, ec).string();
    const auto [dir_it, new_dir] = seen_dirs.emplace(ec ? row.run_dir : canonical, row.run_dir);
    SAG_REQUIRE(new_dir, kConfig, "{}: listed twice (also as {})", row.run_dir, dir_it->second);
    const auto [name_it, new_name] =
        seen_names.emplace(std::pair{row.experiment, row.configuration}, row.run_dir);
    SAG_REQUIRE(new_name, kConfig, "experiment '{}' configuration '{}' appears twice: {} and {}",
                row.experiment, row.configuration, name_it->second, row.run_dir);
  }
  SAG_REQUIRE(!table.rows.empty(), kConfig, "no evaluated configuration in {}", fmt::join(dirs, ", "));
  return table;
}

}  // namespace sagbench::report
