// Evaluator options of the evaluation commands (see eval_options.h).
#include "cli/eval_options.h"

#include <CLI/CLI.hpp>
#include <filesystem>

#include "config/config.h"
#include "core/error.h"

namespace sagbench::cli {

void add_evaluator_flags(CLI::App* cmd, EvaluatorFlags& flags, bool with_distances) {
  cmd->add_option("--config", flags.config,
                  "YAML file with an `evaluator:` section, e.g. configs/evaluators/adm.yaml")
      ->check(CLI::ExistingFile);
  cmd->add_option(
      "--weights", flags.weights,
      "Inception weights: pytorch-fid's pt_inception-2015-12-05-6726825d.pth (evaluator.weights)");
  cmd->add_option("--mode", flags.mode, "preprocessing: adm | pytorch-fid (default adm)")
      ->check(CLI::IsMember({"adm", "pytorch-fid"}));
  cmd->add_option("--device", flags.device, "cpu, cuda or cuda:N (default cpu)");
  cmd->add_option("--precision", flags.precision,
                  "network arithmetic: fp32 (default, TF32 off) | tf32 | fp16")
      ->check(CLI::IsMember({"fp32", "tf32", "fp16"}));
  cmd->add_option("--batch-size", flags.batch_size, "images per forward pass (default 64)")
      ->check(CLI::PositiveNumber);
  if (with_distances) {
    cmd->add_option("--distance-precision", flags.distance_precision,
                    "precision/recall distances: fp32 (default) | fp16 (ADM's GPU path) | fp64")
        ->check(CLI::IsMember({"fp32", "fp16", "fp64"}));
  }
  cmd->add_option("--cache", flags.cache_dir, "feature cache directory (default: no cache)");
}

eval::EvaluatorConfig resolve_evaluator_config(const EvaluatorFlags& flags) {
  const config::Document document =
      flags.config.empty() ? config::parse_document("evaluator: {}", "<defaults>", flags.overrides)
                           : config::load_document(flags.config, flags.overrides);
  eval::EvaluatorConfig c = config::bind<eval::EvaluatorConfig>(document, "evaluator");
  auto set = [](std::string& field, const std::string& flag) {
    if (!flag.empty()) {
      field = flag;
    }
  };
  set(c.weights, flags.weights);
  set(c.mode, flags.mode);
  set(c.device, flags.device);
  set(c.precision, flags.precision);
  set(c.distance_precision, flags.distance_precision);
  set(c.cache_dir, flags.cache_dir);
  if (flags.batch_size > 0) {
    c.batch_size = flags.batch_size;
  }
  c.validate();
  return c;
}

std::string unused_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) {
    return path;
  }
  const fs::path p(path);
  for (int n = 2;; ++n) {
    const fs::path candidate =
        p.parent_path() / (p.stem().string() + "-" + std::to_string(n) + p.extension().string());
    if (!fs::exists(candidate)) {
      return candidate.string();
    }
  }
}

}  // namespace sagbench::cli
