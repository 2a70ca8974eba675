// The sagbench application: global options (--log-level, --quiet, --threads,
// --version), every subcommand (commands.h), and the error handling that turns
// a sagbench::Error into one clear line on stderr with a non-zero exit.
// Global options are applied before any subcommand runs and may be given
// before or after the subcommand. Tested by tests/cli/app_test.cpp.
#include "cli/app.h"

#include <ATen/Parallel.h>
#include <sched.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "core/blas_kernels.h"
#include "core/build_info.h"
#include "core/error.h"
#include "core/log.h"
#include "core/provenance.h"
#include "distributed/launch.h"

namespace sagbench::cli {
namespace {

constexpr const char* kFooter = R"(Configuration: each command reads YAML (with `include: other.yaml`), then
`key.path=value` arguments override any key, e.g. `model.channel_mult=1,2,3,4`.
Unknown keys and wrong types are errors naming the file and line.

Example:
  sagbench info ../shared/fixtures/adm_tiny_uncond.pt   # list the tensors of a checkpoint
  sagbench --log-level debug --threads 8 <command> ...  # global options go before or after <command>

Run `sagbench <command> --help` for the options of a command.)";

struct GlobalOptions {
  std::string log_level = "info";
  bool quiet = false;
  int threads = 0;
};

// The intra-op thread count when --threads is 0. A process started alone uses
// every core its affinity mask allows: LibTorch's OpenMP default can be 1 on
// VMs whose /proc/cpuinfo lists fewer processors than the scheduler grants.
// Under OMP_NUM_THREADS or a launcher (several ranks share a node) LibTorch's
// own default stays.
int default_threads() {
  if (std::getenv("OMP_NUM_THREADS") != nullptr || distributed::detect_launch().launcher != "none") {
    return 0;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
}

std::string version_text() {
  return "sagbench " + version_line() + "\nLibTorch " + libtorch_version();
}

void add_global_options(CLI::App& app, GlobalOptions& options) {
  app.set_version_flag("--version", version_text, "Print the version, git commit and LibTorch version");
  app.add_option("--log-level", options.log_level, "Log level")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_flag("-q,--quiet", options.quiet,
               "Warnings and errors only, no progress lines (same as --log-level warn)");
  app.add_option("--threads", options.threads,
                 "LibTorch intra-op threads (0: every core this process may run on; under mpirun/srun or "
                 "OMP_NUM_THREADS, LibTorch's default)")
      ->check(CLI::NonNegativeNumber);
  // Runs after parsing and before the subcommand's callback.
  app.parse_complete_callback([&options] {
    logging::set_level(options.quiet ? logging::Level::kWarn : logging::parse_level(options.log_level));
    const int threads = options.threads > 0 ? options.threads : default_threads();
    if (threads > 0) {
      at::set_num_threads(threads);
    }
  });
}

}  // namespace

int run_app(int argc, char** argv) {
  set_command_line(argc, argv);
  register_provenance_source("openblas", [] {
    const char* forced = std::getenv("OPENBLAS_CORETYPE");
    return nlohmann::json{{"core", openblas_core()}, {"OPENBLAS_CORETYPE", forced != nullptr ? forced : ""}};
  });
  logging::set_rank_from_environment();
  CLI::App app{"sagbench: Self-Attention Guidance research harness"};
  app.option_defaults()->always_capture_default();
  app.fallthrough();  // inherited by subcommands: global options may follow them
  app.require_subcommand(1);
  app.footer(kFooter);
  GlobalOptions options;
  add_global_options(app, options);
  register_info(app);
  register_sample(app);
  register_eval(app);
  register_ref(app);
  register_fid(app);
  register_features(app);
  register_run(app);
  register_merge(app);
  register_report(app);
  register_train(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fprintf(stderr, "sagbench: %s: %s\n", error_kind_name(e.kind()), e.what());
    return 2;
  } catch (const std::exception& e) {  // e.g. a LibTorch error: its first line is the message
    const std::string what = e.what();
    std::fprintf(stderr, "sagbench: unexpected error: %s\n", what.substr(0, what.find('\n')).c_str());
    return 3;
  }
  return 0;
}

}  // namespace sagbench::cli
