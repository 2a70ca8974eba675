// The provenance record (see provenance.h). Only LibTorch API present in both
// 1.13 and 2.x is used: torch::cuda::is_available/device_count, the global
// Context's flags, the CUDA hooks' version queries (called only when ATen has
// CUDA) and at::show_config(). GPU names come from the NVIDIA driver's /proc
// entries, so no CUDA header is needed here.
#include "core/provenance.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <sys/utsname.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "core/build_info.h"
#include "core/log.h"

namespace sagbench {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::mutex g_mutex;
std::vector<std::string> g_command_line;                 // guarded by g_mutex
std::map<std::string, std::function<json()>> g_sources;  // guarded by g_mutex

std::string compiler_name() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "unknown";
#endif
}

// CUDA runtime versions are major*1000 + minor*10 (12010 = 12.1).
std::string cudart_version_text(long version) {
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

// cuDNN < 9 encodes major*1000 + minor*100 + patch, cuDNN >= 9 major*10000 + minor*100 + patch.
std::string cudnn_version_text(long version) {
  const long major_scale = version >= 90000 ? 10000 : 1000;
  return std::to_string(version / major_scale) + "." + std::to_string((version % major_scale) / 100) + "." +
         std::to_string(version % 100);
}

// "NVIDIA H100 80GB HBM3" per GPU, from the driver's /proc entries (empty without the driver).
json driver_gpus() {
  json gpus = json::array();
  std::error_code ec;
  const fs::path root("/proc/driver/nvidia/gpus");
  if (!fs::is_directory(root, ec)) {
    return gpus;
  }
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    entries.push_back(entry.path());
  }
  std::sort(entries.begin(), entries.end());  // bus ids, the order nvidia-smi uses
  for (const fs::path& entry : entries) {
    std::ifstream in(entry / "information");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("Model:", 0) == 0) {
        const size_t start = line.find_first_not_of(" \t", 6);
        gpus.push_back({{"bus_id", entry.filename().string()},
                        {"name", start == std::string::npos ? "" : line.substr(start)}});
      }
    }
  }
  return gpus;
}

std::string first_line_of(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

json cuda_section() {
  json cuda = {{"compiled", at::globalContext().hasCUDA()}, {"available", torch::cuda::is_available()}};
  cuda["device_count"] = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  if (at::globalContext().hasCUDA()) {
    try {
      const long runtime = at::detail::getCUDAHooks().versionCUDART();
      cuda["runtime_version"] = cudart_version_text(runtime);
    } catch (const std::exception& e) {
      cuda["runtime_version"] = std::string("unavailable: ") + e.what();
    }
    if (at::globalContext().hasCuDNN()) {
      try {
        cuda["cudnn_version"] = cudnn_version_text(at::detail::getCUDAHooks().versionCuDNN());
      } catch (const std::exception& e) {
        cuda["cudnn_version"] = std::string("unavailable: ") + e.what();
      }
    }
  }
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  cuda["visible_devices"] = visible != nullptr ? json(visible) : json(nullptr);
  const std::string driver = first_line_of("/proc/driver/nvidia/version");
  cuda["driver"] = driver.empty() ? json(nullptr) : json(driver);
  cuda["gpus"] = driver_gpus();
  return cuda;
}

json precision_section() {
  at::Context& context = at::globalContext();
  return {{"allow_tf32_cublas", context.allowTF32CuBLAS()},
          {"allow_tf32_cudnn", context.allowTF32CuDNN()},
          {"cudnn_enabled", context.userEnabledCuDNN()},
          {"cudnn_benchmark", context.benchmarkCuDNN()},
          {"deterministic_algorithms", context.deterministicAlgorithms()}};
}

json host_section() {
  char hostname[256] = {};
  ::gethostname(hostname, sizeof(hostname) - 1);
  struct utsname system {};
  ::uname(&system);
  return {{"hostname", hostname},
          {"os", std::string(system.sysname) + " " + system.release + " " + system.machine},
          {"hardware_threads", std::thread::hardware_concurrency()}};
}

// The BLAS and LAPACK libraries this process mapped, resolved through
// Debian's alternatives (reference BLAS and OpenBLAS give other speeds and
// last-bit results): from /proc/self/maps, empty where that is unreadable.
json math_libraries_section() {
  std::ifstream maps("/proc/self/maps");
  std::vector<std::string> libraries;
  std::string line;
  while (std::getline(maps, line)) {
    const std::size_t slash = line.find('/');
    if (slash == std::string::npos) {
      continue;
    }
    const std::string path = line.substr(slash);
    const std::string name = fs::path(path).filename().string();
    if (name.find("blas") == std::string::npos && name.find("lapack") == std::string::npos &&
        name.find("mkl") == std::string::npos) {
      continue;
    }
    std::error_code ec;
    const fs::path resolved = fs::canonical(path, ec);
    const std::string entry = ec ? path : resolved.string();
    if (std::find(libraries.begin(), libraries.end(), entry) == libraries.end()) {
      libraries.push_back(entry);
    }
  }
  return libraries;
}

}  // namespace

void set_command_line(int argc, const char* const* argv) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_command_line.assign(argv, argv + argc);
}

const std::vector<std::string>& command_line() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_command_line;
}

void register_provenance_source(const std::string& section, std::function<json()> source) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sources[section] = std::move(source);
}

std::string libtorch_version() {
  return TORCH_VERSION;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

json collect_provenance() {
  json record;
  record["sagbench_version"] = version();
  record["date_utc"] = utc_timestamp();
  std::map<std::string, std::function<json()>> sources;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    record["argv"] = g_command_line;
    sources = g_sources;
  }
  std::error_code ec;
  record["cwd"] = fs::current_path(ec).string();
  const std::optional<bool> dirty = git_dirty();
  record["git"] = {{"sha", git_sha()}, {"dirty", dirty.has_value() ? json(*dirty) : json(nullptr)}};
#ifdef NDEBUG
  const bool assertions = false;
#else
  const bool assertions = true;
#endif
  record["build"] = {{"compiler", compiler_name()},
                     {"cxx_standard", static_cast<int64_t>(__cplusplus)},
                     {"assertions", assertions},
                     {"libtorch", libtorch_version()},
                     {"libtorch_config", at::show_config()}};
  record["host"] = host_section();
  record["threads"] = {{"intra_op", at::get_num_threads()}, {"inter_op", at::get_num_interop_threads()}};
  record["math_libraries"] = math_libraries_section();
  record["cuda"] = cuda_section();
  record["precision"] = precision_section();
  record["world"] = {{"rank", logging::rank()}, {"size", logging::world_size()}};
  for (const auto& [section, source] : sources) {
    record[section] = source();
  }
  return record;
}

}  // namespace sagbench
