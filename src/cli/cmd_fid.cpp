// `sagbench fid A B`: FID (and with --sfid the sFID) between two image,
// feature or statistics npz files, with the ADM evaluator's semantics
// (statistics in a file are used when present). Prints the numbers.
// Tested by tests/cli/eval_commands_test.cpp.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/eval_options.h"
#include "core/error.h"
#include "evaluation/evaluator.h"

namespace sagbench::cli {
namespace {

struct FidArgs {
  std::string a, b;
  bool sfid = false;
  EvaluatorFlags flags;
};

void run_fid(const FidArgs& args) {
  const eval::EvaluatorConfig config = resolve_evaluator_config(args.flags);
  eval::LazyExtractor extractor(config);
  eval::InputNeeds needs;
  needs.pool_statistics = true;
  needs.spatial_statistics = args.sfid;
  const eval::ResolvedInput a = eval::resolve_input(args.a, "A", needs, extractor);
  const eval::ResolvedInput b = eval::resolve_input(args.b, "B", needs, extractor);
  if (a.features && b.features) {
    SAG_REQUIRE(a.features->same_extractor(*b.features), kConfig,
                "features of {} ({}) and of {} ({}) come from different extractors", args.a,
                a.features->describe_extractor(), args.b, b.features->describe_extractor());
  }
  std::string out = fmt::format("A: {} ({})\nB: {} ({})\n", args.a, a.pool_statistics_source, args.b,
                                b.pool_statistics_source);
  const eval::FrechetResult fid =
      eval::frechet_distance(*a.pool_statistics, *b.pool_statistics, "pool_3 statistics of " + args.a,
                             "pool_3 statistics of " + args.b);
  out += fmt::format("fid   {:.6f}\n", fid.distance);
  if (args.sfid) {
    const eval::FrechetResult sfid =
        eval::frechet_distance(*a.spatial_statistics, *b.spatial_statistics,
                               "spatial statistics of " + args.a, "spatial statistics of " + args.b);
    out += fmt::format("sfid  {:.6f}\n", sfid.distance);
  }
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void register_fid(CLI::App& app) {
  auto args = std::make_shared<FidArgs>();
  CLI::App* cmd = app.add_subcommand("fid", "FID between two image, feature or statistics npz files");
  cmd->footer(
      "Example: sagbench fid samples.npz VIRTUAL_imagenet256_labeled.npz --weights pt_inception.pth --sfid");
  cmd->add_option("a", args->a, "first npz (images, features or statistics)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("b", args->b, "second npz (images, features or statistics)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("--sfid", args->sfid, "also the sFID (spatial features / mu_s, sigma_s)");
  add_evaluator_flags(cmd, args->flags, /*with_distances=*/false);
  cmd->add_option("overrides", args->flags.overrides, "evaluator.key=value overrides");
  cmd->callback([args] { run_fid(*args); });
}

}  // namespace sagbench::cli
