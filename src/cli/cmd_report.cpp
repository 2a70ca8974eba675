// `sagbench report RUN_DIR...`: tables and plots from the metrics.json of run
// directories (report/report.h): report.md (the paper's layout, published
// values beside the measured ones), report.csv, report.json and one SVG per
// sweep (FID and precision/recall against the swept value, best point
// marked). Prints the Markdown and the files written. Equal inputs give
// byte-identical files. Tested by tests/report/ (docs/report.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "report/report.h"
#include "report/run_table.h"

namespace sagbench::cli {
namespace {

struct ReportArgs {
  std::vector<std::string> run_dirs;
  std::string out;
  bool skip_unevaluated = false;
};

void run_report(const ReportArgs& args) {
  const report::RunTable table = report::load_run_table(args.run_dirs, {args.skip_unevaluated});
  const report::Report built = report::build_report(table);
  const std::string out_dir = args.out.empty() ? report::default_out_dir(table) : args.out;
  const std::vector<std::string> paths = report::write_report(built, out_dir);
  std::fputs(built.markdown.c_str(), stdout);
  std::printf("\n");
  for (const std::string& path : paths) {
    std::printf("wrote %s\n", path.c_str());
  }
}

}  // namespace

void register_report(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Tables and plots from run directories: report.md (one table per experiment in the paper's layout, "
      "published values beside the measured ones), report.csv, report.json, and "
      "sweep_<experiment>_<sweep>.svg "
      "(FID and precision/recall against the swept value, best point marked) for every sweep.\n"
      "Example: sagbench report runs/sag_scale_sweep              # writes runs/sag_scale_sweep/report/\n"
      "         sagbench report runs/a/base runs/b --out report     # rows in argument order");
  cmd->add_option("run_dirs", args->run_dirs,
                  "configuration run directories (hold metrics.json) or experiment directories "
                  "(<output_dir>/<experiment>, every configuration below; listed ones first, then sweeps by "
                  "value)")
      ->required();
  cmd->add_option("--out", args->out,
                  "output directory (default: <experiment directory of the first row>/report); files of the "
                  "same name are replaced");
  cmd->add_flag(
      "--skip-unevaluated", args->skip_unevaluated,
      "skip configuration directories without metrics.json (listed in the report) instead of failing");
  cmd->callback([args] { run_report(*args); });
}

}  // namespace sagbench::cli
