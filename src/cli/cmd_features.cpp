// `sagbench features IMAGES.npz --out FEATURES.npz`: pool_3, spatial, logits
// and unbiased logits of every image of an npz array, streamed in batches,
// written with a description of the extractor (network, weights sha256,
// preprocessing, precision) so that features of different networks are never
// mixed later. Tested by tests/cli/eval_commands_test.cpp.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/eval_options.h"
#include "core/error.h"
#include "evaluation/evaluator.h"

namespace sagbench::cli {
namespace {

struct FeaturesArgs {
  std::string images;
  std::string array = "arr_0";
  std::string out;
  EvaluatorFlags flags;
};

void run_features(const FeaturesArgs& args) {
  SAG_REQUIRE(!std::filesystem::exists(args.out), kIo, "{} exists; features are never overwritten", args.out);
  const eval::EvaluatorConfig config = resolve_evaluator_config(args.flags);
  eval::LazyExtractor extractor(config);
  const eval::FeatureSet features = eval::cached_npz_features(args.images, args.array, extractor.get(),
                                                              config.batch_size, config.cache_dir);
  eval::write_feature_npz(args.out, features);
  std::fputs(fmt::format("{} features of {} ({}) -> {}\n", features.count, args.images,
                         features.provenance.describe_extractor(), args.out)
                 .c_str(),
             stdout);
}

}  // namespace

void register_features(CLI::App& app) {
  auto args = std::make_shared<FeaturesArgs>();
  CLI::App* cmd =
      app.add_subcommand("features", "Write the Inception features (pool, spatial, logits) of an image npz");
  cmd->footer("Example: sagbench features samples.npz --out samples_features.npz --weights pt_inception.pth");
  cmd->add_option("images", args->images, "image npz (N x H x W x 3 uint8)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--array", args->array, "array of the npz holding the images");
  cmd->add_option("--out", args->out, "output npz")->required();
  add_evaluator_flags(cmd, args->flags, /*with_distances=*/false);
  cmd->add_option("overrides", args->flags.overrides, "evaluator.key=value overrides");
  cmd->callback([args] { run_features(*args); });
}

}  // namespace sagbench::cli
