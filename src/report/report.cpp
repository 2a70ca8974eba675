// Assembling and writing the files of `sagbench report` (report.h).
#include "report/report.h"

#include <filesystem>
#include <optional>
#include <system_error>

#include "core/atomic_write.h"
#include "core/error.h"
#include "report/svg_plot.h"
#include "report/sweeps.h"
#include "report/tables.h"

namespace sagbench::report {

namespace fs = std::filesystem;

Report build_report(const RunTable& table) {
  const std::vector<Sweep> sweeps = find_sweeps(table.rows);
  Report report;
  report.markdown = markdown_report(table, sweeps);
  report.files.push_back({"report.md", report.markdown});
  report.files.push_back({"report.csv", csv_report(table)});
  report.files.push_back({"report.json", json_report(table, sweeps)});
  for (const Sweep& sweep : sweeps) {
    if (const std::optional<LinePlot> plot = sweep_plot(sweep, table.rows)) {
      report.files.push_back({sweep.plot_file, render_svg(*plot)});
    }
  }
  return report;
}

std::string default_out_dir(const RunTable& table) {
  SAG_CHECK(!table.rows.empty(), "a report needs a row");
  const fs::path run_dir(table.rows.front().run_dir);
  return (run_dir.has_parent_path() ? run_dir.parent_path() / "report" : fs::path("report")).string();
}

std::vector<std::string> write_report(const Report& report, const std::string& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  SAG_REQUIRE(!ec, kIo, "{}: cannot create the report directory: {}", out_dir, ec.message());
  std::vector<std::string> paths;
  for (const ReportFile& file : report.files) {
    const std::string path = (fs::path(out_dir) / file.name).string();
    write_file_atomic(path, file.bytes);
    paths.push_back(path);
  }
  return paths;
}

}  // namespace sagbench::report
