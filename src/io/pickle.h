// A restricted, safe unpickler for the pickles that torch.save writes
// (protocols 2-5): it builds a small value tree and never runs code. Globals
// are names checked against a whitelist; REDUCE/NEWOBJ of a whitelisted global
// yields an inert kObject node that the caller interprets (torch_checkpoint.cpp).
// Follows CPython's Lib/pickle.py opcode semantics. Every failure (unknown or
// forbidden opcode/global, truncation, memory bound) is a kFormat error naming
// the source, the opcode and the byte offset. Tested by tests/io/pickle_test.cpp
// and the libFuzzer target tests/fuzz/pickle_fuzz.cpp.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sagbench::io::pickle {

enum class ValueKind {
  kNone,
  kBool,
  kInt,     // fits in int64
  kBigInt,  // longer LONG1/LONG4 integers: `text` holds little-endian two's-complement bytes
  kFloat,
  kString,  // UTF-8 text (str)
  kBytes,   // bytes / bytearray
  kTuple,
  kList,
  kSet,         // set or frozenset
  kDict,        // dict or collections.OrderedDict (`ordered`)
  kGlobal,      // a whitelisted global referenced by name, `text` = "module.name"
  kObject,      // result of calling a whitelisted global: `text` = its name, `args`, `state` (BUILD)
  kPersistent,  // a persistent id resolved by the caller: `int_value` = the caller's handle
};

const char* value_kind_name(ValueKind kind);

// A node of the value tree. Nodes are owned by their Document and may be shared
// (pickle's memo), so the tree is a DAG that may even contain cycles; walkers
// must bound their depth.
struct Value {
  ValueKind kind = ValueKind::kNone;
  bool bool_value = false;  // kBool: the value; kSet: true for a frozenset
  bool ordered = false;     // kDict built by collections.OrderedDict
  std::int64_t int_value = 0;
  double float_value = 0.0;
  std::string text;
  std::vector<Value*> items;                       // kTuple, kList, kSet
  std::vector<std::pair<Value*, Value*>> entries;  // kDict, in insertion order
  Value* args = nullptr;                           // kObject: the argument tuple
  Value* state = nullptr;                          // kObject/kDict: BUILD's state, if any
};

// A short description of a value for error messages ("str 'abc'", "tuple of 3").
std::string describe(const Value& value);
// At most `max_chars` of `text` with non-printable bytes as '?', for messages.
std::string printable(const std::string& text, std::size_t max_chars = 60);

// The parsed pickle: owns every node.
class Document {
 public:
  const Value& root() const { return *root_; }
  // Byte offset just past the STOP opcode (where the next pickle or data begins).
  std::uint64_t end_offset() const { return end_offset_; }
  std::size_t node_count() const { return nodes_.size(); }

 private:
  friend class Unpickler;
  std::deque<Value> nodes_;  // a deque keeps node addresses stable as it grows
  Value* root_ = nullptr;
  std::uint64_t end_offset_ = 0;
};

// Sequential byte source for the unpickler.
class ByteInput {
 public:
  virtual ~ByteInput() = default;
  // Copies up to `bytes` bytes into dst; returns how many were available.
  virtual std::size_t read(void* dst, std::size_t bytes) = 0;
  virtual std::uint64_t offset() const = 0;
  virtual std::uint64_t remaining() const = 0;
};

class MemoryInput final : public ByteInput {
 public:
  MemoryInput(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::size_t read(void* dst, std::size_t bytes) override;
  std::uint64_t offset() const override { return pos_; }
  std::uint64_t remaining() const override { return size_ - pos_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// A file read sequentially from the start (kIo error naming the path if it
// cannot be opened); used for the legacy torch format, pickles then raw data.
class FileInput final : public ByteInput {
 public:
  explicit FileInput(const std::string& path);
  ~FileInput() override;
  FileInput(const FileInput&) = delete;
  FileInput& operator=(const FileInput&) = delete;

  std::size_t read(void* dst, std::size_t bytes) override;
  std::uint64_t offset() const override { return pos_; }
  std::uint64_t remaining() const override { return size_ - pos_; }
  // Moves forward `bytes` bytes (kFormat error naming the file past its end).
  void skip(std::uint64_t bytes);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t pos_ = 0;
};

// Maps a persistent id (the value BINPERSID pops) to a caller-defined handle;
// it throws sagbench::Error to reject the id.
using PersistentLoader = std::function<std::int64_t(const Value& pid)>;

// The globals torch.save emits for tensors and state dicts ("module.name").
const std::vector<std::string>& torch_allowed_globals();

struct UnpickleOptions {
  std::string source;  // file (and archive entry) named in error messages
  std::vector<std::string> allowed_globals = torch_allowed_globals();
  PersistentLoader persistent_load;  // empty: persistent ids are an error
  // Bounds against hostile input; real state dicts stay far below them
  // (an ADM-256 checkpoint pickle has ~20k nodes, a stack depth < 20).
  std::size_t max_nodes = std::size_t{1} << 20;  // ~128 bytes each
  std::size_t max_stack = std::size_t{1} << 20;
  std::size_t max_memo = std::size_t{1} << 20;
};

// Parses one pickle from `in` up to and including STOP.
Document unpickle(ByteInput& in, const UnpickleOptions& options);
Document unpickle(const std::uint8_t* data, std::size_t size, const UnpickleOptions& options);

}  // namespace sagbench::io::pickle
