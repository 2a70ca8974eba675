// The rows of `sagbench report`: one per evaluated configuration, read from the
// metrics.json that `sagbench run` (or `sagbench eval`) writes into a
// configuration's run directory. Arguments are configuration directories (hold
// metrics.json) or experiment directories (<output_dir>/<experiment>/, whose
// subdirectories are configurations). Tested by tests/report/run_table_test.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sagbench::report {

// The metrics of the SAG paper's tables, in its column order.
enum class Metric { kFid, kSfid, kInceptionScore, kPrecision, kRecall };
inline constexpr std::size_t kMetricCount = 5;

struct MetricInfo {
  Metric metric;
  const char* key;     // metrics.json key (ADM evaluator names)
  const char* header;  // table column header, as in the paper
  int decimals;        // digits after the point in report.md (the paper's precision)
};

// In the paper's column order: FID, sFID, IS, Prec, Rec.
const std::array<MetricInfo, kMetricCount>& metric_infos();
const MetricInfo& metric_info(Metric metric);

// One value per metric; absent ones are unset (metrics not asked, or null).
struct MetricValues {
  std::array<std::optional<double>, kMetricCount> values;

  const std::optional<double>& operator[](Metric m) const { return values[static_cast<std::size_t>(m)]; }
  std::optional<double>& operator[](Metric m) { return values[static_cast<std::size_t>(m)]; }
  bool empty() const;
};

struct RunRow {
  std::string experiment;              // metrics.json "experiment" (else the parent directory's name)
  std::string configuration;           // metrics.json "configuration" (else the directory's name)
  std::string run_dir;                 // as given on the command line, joined with the subdirectory
  std::string sweep_name;              // the sweep's name template ("sag_s{}"); empty unless swept
  std::string sweep_key;               // the swept key ("guidance.sag.s")
  std::string sweep_value;             // this row's value, as written in the experiment
  std::optional<double> sweep_number;  // sweep_value when it is a finite number
  MetricValues metrics;
  std::optional<double> inception_score_std;
  MetricValues published;  // numbers a paper reports for this configuration
  std::string published_source;
  std::optional<std::int64_t> sample_count;
  std::optional<std::int64_t> reference_count;
  std::string extractor;      // evaluator.extractor (fid-inception, fashion-feature-net, ...)
  std::string preprocessing;  // evaluator.preprocessing (adm, pytorch-fid)

  bool is_sweep() const { return !sweep_name.empty(); }
};

struct LoadOptions {
  // Configuration directories without metrics.json (not evaluated yet) are
  // skipped and listed instead of being an error.
  bool skip_unevaluated = false;
};

struct RunTable {
  std::vector<RunRow> rows;
  std::vector<std::string> skipped;  // unevaluated run directories (skip_unevaluated only)
};

// Reads one configuration directory's metrics.json. kIo error naming the
// directory when it has none; kFormat error naming the file when it is not
// valid JSON or a field has the wrong type.
RunRow load_run(const std::string& run_dir);

// All rows of `dirs`, in argument order; an experiment directory contributes
// its listed (non-sweep) configurations first, by name, then each sweep (by
// sweep name) ordered by numeric value (non-numeric values after, by text).
// Subdirectories that are not run directories (no metrics.json, config.yaml,
// provenance.json or shards/, e.g. report/) are ignored. kConfig error when a
// configuration appears twice or no row is found.
RunTable load_run_table(const std::vector<std::string>& dirs, const LoadOptions& options = {});

// The order of rows inside an experiment directory (see load_run_table).
void sort_experiment_rows(std::vector<RunRow>& rows);

}  // namespace sagbench::report
