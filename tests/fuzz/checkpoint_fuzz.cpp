// libFuzzer target for the torch.save readers (src/io/torch_checkpoint.cpp)
// beyond the value tree that pickle_fuzz covers: persistent ids, tensor
// rebuild calls, nesting, view bounds and storage reads. Each input is read
// as a legacy .pth file (pickles then raw storages), and as the data.pkl of a
// zip checkpoint whose storages "0".."3" hold 64 bytes each; both through
// load and describe. Any sagbench::Error is a clean rejection; a crash,
// sanitizer report, leak, hang or oversized allocation is a finding.
// Built with -DSAGBENCH_FUZZ=ON (clang), run by scripts/fuzz.sh.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/error.h"
#include "io/torch_checkpoint.h"
#include "io/zip_writer.h"

namespace {

std::string temp_path(const char* suffix) {
  return "/tmp/sagbench_checkpoint_fuzz_" + std::to_string(::getpid()) + suffix;
}

template <typename Fn>
void run(Fn&& fn) {
  try {
    fn();
  } catch (const sagbench::Error&) {
    // A clean rejection of bad input.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string legacy = temp_path(".pth");
  if (std::FILE* file = std::fopen(legacy.c_str(), "wb")) {
    std::fwrite(data, 1, size, file);
    std::fclose(file);
    run([&] { sagbench::io::load_torch_legacy(legacy); });
    run([&] { sagbench::io::describe_torch_legacy(legacy); });
    std::remove(legacy.c_str());
  }
  const std::string zip = temp_path(".pt");
  run([&] {
    sagbench::io::ZipWriter writer(zip);
    writer.add_entry("archive/data.pkl", data, size);
    const std::string storage(64, '\x01');
    for (const char* key : {"0", "1", "2", "3"}) {
      writer.add_entry(std::string("archive/data/") + key, storage.data(), storage.size());
    }
    writer.finish();
  });
  run([&] { sagbench::io::load_torch_zip(zip); });
  run([&] { sagbench::io::describe_torch_zip(zip); });
  std::remove(zip.c_str());
  return 0;
}
