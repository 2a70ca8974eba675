// The provenance record written with every result (provenance.json): argv,
// working directory, git commit and dirty state, compiler, C++ standard,
// LibTorch version and build config, CUDA runtime/cuDNN versions, GPU names,
// host, UTC date, thread counts, precision flags (TF32, cuDNN benchmark,
// deterministic algorithms) and the rank/world size. Subsystems add sections
// (e.g. NCCL and MPI versions) with register_provenance_source.
// Tested by tests/core/provenance_test.cpp.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sagbench {

// Records the command line (called once by main / the CLI).
void set_command_line(int argc, const char* const* argv);
const std::vector<std::string>& command_line();

// Adds `section` to every later record, computed when the record is collected.
void register_provenance_source(const std::string& section, std::function<nlohmann::json()> source);

// The record, as of now.
nlohmann::json collect_provenance();

// "1.13.0" (the LibTorch this binary was compiled against).
std::string libtorch_version();

// "2026-01-31T12:34:56Z".
std::string utc_timestamp();

}  // namespace sagbench
