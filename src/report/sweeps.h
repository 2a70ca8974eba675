// The sweeps of a report: rows of one experiment expanded from the same sweep
// (metrics.json "sweep"), ordered by the swept value, with the best point
// (lowest FID) and the plot of FID and precision/recall against the value.
// Tested by tests/report/sweeps_test.cpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/run_table.h"
#include "report/svg_plot.h"

namespace sagbench::report {

struct Sweep {
  std::string experiment;
  std::string name;                 // the name template, e.g. "sag_s{}"
  std::string key;                  // the swept key, e.g. "guidance.sag.s"
  std::vector<std::size_t> rows;    // indices into the table's rows, by swept value
  bool numeric = true;              // every value is a number (else the x axis is categorical)
  std::optional<std::size_t> best;  // index into the table's rows of the lowest FID (first on ties)
  std::string plot_file;            // "sweep_<experiment>_<name>.svg"; empty when there is nothing to plot
};

// Sweeps in order of their first row; rows of one sweep sorted by numeric
// value (values that are not numbers after, by text).
std::vector<Sweep> find_sweeps(const std::vector<RunRow>& rows);

// `text` reduced to a file name part: "{}" dropped, characters other than
// [A-Za-z0-9._-] replaced by '_', '_' trimmed at both ends ("sag_s{}" -> "sag_s").
std::string file_name_part(std::string_view text);

// FID against the value (best point marked) and, when any row has them,
// precision and recall; published values as open markers and dashed lines.
// Unset when no row of the sweep has FID, precision or recall.
std::optional<LinePlot> sweep_plot(const Sweep& sweep, const std::vector<RunRow>& rows);

}  // namespace sagbench::report
