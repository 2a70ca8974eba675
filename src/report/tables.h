// The tables of `sagbench report`: Markdown in the SAG paper's layout (one
// table per experiment, columns FID, sFID, IS, Prec, Rec with the published
// value beside each measured one), and the same rows flat as CSV and as JSON.
// Fixed number formats and no timestamps: equal inputs give equal bytes.
// Tested by tests/report/tables_test.cpp.
#pragma once

#include <string>
#include <vector>

#include "report/run_table.h"
#include "report/sweeps.h"

namespace sagbench::report {

// "# sagbench report", then per experiment (in order of first row) a table
// with a line naming the evaluator, sample and reference counts, the source
// of the published values, and each sweep's best point and plot file.
std::string markdown_report(const RunTable& table, const std::vector<Sweep>& sweeps);

// One line per row: experiment, configuration, sweep, every metric, every
// published metric, counts, evaluator, run_dir (RFC 4180 quoting).
std::string csv_report(const RunTable& table);

// {"rows": [...], "sweeps": [...], "skipped": [...]} with the same fields.
std::string json_report(const RunTable& table, const std::vector<Sweep>& sweeps);

}  // namespace sagbench::report
