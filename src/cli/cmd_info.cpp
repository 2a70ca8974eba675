// `sagbench info FILE`: the format, then name, dtype and shape of every
// tensor in any supported file (npy, npz, torch zip/legacy checkpoint,
// safetensors), read from headers where the format allows
// (io::describe_tensor_file), then the totals. A bad file raises
// sagbench::Error, which main prints as one line with a non-zero exit.
// Tested by tests/cli/info_test.cpp.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "io/tensor_file.h"

namespace sagbench::cli {
namespace {

std::string human_bytes(std::int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

void print_info(const std::string& path) {
  const io::TensorFileFormat format = io::detect_tensor_file_format(path);
  const std::vector<io::TensorInfo> infos = io::describe_tensor_file(path);
  std::size_t name_width = 4;
  for (const io::TensorInfo& info : infos) {
    name_width = std::max(name_width, info.name.size());
  }
  std::string out = fmt::format("{}: {}\n", path, io::tensor_file_format_name(format));
  out += fmt::format("{:<{}}  {:<8}  {}\n", "name", name_width, "dtype", "shape");
  std::int64_t elements = 0;
  std::int64_t bytes = 0;
  for (const io::TensorInfo& info : infos) {
    out += fmt::format("{:<{}}  {:<8}  [{}]\n", info.name, name_width, io::dtype_name(info.dtype),
                       fmt::join(info.shape, ", "));
    elements += info.numel();
    bytes += info.nbytes();
  }
  out += fmt::format("{} tensors, {} elements, {}\n", infos.size(), elements, human_bytes(bytes));
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void register_info(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("info", "List the tensors of a checkpoint or array file");
  cmd->footer("Example: sagbench info ../shared/fixtures/adm_tiny_uncond.pt");
  auto path = std::make_shared<std::string>();
  cmd->add_option("file", *path, "npy, npz, torch checkpoint (.pt/.pth, zip or legacy) or safetensors file")
      ->required();
  cmd->callback([path] { print_info(*path); });
}

}  // namespace sagbench::cli
