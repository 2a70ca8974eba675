// The subcommands of the sagbench binary, one file each (cmd_<name>.cpp).
// Every register_* function adds its subcommand, flags and callback to `app`.
#pragma once

namespace CLI {
class App;
}

namespace sagbench::cli {

void register_info(CLI::App& app);      // cmd_info.cpp: list tensors of any supported file
void register_sample(CLI::App& app);    // cmd_sample.cpp: sample a preset + checkpoint
void register_eval(CLI::App& app);      // cmd_eval.cpp: metrics of samples against a reference
void register_ref(CLI::App& app);       // cmd_ref.cpp: reference statistics from images
void register_fid(CLI::App& app);       // cmd_fid.cpp: FID between two image/feature/stat files
void register_features(CLI::App& app);  // cmd_features.cpp: write Inception features
void register_run(CLI::App& app);       // cmd_run.cpp: a whole experiment (distributed)
void register_merge(CLI::App& app);     // cmd_merge.cpp: merge sample shards
void register_report(CLI::App& app);    // cmd_report.cpp: tables and plots of run dirs
void register_train(CLI::App& app);     // cmd_train.cpp: train the bundled models

}  // namespace sagbench::cli
