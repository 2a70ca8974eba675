// libFuzzer target for the restricted unpickler (src/io/pickle.cpp): parses
// the input as a sequence of pickles (one object pickle, or the five pickles
// that open a legacy torch.save file) and walks every node it built. Any
// sagbench::Error is a correct rejection; a crash, sanitizer report, leak or
// timeout is a finding. Built with -DSAGBENCH_FUZZ=ON (clang), run by
// scripts/fuzz.sh. Needs no LibTorch: only pickle*.cpp and core/error.cpp.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "io/pickle.h"

namespace {

using sagbench::io::pickle::Value;

// Touches every field a caller might read, through the memo's shared nodes.
std::size_t walk(const sagbench::io::pickle::Document& doc) {
  std::size_t total = sagbench::io::pickle::describe(doc.root()).size();
  for (const Value* item : doc.root().items) {
    total += sagbench::io::pickle::describe(*item).size();
  }
  for (const auto& [key, value] : doc.root().entries) {
    total += sagbench::io::pickle::describe(*key).size() + sagbench::io::pickle::describe(*value).size();
  }
  return total + doc.node_count();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sagbench::io::pickle::UnpickleOptions options;
  options.source = "fuzz-input";
  // Smaller bounds than the defaults keep each run fast; the code paths are the same.
  options.max_nodes = std::size_t{1} << 16;
  options.max_stack = std::size_t{1} << 14;
  options.max_memo = std::size_t{1} << 14;
  options.persistent_load = [](const Value& pid) -> std::int64_t {
    if (pid.kind != sagbench::io::pickle::ValueKind::kTuple) {
      throw sagbench::Error(sagbench::ErrorKind::kFormat, "persistent id is not a tuple");
    }
    return static_cast<std::int64_t>(pid.items.size());
  };
  sagbench::io::pickle::MemoryInput in(data, size);
  try {
    for (int i = 0; i < 5 && in.remaining() > 0; ++i) {
      const sagbench::io::pickle::Document doc = sagbench::io::pickle::unpickle(in, options);
      volatile std::size_t sink = walk(doc);
      (void)sink;
    }
  } catch (const sagbench::Error&) {
    // A clean rejection of bad input.
  }
  return 0;
}
