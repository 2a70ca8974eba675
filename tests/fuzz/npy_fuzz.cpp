// libFuzzer target for the array-file readers. Each input is given to the npy
// header parser (src/io/npy.cpp), then read as an .npy file, an .npz file, a
// .safetensors file, and as the one "x.npy" entry of a valid stored ZIP (so
// the npy parser and data reads also run behind ZipReader's streams); the
// seeds are .npy files. Any sagbench::Error is a correct rejection; a crash,
// sanitizer report, leak, hang or oversized allocation is a finding.
// Built with -DSAGBENCH_FUZZ=ON (clang), run by scripts/fuzz.sh.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/error.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/safetensors.h"
#include "io/zip_writer.h"

namespace {

const std::string& temp_path() {
  static const std::string path = "/tmp/sagbench_npy_fuzz_" + std::to_string(::getpid());
  return path;
}

void write_raw(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return;
  }
  std::fwrite(data, 1, size, file);
  std::fclose(file);
}

// Reads every array whole and in two row ranges, as callers do.
void read_npz_everything(const std::string& path) {
  sagbench::io::NpzReader reader(path);
  for (const std::string& name : reader.names()) {
    const at::Tensor whole = reader.read(name);
    const sagbench::io::NpyHeader& header = reader.header(name);
    if (!header.fortran_order && !header.shape.empty()) {
      const std::int64_t half = header.shape[0] / 2;
      reader.read_rows(name, half, header.shape[0] - half);
      reader.read_rows(name, 0, half);
    }
  }
}

}  // namespace

// Runs one reader; a sagbench::Error is a clean rejection of bad input.
template <typename Fn>
void run(Fn&& fn) {
  try {
    fn();
  } catch (const sagbench::Error&) {
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = temp_path();
  run([&] { sagbench::io::parse_npy_header(data, size, "fuzz-input"); });
  write_raw(path, data, size);
  run([&] { sagbench::io::read_npy(path); });
  run([&] { read_npz_everything(path); });
  run([&] { sagbench::io::read_safetensors(path); });
  run([&] {
    sagbench::io::ZipWriter writer(path);
    writer.add_entry("x.npy", data, size);
    writer.finish();
    read_npz_everything(path);
  });
  std::remove(path.c_str());
  return 0;
}
