// `sagbench eval SAMPLES --ref REF`: IS, FID, sFID, precision and recall of a
// sample batch against a reference batch with the ADM evaluator's semantics
// (evaluation/evaluator.h); either side may be an image, feature or
// statistics npz. Prints the numbers and writes metrics.json (values, counts,
// extractor and weights sha256, preprocessing, distance precision, the
// resolved evaluator config and provenance), never overwriting an earlier one.
// Tested by tests/cli/eval_commands_test.cpp.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/eval_options.h"
#include "config/config.h"
#include "core/atomic_write.h"
#include "core/provenance.h"
#include "evaluation/evaluator.h"

namespace sagbench::cli {
namespace {

struct EvalArgs {
  std::string samples;
  std::string reference;
  std::vector<std::string> metrics{"all"};
  std::string out;
  EvaluatorFlags flags;
};

void run_eval(const EvalArgs& args) {
  const eval::EvaluatorConfig config = resolve_evaluator_config(args.flags);
  const eval::MetricSelection metrics = eval::parse_metric_selection(args.metrics);
  const eval::EvaluationReport report = eval::evaluate(args.samples, args.reference, config, metrics);

  nlohmann::json j = eval::report_json(report, config);
  j["evaluator_config"] = config::to_yaml_string(config);
  j["provenance"] = collect_provenance();
  const std::string target =
      args.out.empty() ? (std::filesystem::path(args.samples).parent_path() / "metrics.json").string()
                       : args.out;
  const std::string path = unused_path(target);
  write_file_atomic(path, j.dump(2) + "\n", Replace::kNever);

  std::string out = fmt::format("samples   {} ({} images)\nreference {} ({})\n", args.samples,
                                report.samples.count, args.reference,
                                report.reference.count > 0 ? fmt::format("{} images", report.reference.count)
                                                           : std::string("statistics"));
  if (report.extractor) {
    out += fmt::format("features  {}\n", report.extractor->describe_extractor());
  }
  out += eval::format_report(report);
  if (report.precision_recall) {
    out += fmt::format("(precision/recall distances: {})\n",
                       eval::distance_precision_name(report.precision_recall->distance_precision));
  }
  out += fmt::format("wrote {}\n", path);
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void register_eval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval",
      "Inception Score, FID, sFID, precision and recall of samples against a reference batch "
      "(ADM evaluator semantics)");
  cmd->footer(
      "Inputs: an image npz (arr_0: N x H x W x 3 uint8), a feature npz (`sagbench features`/`ref`) or a "
      "statistics npz (mu, sigma, mu_s, sigma_s, as ADM's reference batches; used when present).\n"
      "Names: inception_score, fid, sfid, precision, recall (torch-fidelity: inception_score_mean, "
      "frechet_inception_distance, precision, recall).\n"
      "Example: sagbench eval runs/x/samples_50000x256x256x3.npz --ref VIRTUAL_imagenet256_labeled.npz "
      "--weights pt_inception-2015-12-05-6726825d.pth --device cuda");
  cmd->add_option("samples", args->samples, "sample npz (images, features or statistics)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--ref", args->reference, "reference npz (images, features or statistics)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--metrics", args->metrics,
                  "metrics to compute: inception_score, fid, sfid, precision, recall, all")
      ->delimiter(',');
  cmd->add_option("--out", args->out,
                  "metrics.json path (default: beside SAMPLES; never overwritten: -2, -3, ...)");
  add_evaluator_flags(cmd, args->flags, /*with_distances=*/true);
  cmd->add_option("overrides", args->flags.overrides, "evaluator.key=value overrides");
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace sagbench::cli
