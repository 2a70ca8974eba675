// `sagbench run EXPERIMENT.yaml [key=value ...]`: every configuration of an
// experiment, sampled in seed-range shards by all ranks, merged, evaluated
// (distributed/runner.h). Launched alone, or by `mpirun -np N` / `srun` (one
// process per GPU or CPU slot; docs/distributed.md has the recipes).
// Rank 0 also writes samples_grid.png (the first 64 samples) per configuration.
// Tested with real processes by tests/distributed/process_test.cpp.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/sample_grid.h"
#include "config/document.h"
#include "core/error.h"
#include "core/log.h"
#include "core/provenance.h"
#include "distributed/communicator.h"
#include "distributed/experiment.h"
#include "distributed/parallel_eval.h"
#include "distributed/producer_factory.h"
#include "distributed/runner.h"

namespace sagbench::cli {
namespace {

struct RunArgs {
  std::string experiment;
  std::vector<std::string> overrides;
  std::vector<std::string> only;
};

// samples_grid.png beside each merged npz that has none yet (PNG needs OpenCV).
void write_grids(const std::vector<distributed::ConfigurationOutcome>& outcomes) {
  if (!can_write_png()) {
    SAG_LOG_WARN("this build has no OpenCV: no samples_grid.png");
    return;
  }
  for (const distributed::ConfigurationOutcome& outcome : outcomes) {
    const std::string grid = outcome.run_dir + "/samples_grid.png";
    if (!outcome.samples_path.empty() && !std::filesystem::exists(grid)) {
      write_sample_grid(outcome.samples_path, grid, 64, 8, 2);
    }
  }
}

void run_command(const RunArgs& args) {
  logging::set_rank_from_environment();
  distributed::Experiment experiment;
  try {
    experiment = distributed::load_experiment(args.experiment, args.overrides);
  } catch (const Error&) {
    // Every rank reads the same file and fails alike: rank 0 alone reports it.
    if (logging::rank() != 0) {
      throw CLI::RuntimeError(2);
    }
    throw;
  }
  std::unique_ptr<distributed::Communicator> comm =
      distributed::make_communicator(experiment.settings.backend);
  std::unique_ptr<distributed::ProducerFactory> factory =
      distributed::make_producer_factory(experiment.settings.producer);
  distributed::RunOptions options;
  options.only = args.only;
  auto evaluator = std::make_shared<distributed::ParallelEvaluator>();
  options.evaluate = [evaluator](distributed::Communicator& c, const distributed::ShardStore& store,
                                 const config::Document& document, at::Device device,
                                 const distributed::WaitPolicy& wait) {
    return evaluator->evaluate(c, store, document, device, wait);
  };
  options.evaluation_key = distributed::evaluation_key;
  std::vector<distributed::ConfigurationOutcome> outcomes;
  try {
    outcomes = distributed::run_experiment(*comm, experiment, *factory, options);
  } catch (const distributed::SharedError&) {
    const bool report = comm->rank() == 0;
    comm.reset();  // every rank is here: MPI finalizes normally
    if (!report) {
      throw CLI::RuntimeError(2);
    }
    throw;
  } catch (const Error& e) {
    // This rank alone failed (e.g. its disk is full): the others cannot go on.
    if (comm->world_size() > 1) {
      SAG_LOG_ERROR("{}: {}; aborting every rank", error_kind_name(e.kind()), e.what());
      comm->abort(2);
    }
    throw;
  }
  if (comm->rank() == 0) {
    write_grids(outcomes);
    std::fputs(distributed::format_outcomes(outcomes).c_str(), stdout);
    std::fflush(stdout);
  }
}

}  // namespace

void register_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run an experiment YAML: every configuration sampled in seed-range shards (resumable), merged into "
      "samples_NxHxWxC.npz and evaluated, each in <output_dir>/<name>/<configuration>.\n"
      "Example: mpirun -np 8 sagbench run experiments/sag_scale_sweep.yaml experiment.num_samples=10000");
  cmd->add_option("experiment", args->experiment, "experiment YAML (format: experiments/README.md)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("overrides", args->overrides,
                  "key=value overrides of the experiment file (e.g. base.seed=1)");
  // One name per --only, so that key=value overrides may follow it.
  cmd->add_option("--only", args->only, "run only this configuration (repeatable: --only a --only b)")
      ->allow_extra_args(false);
  cmd->callback([args] { run_command(*args); });
}

}  // namespace sagbench::cli
