// `sagbench report`: from the rows of run directories (run_table.h) to
// report.md, report.csv, report.json and one sweep_<experiment>_<sweep>.svg per
// sweep, built in memory (build_report is pure, so equal inputs give
// byte-identical files) and then written atomically. Tested by
// tests/report/report_test.cpp; docs/report.md describes the outputs.
#pragma once

#include <string>
#include <vector>

#include "report/run_table.h"

namespace sagbench::report {

struct ReportFile {
  std::string name;  // file name inside the output directory
  std::string bytes;
};

struct Report {
  std::string markdown;           // report.md, also printed by the command
  std::vector<ReportFile> files;  // report.md, report.csv, report.json, then the plots
};

Report build_report(const RunTable& table);

// <experiment directory of the first row>/report, e.g. runs/quickstart/report.
std::string default_out_dir(const RunTable& table);

// Creates `out_dir` and writes every file atomically (replacing older ones of
// the same name); returns their paths. kIo error naming the path on failure.
std::vector<std::string> write_report(const Report& report, const std::string& out_dir);

}  // namespace sagbench::report
